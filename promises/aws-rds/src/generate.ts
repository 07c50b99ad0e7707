/**
 * aws-rds `generate-health-check`: from an `RDS` resource request (the marketplace API) to a
 * HealthDefinition that runs vigil's RDS check every hour. The check gets the whole request as
 * its input and computes the instance identifier from it exactly as the marketplace pipeline
 * does: `<metadata.name>-<metadata.namespace>-<spec.engine>`.
 */
import { buildHealthDefinition, checkImage, HEALTH_DEFINITION_FILE, readSchedule } from '../../lib/src/health-definition.js';
import type { PipelineContext, PipelineResult } from '../../lib/src/pipeline.js';
import { parseRequest } from '../../lib/src/request.js';

export const PROMISE_NAME = 'aws-rds';
export const API = { group: 'aws.marketplace.kratix.io', kind: 'RDS' } as const;
export const ENGINES = ['mysql', 'postgres', 'mariadb'] as const;
export const SIZES = ['micro', 'small', 'medium', 'large'] as const;
/** The marketplace Promise's defaults (its CRD). */
export const DEFAULTS = { dbName: 'mydb', engine: 'mysql', size: 'micro' } as const;
export const DEFAULT_SCHEDULE = '@hourly';
export const RDS_CHECK_IMAGE = 'ghcr.io/vigil-health/check-rds:v0.1.0';
/** The marketplace pipeline's region (hard-coded there); `AWS_REGION` on this container overrides it. */
export const DEFAULT_REGION = 'eu-west-1';
/** The marketplace Promise's Secret and keys; `AWS_CREDENTIALS_SECRET` on this container names another Secret. */
export const DEFAULT_SECRET = 'aws-rds';
export const SECRET_KEYS = { accessKeyId: 'accessKeyID', secretAccessKey: 'secretAccessKey' } as const;
/** RDS DB instance identifiers: a letter, then letters, digits or hyphens, at most 63, no "--", no trailing hyphen. */
const RDS_IDENTIFIER = /^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,62}$/;
const REGION = /^[a-z]{2}(-[a-z0-9]+)+-\d+$/;

export function generate(raw: Record<string, unknown>, ctx: Pick<PipelineContext, 'env'>): PipelineResult {
  const { request, spec } = parseRequest(raw, API);
  spec.mapping('healthCheck', ['schedule']);
  const dbName = spec.string('dbName', { default: DEFAULTS.dbName });
  const engine = spec.string('engine', { default: DEFAULTS.engine, allowed: ENGINES });
  const size = spec.string('size', { default: DEFAULTS.size, allowed: SIZES });
  const schedule = readSchedule(spec, DEFAULT_SCHEDULE);
  if (engine !== undefined) {
    const identifier = `${request.metadata.name}-${request.metadata.namespace}-${engine}`;
    if (!RDS_IDENTIFIER.test(identifier) || identifier.endsWith('-')) {
      spec.issue(
        'engine',
        `metadata.name, metadata.namespace and spec.engine make the DB instance identifier "${identifier.slice(0, 80)}" ` +
          `(${identifier.length} characters), which RDS refuses: at most 63 letters, digits or hyphens, starting with a letter`,
      );
    }
  }
  spec.done();

  const region = ctx.env.AWS_REGION?.trim() || DEFAULT_REGION;
  if (!REGION.test(region)) throw new Error(`environment variable AWS_REGION must be an AWS region such as eu-west-1`);
  const secret = ctx.env.AWS_CREDENTIALS_SECRET?.trim() || DEFAULT_SECRET;
  // The request as the API server stores it: CRD defaults applied.
  Object.assign(request.spec, { dbName, engine, size });

  const definition = buildHealthDefinition({
    promise: PROMISE_NAME,
    request,
    schedule,
    input: request,
    containers: [
      {
        name: 'check-rds-status',
        image: checkImage(RDS_CHECK_IMAGE, ctx.env),
        env: [
          { name: 'AWS_REGION', value: region },
          { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: secret, key: SECRET_KEYS.accessKeyId } } },
          { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: secret, key: SECRET_KEYS.secretAccessKey } } },
        ],
      },
    ],
  });
  const metadata = definition.metadata as { name: string; namespace: string };
  return {
    files: [{ name: HEALTH_DEFINITION_FILE, documents: [definition] }],
    status: { healthDefinition: { name: metadata.name, namespace: metadata.namespace, schedule } },
  };
}
