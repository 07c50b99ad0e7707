/**
 * The RDS check as a function: one DescribeDBInstances call, its answer turned into a
 * state and details. Shared by the image's main and the in-process plugin. A failing
 * instance is a result, never an exception; so is an API, credential or network error
 * (`unknown` with a reason). Only an aborted signal rejects.
 */
import { DescribeDBInstancesCommand, RDSClient, type DBInstance, type RDSClientConfig } from '@aws-sdk/client-rds';
import type { CheckResult } from '../../sdk/src/index.js';
import type { RdsCheckConfig } from './config.js';
import { stateForStatus } from './states.js';

export { resolveRdsCheckConfig, loadRdsCheckConfig, RDS_CHECK_KEY, type RdsCheckConfig } from './config.js';
export { stateForStatus, type StatusVerdict } from './states.js';

const MAX_MESSAGE_CHARS = 300;

/** Why a check could not tell the instance's state (`details.reason` of an unknown result). */
export type RdsUnknownReason =
  | 'Creating'
  | 'UnrecognisedStatus'
  | 'Throttling'
  | 'AccessDenied'
  | 'InvalidCredentials'
  | 'NoCredentials'
  | 'NoRegion'
  | 'Unreachable'
  | 'Timeout'
  | 'ApiError';

export interface RunRdsCheckOptions {
  /** Aborting cancels the call; runRdsCheck then rejects with the abort reason. */
  signal?: AbortSignal;
  /** Builds the client (tests may add middleware); default `new RDSClient(config)`. */
  client?: (config: RDSClientConfig) => RDSClient;
}

/**
 * Describes the configured instance. States: see stateForStatus; not found → unhealthy;
 * throttling, access denied, bad or missing credentials, unreachable endpoint, timeout or
 * any other API error → unknown with `details.reason` and `details.message`.
 */
export async function runRdsCheck(config: RdsCheckConfig, opts: RunRdsCheckOptions = {}): Promise<CheckResult> {
  const base = { identifier: config.identifier, ...(config.region ? { region: config.region } : {}) };
  const client = (opts.client ?? ((c) => new RDSClient(c)))({
    ...(config.region ? { region: config.region } : {}),
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
    maxAttempts: config.maxAttempts,
    requestHandler: { connectionTimeout: config.timeoutMs, requestTimeout: config.timeoutMs },
  });
  const deadline = AbortSignal.timeout(config.timeoutMs);
  const abortSignal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
  try {
    const answer = await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: config.identifier }), { abortSignal });
    const instance = answer.DBInstances?.find((i) => i.DBInstanceIdentifier === config.identifier) ?? answer.DBInstances?.[0];
    if (!instance) return notFound(base);
    return fromInstance(base, instance);
  } catch (err) {
    opts.signal?.throwIfAborted();
    if (deadline.aborted) {
      return unknown(base, 'Timeout', `no answer from RDS within ${config.timeoutMs} ms (${config.maxAttempts} attempt(s))`);
    }
    return fromError(base, err);
  } finally {
    client.destroy();
  }
}

/** The result for one DBInstance from DescribeDBInstances. Pure. */
export function fromInstance(base: Record<string, unknown>, instance: DBInstance): CheckResult {
  const status = instance.DBInstanceStatus ?? 'unknown';
  const verdict = stateForStatus(status);
  const pending = compact(instance.PendingModifiedValues as Record<string, unknown> | undefined);
  const details: Record<string, unknown> = {
    ...base,
    instanceStatus: status,
    engine: instance.Engine,
    engineVersion: instance.EngineVersion,
    ...(instance.Endpoint?.Address ? { endpoint: { address: instance.Endpoint.Address, port: instance.Endpoint.Port } } : {}),
    multiAZ: instance.MultiAZ,
    instanceClass: instance.DBInstanceClass,
    ...(pending ? { pendingModifications: pending } : {}),
  };
  if (verdict.reason !== undefined) {
    details.reason = verdict.reason;
    if (verdict.reason === 'Creating') details.message = 'the instance is still being created';
    else if (verdict.reason === 'UnrecognisedStatus') details.message = `instance status "${status}" is not one vigil maps`;
  }
  return { state: verdict.state, details: dropUndefined(details) };
}

/** The result for an error thrown by the SDK (service error, credentials, network). Pure. */
export function fromError(base: Record<string, unknown>, err: unknown): CheckResult {
  const e = err as { name?: string; Code?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const code = e.Code ?? e.name ?? 'Error';
  const message = e.message ?? String(err);
  if (code === 'DBInstanceNotFoundFault' || code === 'DBInstanceNotFound') return notFound(base, message);
  if (/^(Throttling|ThrottlingException|RequestLimitExceeded|TooManyRequestsException|RequestThrottled)$/.test(code)) {
    return unknown(base, 'Throttling', message, code);
  }
  if (/^(AccessDenied|AccessDeniedException|UnauthorizedOperation|AuthFailure)$/.test(code)) return unknown(base, 'AccessDenied', message, code);
  if (/^(InvalidClientTokenId|SignatureDoesNotMatch|ExpiredToken|ExpiredTokenException|UnrecognizedClientException|IncompleteSignature|MissingAuthenticationToken)$/.test(code)) {
    return unknown(base, 'InvalidCredentials', message, code);
  }
  if (code === 'CredentialsProviderError') return unknown(base, 'NoCredentials', 'no AWS credentials found in the default chain (env, shared files, web identity, instance metadata)');
  if (/region is missing/i.test(message)) return unknown(base, 'NoRegion', 'no AWS region: set rds.region, AWS_REGION or a profile region');
  if (e.$metadata?.httpStatusCode === undefined && (e.code !== undefined || /ECONN|ENOTFOUND|EAI_AGAIN|socket|timed? ?out/i.test(message))) {
    const reason = /timed? ?out|ETIMEDOUT/i.test(`${e.code ?? ''} ${message}`) ? 'Timeout' : 'Unreachable';
    return unknown(base, reason, `${e.code && !message.includes(e.code) ? `${e.code}: ` : ''}${message}`);
  }
  return unknown(base, 'ApiError', message, code);
}

function notFound(base: Record<string, unknown>, message?: string): CheckResult {
  return {
    state: 'unhealthy',
    details: { ...base, instanceStatus: 'not-found', reason: 'NotFound', message: clip(message ?? `DB instance ${String(base.identifier)} not found`) },
  };
}

function unknown(base: Record<string, unknown>, reason: RdsUnknownReason, message: string, code?: string): CheckResult {
  return { state: 'unknown', details: { ...base, reason, ...(code !== undefined ? { code } : {}), message: clip(message) } };
}

function compact(values: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!values) return undefined;
  const kept = Object.fromEntries(
    Object.entries(values).filter(([, v]) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0) && !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0)),
  );
  return Object.keys(kept).length > 0 ? kept : undefined;
}

function dropUndefined(details: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(details).filter(([, v]) => v !== undefined));
}

function clip(text: string): string {
  return text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS - 1)}…` : text;
}
