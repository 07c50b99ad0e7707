/**
 * Turns what @kubernetes/client-node throws while the Kubernetes state store talks to the
 * cluster into one clear sentence naming the setting to fix:
 * - the connection setting (`store.kubeconfig`, `store.secretDir` key kubeconfig, or the
 *   in-cluster service account) for an unreachable server, TLS failures, 401 and 403;
 * - `store.namespace` (or the record's namespace) for a namespace that does not exist;
 * - the HealthRecord CRD for a resource the server does not serve.
 * Never includes credentials (client-node's messages carry none; request headers are not read).
 */
import { ApiException } from '@kubernetes/client-node';
import { parseStatus } from '../../kubernetes/client.js';

/** What the error concerns, for the message. */
export interface KubeStoreErrorContext {
  /** The API server URL. */
  server: string;
  /** The setting that chose the cluster and credentials, e.g. `store.kubeconfig (/etc/vigil/kubeconfig)`. */
  connection: string;
  /** What was being done, e.g. `create HealthRecord team-a/web-edge`. */
  operation: string;
  /** The namespace written to, and whether it came from store.namespace. */
  namespace?: string;
  namespaceFromSetting?: boolean;
}

/** An API answer, as far as the store branches on it. */
export interface ApiAnswer {
  /** HTTP status; undefined when no answer came back (connection refused, TLS, timeout). */
  code: number | undefined;
  reason: string | undefined;
  message: string;
  /** Status.details: name and kind (plural) of the object a 404/409 is about. */
  details: { name?: string; kind?: string; group?: string };
  /** The system error code of a transport failure (ECONNREFUSED, CERT_HAS_EXPIRED, ...). */
  sysCode: string | undefined;
  /** The 404 came from discovery: the API group or the kind is not served (CRD not installed). */
  notServed: boolean;
}

const TLS = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|ERR_SSL|EPROTO|wrong version number/i;

/** Parses whatever a client-node call threw. */
export function apiAnswer(err: unknown): ApiAnswer {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof ApiException) {
    const status = parseStatus((err as ApiException<unknown>).body);
    const code = (err as ApiException<unknown>).code;
    return {
      code,
      reason: status?.reason,
      message: oneLine(status?.message ?? `HTTP ${code}`),
      details: status?.details ?? {},
      sysCode: undefined,
      notServed: code === 404 && message.startsWith('Failed to fetch resource metadata'),
    };
  }
  if (/^Unrecognized API version and kind/.test(message)) {
    return { code: 404, reason: 'NotFound', message, details: {}, sysCode: undefined, notServed: true };
  }
  return { code: undefined, reason: undefined, message: oneLine(message), details: {}, sysCode: systemCode(err), notServed: false };
}

/** True when a 404 says the object itself does not exist (not its namespace, not its resource type). */
export function isObjectNotFound(answer: ApiAnswer, name: string): boolean {
  return answer.code === 404 && !answer.notServed && answer.details.name === name && answer.details.kind === 'healthrecords';
}

export function describeKubeStoreError(err: unknown, ctx: KubeStoreErrorContext): Error {
  const a = apiAnswer(err);
  const wrap = (text: string): Error => new Error(text, { cause: err });
  const where = ctx.server;
  if (a.code === undefined) {
    const sys = a.sysCode ?? '';
    if (TLS.test(sys) || /certificate|ssl|tls/i.test(a.message)) {
      return wrap(`${ctx.connection}: TLS with the Kubernetes API server ${where} failed (${sys || a.message}); check the cluster's certificate-authority-data or insecure-skip-tls-verify`);
    }
    return wrap(`${ctx.connection}: cannot reach the Kubernetes API server ${where}: ${sys || a.message}${sys && !a.message.includes(sys) ? ` (${a.message})` : ''}`);
  }
  if (a.code === 401) {
    return wrap(`${ctx.connection}: the Kubernetes API server ${where} rejected the credentials (401 Unauthorized) when trying to ${ctx.operation}`);
  }
  if (a.code === 403) {
    return wrap(`${ctx.connection}: the identity is not allowed to ${ctx.operation} at ${where} (403 Forbidden: ${a.message}); grant get, list, create, update and delete on healthrecords.platform.kratix.io`);
  }
  if (a.code === 404 && a.details.kind === 'namespaces') {
    const ns = a.details.name ?? ctx.namespace ?? '?';
    return wrap(ctx.namespaceFromSetting
      ? `store.namespace: namespace "${ns}" does not exist in the cluster at ${where}; create it (vigil does not create namespaces)`
      : `namespace "${ns}" (the definition's namespace, where its record goes) does not exist in the cluster at ${where}; create it, or set store.namespace to a namespace that exists`);
  }
  if (a.code === 404 && (a.notServed || a.details.name === undefined)) {
    return wrap(`${ctx.connection}: the cluster at ${where} does not serve platform.kratix.io/v1alpha1 HealthRecord; install the HealthRecord CRD (Kratix, or agent/manifests/crds/platform.kratix.io_healthrecords.yaml)`);
  }
  if (a.code === 422) {
    return wrap(`kubernetes store ${where}: the API server refused to ${ctx.operation} (422 Invalid: ${a.message})`);
  }
  if (a.code >= 500) {
    return wrap(`kubernetes store ${where}: the server failed to ${ctx.operation} (HTTP ${a.code}${a.reason ? ` ${a.reason}` : ''}: ${a.message})`);
  }
  return wrap(`kubernetes store ${where}: cannot ${ctx.operation} (HTTP ${a.code}${a.reason ? ` ${a.reason}` : ''}: ${a.message})`);
}

function systemCode(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let depth = 0; depth < 5 && cur !== null && typeof cur === 'object'; depth++) {
    const c = cur as { code?: unknown; errno?: unknown; cause?: unknown };
    if (typeof c.code === 'string' && c.code !== '') return c.code;
    if (typeof c.errno === 'string' && c.errno !== '') return c.errno;
    cur = c.cause;
  }
  return undefined;
}

function oneLine(text: string): string {
  const line = text.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
