/**
 * Reading VirtualMachineInstances through @kubernetes/client-node's CustomObjectsApi:
 * in-cluster credentials in a pod, KUBECONFIG (or ~/.kube/config) elsewhere. Errors are
 * classified so the check can tell "the API server is unreachable" (disconnected mode may
 * fall back to the last known IPs) from "the API answered with an error" (it may not).
 */
import { ApiException, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { KUBEVIRT_GROUP, KUBEVIRT_VERSION, VMI_PLURAL } from './vmi.js';

/** What the check needs from the API; a test or the plugin may supply another one. */
export interface VmiApi {
  /** The raw `items` of a list in `namespace`, filtered by `labelSelector` on the server. */
  list(namespace: string, labelSelector: string | undefined): Promise<unknown[]>;
  /** One VMI, or undefined when it does not exist (404). */
  get(namespace: string, name: string): Promise<unknown>;
}

/** Why an API call failed: `unreachable` (network, timeout, 5xx) or `error` (the API refused: 401, 403, 404...; or the client could not make a request, e.g. an unusable kubeconfig). */
export class KubeApiError extends Error {
  constructor(
    readonly kind: 'unreachable' | 'error',
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

/** A VmiApi over the real client. `timeoutMs` bounds every call. */
export function kubeVmiApi(timeoutMs: number, kubeConfig?: KubeConfig): VmiApi {
  const kc = kubeConfig ?? defaultKubeConfig();
  const api = kc.makeApiClient(CustomObjectsApi);
  const base = { group: KUBEVIRT_GROUP, version: KUBEVIRT_VERSION, plural: VMI_PLURAL };
  return {
    async list(namespace, labelSelector) {
      const body: unknown = await bounded<unknown>(
        api.listNamespacedCustomObject({ ...base, namespace, ...(labelSelector ? { labelSelector } : {}) }),
        timeoutMs,
        `list ${VMI_PLURAL} in ${namespace}`,
      );
      const items = (body as { items?: unknown } | null)?.items;
      return Array.isArray(items) ? (items as unknown[]) : [];
    },
    async get(namespace, name) {
      try {
        return await bounded<unknown>(api.getNamespacedCustomObject({ ...base, namespace, name }), timeoutMs, `get ${VMI_PLURAL} ${namespace}/${name}`);
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) return undefined;
        throw err;
      }
    },
  };
}

/** KUBECONFIG or ~/.kube/config when present, else the pod's service account. */
function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

async function bounded<T>(call: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new KubeApiError('unreachable', `${what}: no answer from the API server within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([call, timeout]);
  } catch (err) {
    throw classify(err, what);
  } finally {
    clearTimeout(timer);
  }
}

/** Turns a client error into a KubeApiError with a short message. */
export function classify(err: unknown, what: string): KubeApiError {
  if (err instanceof KubeApiError) return err;
  if (err instanceof ApiException) {
    const status = (err as ApiException<unknown>).code;
    const reason = apiMessage((err as ApiException<unknown>).body);
    return new KubeApiError(status >= 500 ? 'unreachable' : 'error', `${what}: HTTP ${status}${reason ? `: ${reason}` : ''}`, status);
  }
  const e = err as { code?: unknown; message?: string };
  const first = (e.message ?? String(err)).split('\n', 1)[0] ?? '';
  // Network failures carry a code (ECONNREFUSED, ECONNRESET, ETIMEDOUT, a TLS code...); an error
  // without one was raised by the client before any request (e.g. an unusable kubeconfig).
  if (typeof e.code !== 'string') return new KubeApiError('error', `${what}: ${first}`);
  return new KubeApiError('unreachable', `${what}: cannot reach the API server (${e.code})`);
}

function apiMessage(body: unknown): string | undefined {
  let value: unknown = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return body.slice(0, 160);
    }
  }
  const message = (value as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message.slice(0, 160) : undefined;
}
