/**
 * Entry point of the `ghcr.io/vigil-health/check-http` image (and of the local
 * process vigil maps that image to): config -> probes (one round, or a watching run
 * when `duration` is set) -> health-status.yaml.
 */
import { runCheck } from '../../sdk/src/index.js';
import { loadHttpCheckConfig } from './check.js';
import { runHttp } from './run.js';

await runCheck(async ({ signal }) => runHttp(await loadHttpCheckConfig(), { signal }));
