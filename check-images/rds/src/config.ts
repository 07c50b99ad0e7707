/**
 * The RDS check's configuration: which instance, in which region, through which
 * endpoint and with which credentials. Every value can come from the check's config
 * (`rds` in the input), the input object itself (the identifier of the marketplace
 * aws-rds Promise is computed from the resource request) or the environment.
 * Errors name the field; no message repeats a credential.
 */
import { CheckConfigError, describeType, isPlainObject, loadCheckConfig, readInput, type ConfigIssue } from '../../sdk/src/index.js';

/** The config key, in the input object or its `spec`. */
export const RDS_CHECK_KEY = 'rds';
export const IDENTIFIER_ENV = 'RDS_INSTANCE_IDENTIFIER';
export const DEFAULT_TIMEOUT_SECONDS = 10;
export const MAX_TIMEOUT_SECONDS = 300;
export const DEFAULT_MAX_ATTEMPTS = 3;
/** The marketplace aws-rds Promise's default engine (its CRD default). */
export const DEFAULT_ENGINE = 'mysql';

const FIELDS = ['identifier', 'region', 'endpoint', 'timeout', 'max_attempts'];
/** RDS DB instance identifiers: 1 to 63 letters, digits or hyphens, starting with a letter. */
const IDENTIFIER = /^[A-Za-z][A-Za-z0-9-]{0,62}$/;

export type Env = Readonly<Record<string, string | undefined>>;

export interface RdsCheckConfig {
  identifier: string;
  /** Where the identifier came from. */
  identifierFrom: 'config' | 'env' | 'input';
  /** Undefined: the SDK's own region chain (shared config file, profile). */
  region?: string;
  /** Undefined: the SDK's default endpoint (which itself honours AWS_ENDPOINT_URL_RDS in the process env). */
  endpoint?: string;
  timeoutMs: number;
  maxAttempts: number;
  /** Static credentials from the check's environment; undefined: the SDK's default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * Builds the configuration from the `rds` value (may be undefined), the input object and
 * an environment (the process's for the image, the container's for the in-process
 * plugin). First match wins:
 * - identifier: `rds.identifier`, `RDS_INSTANCE_IDENTIFIER`, then
 *   `<metadata.name>-<metadata.namespace>-<spec.engine>` of the input (engine default mysql);
 * - region: `rds.region`, `region` or `spec.region` of the input, `AWS_REGION`, `AWS_DEFAULT_REGION`;
 * - endpoint: `rds.endpoint`, `AWS_ENDPOINT_URL_RDS`, `AWS_ENDPOINT_URL`;
 * - credentials: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`), else the default chain.
 */
export function resolveRdsCheckConfig(raw: unknown, input: Record<string, unknown>, env: Env, path = RDS_CHECK_KEY): RdsCheckConfig {
  const issues: ConfigIssue[] = [];
  let cfg: Record<string, unknown> = {};
  if (isPlainObject(raw)) cfg = raw;
  else if (raw !== undefined && raw !== null) issues.push({ path, message: `must be a mapping, found ${describeType(raw)}` });
  for (const key of Object.keys(cfg)) {
    if (!FIELDS.includes(key)) issues.push({ path: `${path}.${key}`, message: `unknown field (known: ${FIELDS.join(', ')})` });
  }

  const identifier = resolveIdentifier(cfg.identifier, input, env, path, issues);
  const region = text(cfg.region, `${path}.region`, issues) ?? inputRegion(input) ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
  if (region !== undefined && !/^[a-z]{2}(-[a-z0-9]+)+-\d+$/.test(region)) {
    issues.push({ path: `${path}.region`, message: 'must be an AWS region such as eu-west-1' });
  }
  const endpoint = text(cfg.endpoint, `${path}.endpoint`, issues) ?? nonEmpty(env.AWS_ENDPOINT_URL_RDS) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  if (endpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(endpoint)) {
    issues.push({ path: `${path}.endpoint`, message: 'must be an http(s) URL' });
  }
  const timeout = number(cfg.timeout, `${path}.timeout`, issues, { min: 0.001, max: MAX_TIMEOUT_SECONDS }) ?? DEFAULT_TIMEOUT_SECONDS;
  const maxAttempts = number(cfg.max_attempts, `${path}.max_attempts`, issues, { min: 1, max: 10, integer: true }) ?? DEFAULT_MAX_ATTEMPTS;
  if (issues.length > 0 || identifier === undefined) throw new CheckConfigError(issues);

  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  const sessionToken = nonEmpty(env.AWS_SESSION_TOKEN);
  return {
    ...identifier,
    ...(region !== undefined ? { region } : {}),
    ...(endpoint !== undefined ? { endpoint } : {}),
    timeoutMs: Math.round(timeout * 1000),
    maxAttempts,
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } } : {}),
  };
}

