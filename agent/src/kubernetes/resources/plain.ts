/**
 * `@kubernetes/client-node` declares its models as classes, but the API speaks JSON and
 * vigil builds plain objects (and reads objects from watches, where times are strings).
 * `Plain<V1CronJob>` is the structural shape of a model: the same fields, no class
 * identity, and times as Date or RFC 3339 string. A class-typed object (from a typed list)
 * is assignable to it.
 */
export type Plain<T> = T extends Date
  ? Date | string
  : T extends readonly (infer U)[]
    ? Plain<U>[]
    : T extends object
      ? { [K in keyof T]: Plain<T[K]> }
      : T;

/** An object vigil creates: apiVersion, kind and a named metadata, plus any fields (JSON-compatible). */
export interface DesiredObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
  };
  [field: string]: unknown;
}

/** Checks the identity fields of a built object and returns it as a DesiredObject. */
export function desiredObject(o: { apiVersion?: string; kind?: string; metadata?: { name?: string; [field: string]: unknown } }): DesiredObject {
  if (!o.apiVersion || !o.kind || !o.metadata?.name) throw new Error(`internal: object without apiVersion, kind or name: ${JSON.stringify(o).slice(0, 200)}`);
  return o as DesiredObject;
}
