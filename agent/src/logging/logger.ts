/**
 * The one pino logger. JSON by default; pretty when stdout is a terminal (or
 * VIGIL_LOG_PRETTY=1). Secrets are redacted by path wherever they appear.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

/** Paths whose values never reach a log line. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'bearer_token',
  '*.bearer_token',
  '*.bearerToken',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.secretAccessKey',
  '*.accessKeyID',
  '*.sshPrivateKey',
  '*.privateKey',
  '*.auth',
  'env',
  '*.env',
  'secret',
  '*.secret',
];

export interface LoggerSettings {
  level?: string;
  /** Force pretty output on (true) or off (false); default: pretty when stdout is a TTY. */
  pretty?: boolean;
  /** Write to this destination instead of stdout (tests). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(settings: LoggerSettings = {}): Logger {
  const level = settings.level ?? process.env.LOG_LEVEL ?? 'info';
  const envPretty = process.env.VIGIL_LOG_PRETTY;
  const pretty =
    settings.pretty ?? (envPretty !== undefined ? envPretty === '1' || envPretty === 'true' : process.stdout.isTTY);
  const options: LoggerOptions = {
    level,
    base: { name: 'vigil' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (settings.destination) return pino(options, settings.destination as pino.DestinationStream);
  if (pretty) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name' } },
    });
  }
  return pino(options);
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
