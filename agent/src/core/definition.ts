/**
 * Turning an untrusted document into a HealthDefinition: the CRD schema (defaults,
 * types, required fields, pruning), object identity, the schedule and time zone, the
 * workflow. Every problem names the field. Pure.
 */
import { API_VERSION, HEALTH_DEFINITION_KIND, definitionKey, type HealthDefinition } from './model.js';
import { issue, hasErrors, type Issue } from './issues.js';
import { SchemaValidator, describeValue, type StructuralSchema } from './schema.js';
import { dns1123LabelProblem, dns1123SubdomainProblem } from './naming.js';
import { validatePipeline, isMapping } from './pipeline.js';
import { parseSchedule, ScheduleError } from './schedule/index.js';
import { parseYamlDocument } from './yaml.js';

export interface DefinitionCheck {
  /** The accepted definition (defaults applied, unknown fields pruned); absent when there are errors. */
  definition?: HealthDefinition;
  /** `namespace/name` when the object could be identified, for messages and keys. */
  object: string;
  key?: string;
  issues: Issue[];
}

export interface DefinitionCheckOptions {
  /** Namespace given to objects that have none (like kubectl's current namespace). */
  defaultNamespace?: string;
}

/** True when the document declares itself a HealthDefinition (any apiVersion). */
export function isHealthDefinitionDocument(doc: unknown): boolean {
  return isMapping(doc) && doc.kind === HEALTH_DEFINITION_KIND;
}

export class DefinitionValidator {
  private readonly schema: SchemaValidator;

  constructor(crdSchema: StructuralSchema) {
    this.schema = new SchemaValidator(crdSchema);
  }

  /** Validates one document. Never throws: problems come back as issues. */
  check(raw: unknown, options: DefinitionCheckOptions = {}): DefinitionCheck {
    if (!isMapping(raw)) {
      return { object: '<document>', issues: [issue('error', '', `expected a HealthDefinition mapping, got ${describeValue(raw)}`)] };
    }
    const doc = structuredClone(raw);
    const issues: Issue[] = [];
    const { object, key } = identify(doc, options, issues);

    if (doc.apiVersion !== API_VERSION) {
      issues.push(issue('error', 'apiVersion', `${JSON.stringify(doc.apiVersion)} is not supported; use "${API_VERSION}"`));
    }
    if (doc.kind !== HEALTH_DEFINITION_KIND) {
      issues.push(issue('error', 'kind', `expected "${HEALTH_DEFINITION_KIND}", got ${JSON.stringify(doc.kind)}`));
    }
    issues.push(...this.schema.validate(doc));

    const spec = isMapping(doc.spec) ? doc.spec : undefined;
    if (spec) {
      if (typeof spec.schedule === 'string') {
        try {
          parseSchedule(spec.schedule, typeof spec.timeZone === 'string' ? spec.timeZone : undefined);
        } catch (err) {
          if (!(err instanceof ScheduleError)) throw err;
          issues.push(issue('error', err.field === 'timeZone' ? 'spec.timeZone' : 'spec.schedule', err.message));
        }
      }
      if (typeof spec.input === 'string' && spec.input.trim() !== '') {
        try {
          parseYamlDocument(spec.input, { maxBytes: 1024 * 1024 });
        } catch (err) {
          issues.push(issue('warning', 'spec.input', `is not a single valid YAML document (${(err as Error).message}); it is passed to the check as is`));
        }
      }
      issues.push(...validatePipeline(spec.workflow));
    }

    if (hasErrors(issues)) return { object, ...(key ? { key } : {}), issues };
    return { definition: doc as unknown as HealthDefinition, object, ...(key ? { key } : {}), issues };
  }
}

function identify(doc: Record<string, unknown>, options: DefinitionCheckOptions, issues: Issue[]): { object: string; key?: string } {
  if (doc.metadata === undefined) doc.metadata = {};
  if (!isMapping(doc.metadata)) {
    issues.push(issue('error', 'metadata', `must be a mapping, got ${describeValue(doc.metadata)}`));
    return { object: '<unnamed>' };
  }
  const meta = doc.metadata;
  if (meta.namespace === undefined || meta.namespace === null || meta.namespace === '') meta.namespace = options.defaultNamespace ?? 'default';
  const ns = meta.namespace;
  const name = meta.name;
  let ok = true;
  if (typeof ns !== 'string') {
    issues.push(issue('error', 'metadata.namespace', `must be a string, got ${describeValue(ns)}`));
    ok = false;
  } else {
    const problem = dns1123LabelProblem(ns);
    if (problem) {
      issues.push(issue('error', 'metadata.namespace', problem));
      ok = false;
    }
  }
  if (name === undefined || name === null || name === '') {
    issues.push(issue('error', 'metadata.name', 'required field is missing'));
    ok = false;
  } else if (typeof name !== 'string') {
    issues.push(issue('error', 'metadata.name', `must be a string, got ${describeValue(name)}`));
    ok = false;
  } else {
    const problem = dns1123SubdomainProblem(name);
    if (problem) {
      issues.push(issue('error', 'metadata.name', problem));
      ok = false;
    }
  }
  if (!ok) {
    const label = typeof name === 'string' && name ? `${typeof ns === 'string' ? ns : '?'}/${name}` : '<unnamed>';
    return { object: label };
  }
  const key = definitionKey({ namespace: ns as string, name: name as string });
  return { object: key, key };
}
