/**
 * Which cluster the Kubernetes state store writes to, from its settings:
 * - `store.kubeconfig`: a kubeconfig file;
 * - `store.secretDir`: a directory laid out as a mounted Secret whose key `kubeconfig` holds
 *   one (as Kratix and SKE mount credentials);
 * - neither: KUBECONFIG, ~/.kube/config, then the in-cluster service account (a pod's token
 *   and CA) — the usual case when vigil runs on the platform cluster itself.
 * `store.context` picks a context of the kubeconfig. Errors name the setting.
 */
import { join } from 'node:path';
import { Kube, loadKubeConfig } from '../../kubernetes/client.js';

export interface KubernetesStoreConnectionSettings {
  kubeconfig?: string;
  secretDir?: string;
  context?: string;
}

export interface KubernetesStoreConnection {
  kube: Kube;
  /** The setting that chose the cluster, for error messages (no secrets). */
  connection: string;
}

export function connectKubernetesStore(settings: KubernetesStoreConnectionSettings): KubernetesStoreConnection {
  if (settings.kubeconfig !== undefined && settings.secretDir !== undefined) {
    throw new Error('store.kubeconfig: set store.kubeconfig or store.secretDir (key kubeconfig), not both');
  }
  let field: string;
  let file: string | undefined;
  if (settings.kubeconfig !== undefined) {
    field = 'store.kubeconfig';
    file = settings.kubeconfig;
  } else if (settings.secretDir !== undefined) {
    field = 'store.secretDir';
    file = join(settings.secretDir, 'kubeconfig');
  } else {
    field = 'store.kubeconfig';
  }
  const kc = loadKubeConfig(file !== undefined ? { kubeconfig: file } : {}, field);
  if (settings.context !== undefined) {
    if (!kc.getContextObject(settings.context)) throw new Error(`store.context: context "${settings.context}" is not in the kubeconfig${file !== undefined ? ` ${file}` : ''}`);
    kc.setCurrentContext(settings.context);
    if (!kc.getCurrentCluster()) throw new Error(`store.context: context "${settings.context}" names no cluster of the kubeconfig`);
  }
  const source = settings.kubeconfig !== undefined
    ? `store.kubeconfig (${settings.kubeconfig})`
    : settings.secretDir !== undefined
      ? `store.secretDir (key kubeconfig in ${settings.secretDir})`
      : 'store.kubeconfig (not set: KUBECONFIG, ~/.kube/config or the in-cluster service account)';
  const connection = settings.context !== undefined ? `${source}, store.context "${settings.context}"` : source;
  return { kube: new Kube(kc), connection };
}
