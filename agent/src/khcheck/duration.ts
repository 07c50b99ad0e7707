/**
 * Go durations (Kuberhealthy's `runInterval` and `timeout`) and the rule that turns a
 * run interval into a cron schedule. Pure.
 *
 * The rule (ADR 0025): a cron schedule is only an honest replacement for "every N" when it
 * fires at exactly N apart, forever. Cron steps restart at the top of each field's range,
 * so `*\/7 * * * *` fires at :56 and then :00 (4 minutes apart). Therefore:
 * - whole minutes only (cron's resolution): a sub-minute or fractional interval is rejected;
 * - N minutes with N dividing 60 → `*\/N * * * *` (`* * * * *` for 1m);
 * - N hours with N dividing 24 → `0 *\/N * * *` (`0 * * * *` for 1h, `0 0 * * *` for 24h);
 * - 7 days → `0 0 * * 0` (weekly);
 * - anything else is rejected, naming the nearest intervals that can be expressed.
 */

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3,
  'μs': 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Parses a Go duration string (`1h30m`, `90s`, `1.5h`, `300ms`) into milliseconds; throws with a reason. */
export function parseGoDuration(text: string): number {
  const s = text.trim();
  if (s === '0') return 0;
  if (!/^([0-9]*(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+$/.test(s) || s === '') {
    throw new Error(`${JSON.stringify(text)} is not a Go duration (examples: 30s, 5m, 1h30m)`);
  }
  let ns = 0;
  for (const m of s.matchAll(/([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)/g)) {
    const value = Number(m[1]);
    if (m[1] === '' || m[1] === '.' || !Number.isFinite(value)) throw new Error(`${JSON.stringify(text)} is not a Go duration (examples: 30s, 5m, 1h30m)`);
    ns += value * UNIT_NS[m[2]!]!;
  }
  return ns / 1e6;
}

/** `1h30m`-style text for a whole number of milliseconds (for messages). */
export function formatDuration(ms: number): string {
  if (ms % 60_000 !== 0) return `${ms / 1000}s`;
  const minutes = ms / 60_000;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${h > 0 ? `${h}h` : ''}${m > 0 || h === 0 ? `${m}m` : ''}`;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Every interval the rule can express, in milliseconds, ascending. */
export const EXPRESSIBLE_INTERVALS: readonly number[] = [
  ...[1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30].map((m) => m * MINUTE),
  ...[1, 2, 3, 4, 6, 8, 12, 24].map((h) => h * HOUR),
  7 * DAY,
];

/** The cron schedule firing exactly every `ms`, or an Error explaining why there is none. */
export function intervalToCron(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) throw new Error('must be a positive duration');
  if (ms % MINUTE !== 0) {
    throw new Error(`${formatDuration(ms)} is not a whole number of minutes; cron's resolution is one minute${suggest(ms)}`);
  }
  const minutes = ms / MINUTE;
  if (minutes === 1) return '* * * * *';
  if (minutes < 60 && 60 % minutes === 0) return `*/${minutes} * * * *`;
  if (minutes % 60 === 0) {
    const hours = minutes / 60;
    if (hours === 1) return '0 * * * *';
    if (hours === 24) return '0 0 * * *';
    if (hours < 24 && 24 % hours === 0) return `0 */${hours} * * *`;
    if (hours === 168) return '0 0 * * 0';
  }
  throw new Error(
    `no cron schedule fires exactly every ${formatDuration(ms)}: a minute step must divide 60, an hour step must divide 24 (or be 168h)${suggest(ms)}`,
  );
}

function suggest(ms: number): string {
  let below: number | undefined;
  let above: number | undefined;
  for (const x of EXPRESSIBLE_INTERVALS) {
    if (x < ms) below = x;
    else if (x > ms && above === undefined) above = x;
  }
  const options = [below, above].filter((x): x is number => x !== undefined).map(formatDuration);
  return options.length > 0 ? `; the nearest that can be expressed: ${options.join(' or ')}` : '';
}
