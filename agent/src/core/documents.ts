/**
 * From the text of a manifest file to accepted HealthDefinitions and per-object problems.
 * Shared by the directory source and the CLI (`vigil validate`, `vigil run`). Handles
 * multi-document streams and `kind: List` / `HealthDefinitionList`; other kinds are
 * skipped. Pure.
 */
import type { HealthDefinition } from './model.js';
import type { SourceProblem } from './interfaces.js';
import { issue, type Issue } from './issues.js';
import { parseYamlDocuments, YamlError, type YamlLimits } from './yaml.js';
import { isHealthDefinitionDocument, type DefinitionValidator } from './definition.js';
import { isMapping } from './pipeline.js';

export interface AcceptedDefinition {
  definition: HealthDefinition;
  key: string;
  warnings: Issue[];
}

export interface ManifestContents {
  accepted: AcceptedDefinition[];
  problems: SourceProblem[];
  /** Documents of other kinds that were skipped (for information). */
  skipped: { location: string; kind: string }[];
  /** True when the whole stream could not be read (nothing in it can be trusted). */
  unreadable: boolean;
}

export interface ManifestOptions {
  validator: DefinitionValidator;
  defaultNamespace?: string;
  limits?: Partial<YamlLimits>;
}

export function definitionsFromText(text: string, options: ManifestOptions): ManifestContents {
  const out: ManifestContents = { accepted: [], problems: [], skipped: [], unreadable: false };
  let docs;
  try {
    docs = parseYamlDocuments(text, options.limits);
  } catch (err) {
    if (!(err instanceof YamlError)) throw err;
    out.unreadable = true;
    out.problems.push({ object: 'file', issues: [issue('error', '', err.message)] });
    return out;
  }
  const seen = new Map<string, string>();
  for (const doc of docs) {
    const location = docs.length > 1 ? `document ${doc.index + 1} (line ${doc.line})` : `document (line ${doc.line})`;
    if (doc.error !== undefined) {
      out.problems.push({ object: location, issues: [issue('error', '', doc.error)] });
      continue;
    }
    const items = listItems(doc.value);
    items.forEach((value, i) => {
      const where = items.length > 1 || isList(doc.value) ? `${location} items[${i}]` : location;
      if (!isHealthDefinitionDocument(value)) {
        if (value !== null && value !== undefined) out.skipped.push({ location: where, kind: isMapping(value) && typeof value.kind === 'string' ? value.kind : '(no kind)' });
        return;
      }
      const check = options.validator.check(value, options.defaultNamespace !== undefined ? { defaultNamespace: options.defaultNamespace } : {});
      const object = check.key ?? (check.object === '<unnamed>' || check.object === '<document>' ? where : check.object);
      if (check.definition && check.key) {
        const earlier = seen.get(check.key);
        if (earlier !== undefined) {
          out.problems.push({ object, key: check.key, issues: [issue('error', 'metadata.name', `duplicate definition ${check.key}: already defined in ${earlier} of this file`)] });
          return;
        }
        seen.set(check.key, where);
        out.accepted.push({ definition: check.definition, key: check.key, warnings: check.issues });
      } else {
        out.problems.push({ object, ...(check.key ? { key: check.key } : {}), issues: check.issues });
      }
    });
  }
  return out;
}

function isList(v: unknown): v is { items: unknown[] } {
  return isMapping(v) && typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items);
}

function listItems(v: unknown): unknown[] {
  return isList(v) ? v.items : [v];
}
