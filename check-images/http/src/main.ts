/**
 * Entry point of the `ghcr.io/vigil-health/check-http` image (and of the local
 * process vigil maps that image to): config -> probes -> health-status.yaml.
 */
import { runCheck } from '../../sdk/src/index.js';
import { loadHttpCheckConfig, runHttpCheck } from './check.js';

await runCheck(async ({ signal }) => runHttpCheck(await loadHttpCheckConfig(), { signal }));
