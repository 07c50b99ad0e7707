/**
 * The VMI check as an in-process plugin: the same config and code as the image's main.
 *
 * - Kubernetes access: KUBECONFIG from the container's environment (a `:`-separated list is
 *   merged as kubectl does); without it, the agent process's own KUBECONFIG, ~/.kube/config
 *   or in-cluster service account apply.
 * - The disconnected-mode cache is a file (cache.ts), so it outlives a run and a restart
 *   of the agent just as it outlives the image's process: `cache_file`, else
 *   VMI_CHECK_CACHE_FILE in the container's env, else ~/.cache/vigil/vmi-<ns>-<hash>.json
 *   of the agent's user (a process run gets a per-run HOME, see ADR 0020).
 */
import { delimiter } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { defineCheckPlugin } from '../../sdk/src/index.js';
import { runVmiCheck } from './check.js';
import { parseVmiCheckConfig, VMI_CHECK_KEY } from './config.js';
import { kubeVmiApi } from './kube.js';

export const VMI_IMAGE = 'ghcr.io/vigil-health/check-vmi';

export default defineCheckPlugin({
  type: 'vmi',
  configKey: VMI_CHECK_KEY,
  images: [VMI_IMAGE],
  description: 'KubeVirt VMIs: Running and Ready, SSH reachable (auth refusal counts without a key), disconnected mode',
  run: (raw, { signal, env }) => {
    if (raw === undefined) throw new Error(`no VMI check configuration: set ${VMI_CHECK_KEY} in the HealthDefinition's input (or its spec)`);
    const config = parseVmiCheckConfig(raw, VMI_CHECK_KEY, { env: { ...env } });
    return runVmiCheck(config, { signal, api: kubeVmiApi(config.apiTimeoutMs, kubeConfigFrom(env.KUBECONFIG)) });
  },
});

/** The kubeconfig a process of the container would load: its KUBECONFIG list, else the default chain. */
export function kubeConfigFrom(kubeconfig: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  const files = (kubeconfig ?? '').split(delimiter).filter((f) => f !== '');
  if (files.length === 0) {
    kc.loadFromDefault();
    return kc;
  }
  files.forEach((file, i) => {
    const next = i === 0 ? kc : new KubeConfig();
    try {
      next.loadFromFile(file);
    } catch (err) {
      throw new Error(`KUBECONFIG: cannot load ${file}: ${(err as Error).message.split('\n', 1)[0] ?? ''}`, { cause: err });
    }
    if (next !== kc) kc.mergeConfig(next);
  });
  return kc;
}
