/**
 * Running a Promise pipeline container as Kratix would, as a real process: the compiled
 * `dist/promises/<promise>/src/main.js` (built by `npm run build`) with an input directory holding
 * the resource request as `object.yaml`, empty output and metadata directories, and the KRATIX_* env.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments, parse, stringify } from 'yaml';
import { getDefinitionValidator } from '../../agent/src/crds.js';
import { SchemaValidator } from '../../agent/src/core/schema.js';
import type { Issue } from '../../agent/src/core/issues.js';
import { distFile, makeTempDir, repoRoot, spawnNode, type Spawned } from '../check-images/helpers.js';
import { referenceSchema } from '../support/reference-crds.js';

export const PROMISES = ['aws-rds', 'web-app', 'kubevirt-vm'] as const;
export type PromiseName = (typeof PROMISES)[number];

export const mainOf = (promise: PromiseName): string => `promises/${promise}/src/main.js`;

export interface PipelineRun extends Spawned {
  dir: string;
  /** Output files by name, each parsed into its documents. */
  outputs: Record<string, Record<string, any>[]>;
  /** The raw text of each output file. */
  texts: Record<string, string>;
  /** `<metadata>/status.yaml`, parsed, when written. */
  status?: Record<string, any>;
  /** The pino JSON lines of stderr. */
  logs: Record<string, any>[];
}

export interface RunOptions {
  env?: Record<string, string>;
  /** A status.yaml an earlier container of the pipeline wrote. */
  previousStatus?: string;
}

/** Runs `promise`'s pipeline on `request` (an object, or the text of object.yaml) in a fresh directory. */
export async function runPipeline(promise: PromiseName, request: unknown, opts: RunOptions = {}): Promise<PipelineRun> {
  const dir = await makeTempDir('vigil-promise-');
  for (const sub of ['input', 'output', 'metadata']) await mkdir(join(dir, sub));
  await writeFile(join(dir, 'input', 'object.yaml'), typeof request === 'string' ? request : stringify(request));
  if (opts.previousStatus !== undefined) await writeFile(join(dir, 'metadata', 'status.yaml'), opts.previousStatus);
  const result = await spawnNode([distFile(mainOf(promise))], {
    env: {
      KRATIX_INPUT_DIR: join(dir, 'input'),
      KRATIX_OUTPUT_DIR: join(dir, 'output'),
      KRATIX_METADATA_DIR: join(dir, 'metadata'),
      KRATIX_WORKFLOW_ACTION: 'configure',
      KRATIX_WORKFLOW_TYPE: 'resource',
      KRATIX_PROMISE_NAME: promise,
      ...opts.env,
    },
  });
  const outputs: PipelineRun['outputs'] = {};
  const texts: PipelineRun['texts'] = {};
  for (const file of (await readdir(join(dir, 'output'))).sort()) {
    texts[file] = await readFile(join(dir, 'output', file), 'utf8');
    outputs[file] = parseAllDocuments(texts[file]).map((d) => {
      if (Array.isArray(d)) throw new Error(`${file}: YAML error`);
      return d.toJS() as Record<string, any>;
    });
  }
  let status: Record<string, any> | undefined;
  try {
    status = parse(await readFile(join(dir, 'metadata', 'status.yaml'), 'utf8')) as Record<string, any>;
  } catch {
    status = undefined;
  }
  const logs = result.stderr
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, any>);
  return { ...result, dir, outputs, texts, ...(status ? { status } : {}), logs };
}

/** The example request shipped with a Promise (`promises/<promise>/resource-request.yaml`). */
export async function exampleRequest(promise: PromiseName): Promise<Record<string, any>> {
  return parse(await readFile(join(repoRoot, 'promises', promise, 'resource-request.yaml'), 'utf8')) as Record<string, any>;
}

const ske = new SchemaValidator(referenceSchema('ske-health-agent-crds.yaml', 'HealthDefinition'));

/** Errors (and pruned-field warnings) of a HealthDefinition under vigil's validator and the SKE CRD schema. */
export function definitionProblems(definition: unknown): { vigil: Issue[]; ske: Issue[] } {
  const vigil = getDefinitionValidator().check(definition).issues;
  const skeIssues = ske.validate(structuredClone(definition));
  return { vigil, ske: skeIssues };
}
