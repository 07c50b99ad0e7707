/**
 * Entry point of the `ghcr.io/vigil-health/check-vmi` image (and of the local process vigil
 * maps that image to): config -> VMIs -> SSH probes -> health-status.yaml.
 */
import { runCheck } from '../../sdk/src/index.js';
import { loadVmiCheckConfig, runVmiCheck } from './check.js';

await runCheck(async ({ signal }) => runVmiCheck(await loadVmiCheckConfig(), { signal }));
