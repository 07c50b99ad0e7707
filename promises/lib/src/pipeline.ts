/**
 * The `main` of a Promise pipeline container, Kratix's contract (kratix.md §3): read the resource
 * request from `<input>/object.yaml`, write the objects to schedule into `<output>/`, and
 * optionally merge fields into the request's status through `<metadata>/status.yaml`.
 * `KRATIX_INPUT_DIR`, `KRATIX_OUTPUT_DIR` and `KRATIX_METADATA_DIR` override the `/kratix/*`
 * mounts for local runs. On `KRATIX_WORKFLOW_ACTION=delete` nothing is written: Kratix deletes
 * what the configure workflow scheduled.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { stringify } from 'yaml';
import { isPlainObject, metadataDir, outputDir, readInput } from '../../../check-images/sdk/src/index.js';
import { parseYamlText } from '../../../check-images/sdk/src/yaml.js';

export const ACTION_ENV = 'KRATIX_WORKFLOW_ACTION';
export const TYPE_ENV = 'KRATIX_WORKFLOW_TYPE';
export const STATUS_FILE = 'status.yaml';

/** One file of the output directory: one or more Kubernetes objects. */
export interface OutputFile {
  /** A plain file name (no directory), e.g. `health-definition.yaml`. */
  name: string;
  documents: Record<string, unknown>[];
}

export interface PipelineResult {
  files: OutputFile[];
  /** Fields merged into `<metadata>/status.yaml` (Kratix merges that file into the request's status). */
  status?: Record<string, unknown>;
}

export interface PipelineContext {
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
}

export type Generate = (request: Record<string, unknown>, ctx: PipelineContext) => PipelineResult | Promise<PipelineResult>;

export interface RunPipelineOptions {
  /** Ends the process (default process.exit); injectable for tests. */
  exit?: (code: number) => void;
  logger?: Logger;
}

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Runs `generate` on the request and writes its output. Exit 0 when done (or on delete), 1 with the error logged. */
export async function runPipeline(name: string, generate: Generate, opts: RunPipelineOptions = {}): Promise<void> {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const logger = opts.logger ?? pino({ base: { pipeline: name } }, pino.destination({ fd: 2, sync: true }));
  try {
    const action = process.env[ACTION_ENV] ?? 'configure';
    const type = process.env[TYPE_ENV];
    if (type !== undefined && type !== '' && type !== 'resource') {
      throw new Error(`${TYPE_ENV} is "${type.slice(0, 20)}": this container belongs in a resource workflow (spec.workflows.resource)`);
    }
    if (action === 'delete') {
      logger.info({ action }, 'delete: nothing to write (Kratix removes what the configure workflow scheduled)');
      exit(0);
      return;
    }
    if (action !== 'configure') throw new Error(`${ACTION_ENV} must be configure or delete, found "${action.slice(0, 20)}"`);

    const request = await readInput();
    const result = await generate(request, { env: process.env, logger });
    const dir = outputDir();
    for (const file of result.files) {
      const path = await writeAtomically(dir, file.name, file.documents.map((d) => stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n'));
      logger.info({ file: path, objects: file.documents.map(describeObject) }, `wrote ${file.name}`);
    }
    if (result.status) await mergeStatus(result.status);
    exit(0);
  } catch (err) {
    logger.error({ error: (err as Error).name }, (err as Error).message);
    exit(1);
  }
}

/** Writes `<dir>/<name>` through a temporary file and a rename, so no reader ever sees half a file. */
export async function writeAtomically(dir: string, name: string, text: string): Promise<string> {
  if (!FILE_NAME.test(name)) throw new Error(`output file name "${name.slice(0, 40)}" is not a plain file name`);
  const target = join(dir, name);
  const temp = join(dir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, text, { flag: 'wx', mode: 0o644 });
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw new Error(`cannot write ${target}: ${(err as Error).message}`, { cause: err });
  }
  return target;
}

/**
 * Merges `fields` into `<metadata>/status.yaml`, keeping what an earlier container of the same
 * pipeline wrote there (the marketplace RDS container writes instanceStatus and instanceIdentifier).
 */
async function mergeStatus(fields: Record<string, unknown>): Promise<void> {
  const dir = metadataDir();
  let current: Record<string, unknown> = {};
  try {
    const parsed = parseYamlText(await readFile(join(dir, STATUS_FILE), 'utf8'));
    if (isPlainObject(parsed)) current = parsed;
    else if (parsed !== null) throw new Error(`${join(dir, STATUS_FILE)}: written by an earlier container, is not a mapping`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await writeAtomically(dir, STATUS_FILE, stringify({ ...current, ...fields }, { lineWidth: 0 }));
}

function describeObject(doc: Record<string, unknown>): string {
  const meta = isPlainObject(doc.metadata) ? doc.metadata : {};
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  return `${text(doc.kind)} ${text(meta.namespace)}/${text(meta.name)}`;
}
