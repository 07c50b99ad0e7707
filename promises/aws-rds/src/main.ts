/**
 * Entry point of `ghcr.io/vigil-health/aws-rds-generate-health-check`, the second container of
 * the aws-rds Promise's `rds-configure` pipeline.
 */
import { runPipeline } from '../../lib/src/pipeline.js';
import { generate } from './generate.js';

await runPipeline('aws-rds-generate-health-check', generate);
