/**
 * The RDS check as an in-process plugin: the same config and code as the image's main.
 * Region, endpoint and static credentials come from the container's environment; without
 * static credentials the SDK's default chain of the agent process applies.
 */
import { defineCheckPlugin } from '../../sdk/src/index.js';
import { RDS_CHECK_KEY, resolveRdsCheckConfig } from './config.js';
import { runRdsCheck } from './check.js';

export const RDS_IMAGE = 'ghcr.io/vigil-health/check-rds';

export default defineCheckPlugin({
  type: 'rds',
  configKey: RDS_CHECK_KEY,
  images: [RDS_IMAGE],
  description: 'AWS RDS DescribeDBInstances: instance status to a state, engine, endpoint and pending modifications',
  run: (raw, { signal, input, env }) => runRdsCheck(resolveRdsCheckConfig(raw, input, env), { signal }),
});
