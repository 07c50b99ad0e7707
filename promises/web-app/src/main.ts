/** Entry point of `ghcr.io/vigil-health/web-app-pipeline`, the web-app Promise's resource configure pipeline. */
import { runPipeline } from '../../lib/src/pipeline.js';
import { generate } from './generate.js';

await runPipeline('web-app-pipeline', generate);
