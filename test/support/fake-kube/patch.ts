/**
 * The patch formats the API server accepts:
 * - application/json-patch+json (RFC 6902: add, remove, replace, move, copy, test),
 * - application/merge-patch+json (RFC 7386),
 * - application/strategic-merge-patch+json: approximated as a merge patch in which lists of
 *   objects that all carry a `name` (containers, env, volumes, ports...) merge item by item by
 *   name, and `$patch: delete` on such an item removes it. Other lists are replaced.
 * - application/apply-patch+yaml (server-side apply): approximated as a strategic merge of the
 *   applied configuration into the live object. Field ownership (managedFields, conflicts between
 *   managers) is not tracked; see docs/adr/0010.
 */

export class PatchError extends Error {
  constructor(message: string, readonly status: 400 | 422 = 422) {
    super(message);
  }
}

type Json = unknown;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) Reflect.deleteProperty(out, k);
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function namedList(v: unknown): v is Record<string, unknown>[] {
  return Array.isArray(v) && v.every((i) => isObject(i) && typeof i.name === 'string');
}

/** Strategic merge patch, approximated (see the module comment). */
export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k.startsWith('$setElementOrder/') || k.startsWith('$retainKeys') || k.startsWith('$deleteFromPrimitiveList/')) continue;
    if (v === null) {
      Reflect.deleteProperty(out, k);
    } else if (namedList(v) && namedList(out[k])) {
      const merged = (out[k]).map((i) => clone(i));
      for (const item of v) {
        const idx = merged.findIndex((m) => m.name === item.name);
        if (item.$patch === 'delete') {
          if (idx >= 0) merged.splice(idx, 1);
        } else if (idx >= 0) merged[idx] = strategicMergePatch(merged[idx], item) as Record<string, unknown>;
        else merged.push(strategicMergePatch({}, item) as Record<string, unknown>);
      }
      out[k] = merged;
    } else {
      out[k] = strategicMergePatch(out[k], v);
    }
  }
  return out;
}

interface Op {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer ${JSON.stringify(pointer)}`);
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function getAt(doc: unknown, segs: string[]): unknown {
  let cur = doc;
  for (const s of segs) {
    if (Array.isArray(cur)) cur = cur[Number(s)];
    else if (isObject(cur)) cur = cur[s];
    else return undefined;
  }
  return cur;
}

function parentOf(doc: unknown, segs: string[], pointer: string): { parent: unknown; key: string } {
  if (segs.length === 0) throw new PatchError(`cannot operate on the document root (${pointer})`);
  const parent = getAt(doc, segs.slice(0, -1));
  if (!isObject(parent) && !Array.isArray(parent)) throw new PatchError(`doc is missing path: ${pointer}`);
  return { parent, key: segs[segs.length - 1]! };
}

function arrayIndex(arr: unknown[], key: string, pointer: string, forInsert: boolean): number {
  if (key === '-' && forInsert) return arr.length;
  if (!/^\d+$/.test(key)) throw new PatchError(`invalid array index ${JSON.stringify(key)} in ${pointer}`);
  const i = Number(key);
  if (i > arr.length || (!forInsert && i === arr.length)) throw new PatchError(`index out of range in ${pointer}`);
  return i;
}

function add(doc: unknown, pointer: string, value: unknown): unknown {
  const segs = parsePointer(pointer);
  if (segs.length === 0) return clone(value);
  const { parent, key } = parentOf(doc, segs, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, pointer, true), 0, clone(value));
  else (parent as Record<string, unknown>)[key] = clone(value);
  return doc;
}

function remove(doc: unknown, pointer: string): unknown {
  const segs = parsePointer(pointer);
  const { parent, key } = parentOf(doc, segs, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, pointer, false), 1);
  else {
    if (!Object.hasOwn(parent as object, key)) throw new PatchError(`unable to remove nonexistent key: ${key}: missing value`);
    Reflect.deleteProperty(parent as object, key);
  }
  return doc;
}

/** RFC 6902 JSON patch. */
export function jsonPatch(target: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch must be a list of operations', 400);
  let doc = clone(target);
  for (const raw of ops as Op[]) {
    if (!isObject(raw) || typeof raw.path !== 'string') throw new PatchError('each JSON patch operation needs "op" and "path"', 400);
    switch (raw.op) {
      case 'add':
        doc = add(doc, raw.path, raw.value);
        break;
      case 'remove':
        doc = remove(doc, raw.path);
        break;
      case 'replace': {
        const segs = parsePointer(raw.path);
        if (segs.length > 0 && getAt(doc, segs) === undefined) throw new PatchError(`replace operation does not apply: doc is missing key: ${raw.path}`);
        if (segs.length > 0) doc = remove(doc, raw.path);
        doc = add(doc, raw.path, raw.value);
        break;
      }
      case 'move':
      case 'copy': {
        if (typeof raw.from !== 'string') throw new PatchError(`${raw.op} needs "from"`, 400);
        const value = getAt(doc, parsePointer(raw.from));
        if (value === undefined) throw new PatchError(`${raw.op} operation does not apply: doc is missing from path: ${raw.from}`);
        if (raw.op === 'move') doc = remove(doc, raw.from);
        doc = add(doc, raw.path, value);
        break;
      }
      case 'test': {
        const value = getAt(doc, parsePointer(raw.path));
        if (JSON.stringify(value) !== JSON.stringify(raw.value)) throw new PatchError(`testing value ${raw.path} failed`);
        break;
      }
      default:
        throw new PatchError(`Unexpected kind: ${raw.op}`, 400);
    }
  }
  return doc;
}
