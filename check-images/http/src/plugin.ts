/**
 * The HTTP check as an in-process plugin: the same config and code as the image's main.
 */
import { defineCheckPlugin } from '../../sdk/src/index.js';
import { HTTP_CHECK_KEY, httpCheckConfigFrom } from './config.js';
import { runHttp } from './run.js';

export const HTTP_IMAGE = 'ghcr.io/vigil-health/check-http';

export default defineCheckPlugin({
  type: 'http',
  configKey: HTTP_CHECK_KEY,
  images: [HTTP_IMAGE],
  description: 'probes HTTP(S) URLs: status, body, JSON path, latency, TLS expiry; one round or a watching run',
  run: (raw, { signal, env }) => runHttp(httpCheckConfigFrom(raw, env), { signal }),
});
