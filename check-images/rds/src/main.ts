/**
 * Entry point of the `ghcr.io/vigil-health/check-rds` image (and of the local process
 * vigil maps that image to): config -> DescribeDBInstances -> health-status.yaml.
 */
import { runCheck } from '../../sdk/src/index.js';
import { loadRdsCheckConfig, runRdsCheck } from './check.js';

await runCheck(async ({ signal }) => runRdsCheck(await loadRdsCheckConfig(), { signal }));