/** Reads `rds` (VIGIL_CHECK_CONFIG, input, input.spec) and the input, then resolves with the process env. */
export async function loadRdsCheckConfig(): Promise<RdsCheckConfig> {
  const raw = await loadCheckConfig(RDS_CHECK_KEY);
  const input = await readInput({ missingOk: true });
  return resolveRdsCheckConfig(raw, input, process.env);
}

function resolveIdentifier(
  value: unknown,
  input: Record<string, unknown>,
  env: Env,
  path: string,
  issues: ConfigIssue[],
): Pick<RdsCheckConfig, 'identifier' | 'identifierFrom'> | undefined {
  const given = text(value, `${path}.identifier`, issues);
  const check = (id: string, field: string): string | undefined => {
    if (IDENTIFIER.test(id)) return id;
    issues.push({ path: field, message: 'must be 1 to 63 letters, digits or hyphens, starting with a letter (an RDS DB instance identifier)' });
    return undefined;
  };
  if (given !== undefined) {
    const id = check(given, `${path}.identifier`);
    return id === undefined ? undefined : { identifier: id, identifierFrom: 'config' };
  }
  const fromEnv = nonEmpty(env[IDENTIFIER_ENV]);
  if (fromEnv !== undefined) {
    const id = check(fromEnv, IDENTIFIER_ENV);
    return id === undefined ? undefined : { identifier: id, identifierFrom: 'env' };
  }
  const metadata = isPlainObject(input.metadata) ? input.metadata : {};
  const spec = isPlainObject(input.spec) ? input.spec : {};
  const name = metadata.name;
  const namespace = metadata.namespace;
  const engine = spec.engine ?? DEFAULT_ENGINE;
  if (typeof name !== 'string' || name === '' || typeof namespace !== 'string' || namespace === '' || typeof engine !== 'string') {
    issues.push({
      path: `${path}.identifier`,
      message:
        `is required: set ${path}.identifier or ${IDENTIFIER_ENV}, or give the resource request as input ` +
        '(metadata.name, metadata.namespace and spec.engine make <name>-<namespace>-<engine>)',
    });
    return undefined;
  }
  const id = check(`${name}-${namespace}-${engine}`, 'input metadata.name-metadata.namespace-spec.engine');
  return id === undefined ? undefined : { identifier: id, identifierFrom: 'input' };
}

function inputRegion(input: Record<string, unknown>): string | undefined {
  if (typeof input.region === 'string' && input.region !== '') return input.region;
  const spec = input.spec;
  if (isPlainObject(spec) && typeof spec.region === 'string' && spec.region !== '') return spec.region;
  return undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function text(value: unknown, path: string, issues: ConfigIssue[]): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  issues.push({ path, message: 'must be a non-empty string' });
  return undefined;
}

function number(value: unknown, path: string, issues: ConfigIssue[], range: { min: number; max: number; integer?: boolean }): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < range.min || value > range.max || (range.integer && !Number.isInteger(value))) {
    issues.push({ path, message: `must be a${range.integer ? 'n integer' : ' number'} from ${range.min} to ${range.max}` });
    return undefined;
  }
  return value;
}
