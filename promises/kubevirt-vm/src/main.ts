/** Entry point of `ghcr.io/vigil-health/kubevirt-vm-pipeline`, the kubevirt-vm Promise's resource configure pipeline. */
import { runPipeline } from '../../lib/src/pipeline.js';
import { generate } from './generate.js';

await runPipeline('kubevirt-vm-pipeline', generate);
