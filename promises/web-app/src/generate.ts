/**
 * web-app pipeline: from a `WebApp` request (image, replicas, port, optional host) to a
 * Deployment, a Service, an Ingress when a host is given, and a HealthDefinition running vigil's
 * HTTP check against the Service's in-cluster URL.
 */
import { buildHealthDefinition, checkImage, HEALTH_DEFINITION_FILE, readSchedule } from '../../lib/src/health-definition.js';
import type { OutputFile, PipelineContext, PipelineResult } from '../../lib/src/pipeline.js';
import { parseRequest, workloadName } from '../../lib/src/request.js';

export const PROMISE_NAME = 'web-app';
export const API = { group: 'example.vigil.dev', kind: 'WebApp' } as const;
export const DEFAULTS = { replicas: 1, port: 8080, path: '/' } as const;
export const DEFAULT_SCHEDULE = '*/5 * * * *';
export const HTTP_CHECK_IMAGE = 'ghcr.io/vigil-health/check-http:v0.1.0';
/** The cluster's DNS domain; `CLUSTER_DOMAIN` on the pipeline container overrides it. */
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
/** Per-request timeout of the HTTP check, seconds. */
export const CHECK_TIMEOUT_SECONDS = 5;

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%?]*$/;
/** Image references: no spaces or control characters, a sane length; the registry judges the rest. */
const IMAGE = /^[a-z0-9][a-zA-Z0-9._\-/:@]{0,254}$/;

export function generate(raw: Record<string, unknown>, ctx: Pick<PipelineContext, 'env'>): PipelineResult {
  const { request, spec } = parseRequest(raw, API);
  spec.mapping('healthCheck', ['schedule', 'path']);
  const image = spec.string('image', { pattern: IMAGE, patternText: 'is not an image reference such as nginx:1.27 or ghcr.io/acme/app:v1' });
  const replicas = spec.integer('replicas', { default: DEFAULTS.replicas, min: 0, max: 100 });
  const port = spec.integer('port', { default: DEFAULTS.port, min: 1, max: 65535 });
  const host = spec.optionalString('host', { pattern: HOSTNAME, patternText: 'is not a DNS host name such as app.example.com' });
  const path = spec.string('healthCheck.path', { default: DEFAULTS.path, pattern: PATH, patternText: 'must be a URL path starting with /', maxLength: 1000 });
  const schedule = readSchedule(spec, DEFAULT_SCHEDULE);
  spec.done();

  const clusterDomain = ctx.env.CLUSTER_DOMAIN?.trim() || DEFAULT_CLUSTER_DOMAIN;
  if (!HOSTNAME.test(clusterDomain)) throw new Error('environment variable CLUSTER_DOMAIN must be a DNS domain such as cluster.local');

  const name = workloadName(request);
  const ns = request.metadata.namespace;
  const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/managed-by': 'kratix', 'kratix.io/promise-name': PROMISE_NAME };
  const selector = { 'app.kubernetes.io/name': name };
  const url = `http://${name}.${ns}.svc.${clusterDomain}:${port!}${path!}`;

  const files: OutputFile[] = [
    { name: 'deployment.yaml', documents: [deployment(name, ns, labels, selector, image!, replicas!, port!, path!)] },
    { name: 'service.yaml', documents: [service(name, ns, labels, selector, port!)] },
  ];
  if (host !== undefined) files.push({ name: 'ingress.yaml', documents: [ingress(name, ns, labels, host, port!)] });

  const definition = buildHealthDefinition({
    promise: PROMISE_NAME,
    request,
    schedule,
    input: { health_checks: { timeout: CHECK_TIMEOUT_SECONDS, config: [{ url, expected_status: ['2xx'] }] } },
    containers: [{ name: 'check-http', image: checkImage(HTTP_CHECK_IMAGE, ctx.env) }],
  });
  files.push({ name: HEALTH_DEFINITION_FILE, documents: [definition] });
  const metadata = definition.metadata as { name: string };
  return { files, status: { url, healthDefinition: { name: metadata.name, namespace: ns, schedule } } };
}

type Labels = Record<string, string>;

function deployment(name: string, namespace: string, labels: Labels, selector: Labels, image: string, replicas: number, port: number, path: string) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: 'app',
              image,
              ports: [{ name: 'http', containerPort: port }],
              readinessProbe: { httpGet: { path, port: 'http' }, periodSeconds: 10 },
            },
          ],
        },
      },
    },
  };
}

function service(name: string, namespace: string, labels: Labels, selector: Labels, port: number) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels },
    spec: { type: 'ClusterIP', selector, ports: [{ name: 'http', port, targetPort: 'http' }] },
  };
}

function ingress(name: string, namespace: string, labels: Labels, host: string, port: number) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace, labels },
    spec: {
      rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name, port: { number: port } } } }] } }],
    },
  };
}
