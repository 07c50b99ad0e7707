/**
 * The check pod, as the CronJob's pod template: the user's workflow containers as init
 * containers in order (so the first failure ends the run, as locally), then the adapter
 * container that carries the result out (ADR 0012, 0013). The Kratix directories are mounted at
 * /kratix/{input,output,metadata}; the input is the definition's ConfigMap, read-only.
 * Pure.
 */
import type { V1Container, V1EnvVar, V1PodSpec, V1PodTemplateSpec, V1ResourceRequirements, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { Plain } from './plain.js';
import type { Container, HealthDefinition } from '../../core/model.js';
import { CONTAINER_DIRS, definitionEnv, objectIdentity } from '../../core/env.js';
import { issue, joinPath, ValidationError, type Issue } from '../../core/issues.js';
import { dns1123LabelProblem } from '../../core/naming.js';
import { isMapping } from '../../core/pipeline.js';
import { OBJECT_FILE } from './input.js';
import { JOB_POD_LABELS } from './names.js';
import { KH_ENV } from '../../reporting/protocol.js';
import { KH_REPORTER_PORT } from '../transport/kh-reporter.js';

/** Name of the adapter container; user containers may not use it. */
export const ADAPTER_CONTAINER = 'vigil-result';
export const VOLUMES = { input: 'vigil-input', output: 'vigil-output', metadata: 'vigil-metadata', token: 'vigil-token', kh: 'vigil-kh' } as const;
/** Kuberhealthy-style checks: the pod-local reporter, a native sidecar (ADR 0013). */
export const KH_REPORTER_CONTAINER = 'vigil-kh-reporter';
/** Where the reporter stores the accepted report (an emptyDir shared with the adapter only). */
export const KH_DIR = '/var/run/vigil-kh';
export const KH_REPORT_FILE = `${KH_DIR}/report.json`;
/**
 * Pod annotation holding the run's deadline (unix seconds) for KH_CHECK_RUN_DEADLINE: the
 * downward API cannot compute "start + timeout", so vigil writes the value into the pod template
 * (the controller keeps the CronJob's at the next run's deadline; run-now Jobs get their own).
 */
export const KH_DEADLINE_ANNOTATION = 'health.vigil.dev/kh-run-deadline';
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The subcommand the adapter container runs (`vigil k8s-adapter`). */
export const ADAPTER_COMMAND = 'k8s-adapter';

/** Environment of the adapter container (read by cli/commands/k8s-adapter.ts). */
export const ADAPTER_ENV = {
  definition: 'VIGIL_DEFINITION',
  definitionUid: 'VIGIL_DEFINITION_UID',
  promiseName: 'VIGIL_PROMISE_NAME',
  resourceName: 'VIGIL_RESOURCE_NAME',
  resourceNamespace: 'VIGIL_RESOURCE_NAMESPACE',
  podName: 'VIGIL_POD_NAME',
  podUid: 'VIGIL_POD_UID',
  namespace: 'VIGIL_POD_NAMESPACE',
  jobName: 'VIGIL_JOB_NAME',
  jobUid: 'VIGIL_JOB_UID',
} as const;

export const DEFAULT_ADAPTER_RESOURCES: Plain<V1ResourceRequirements> = {
  requests: { cpu: '20m', memory: '64Mi' },
  limits: { memory: '192Mi' },
};

export interface PodOptions {
  agentImage: string;
  serviceAccountName: string;
  inputConfigMap: string;
  /** Mount API credentials into the user's containers too (they were granted permissions). */
  userNeedsToken: boolean;
  adapterImagePullPolicy?: string;
  adapterResources?: Plain<V1ResourceRequirements>;
  /** Passed to the adapter: limit of health-status.yaml and budget of details in the HealthState. */
  maxOutputBytes?: number;
  maxDetailsBytes?: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** A Kuberhealthy-style check: KH_* env, the pod-local reporter sidecar, the adapter reads its report. */
  kuberhealthy?: { timeoutSeconds: number };
}

const HARDENED = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

function fieldEnv(name: string, fieldPath: string): Plain<V1EnvVar> {
  return { name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } };
}

const JOB_NAME_FIELD = `metadata.labels['${JOB_POD_LABELS.jobName}']`;
const JOB_UID_FIELD = `metadata.labels['${JOB_POD_LABELS.controllerUid}']`;

function tokenMount(): Plain<V1VolumeMount> {
  return { name: VOLUMES.token, mountPath: SERVICE_ACCOUNT_DIR, readOnly: true };
}

/** The pod template of the CronJob's Jobs. Throws ValidationError naming the field. */
export function podTemplate(def: HealthDefinition, opts: PodOptions): Plain<V1PodTemplateSpec> {
  const key = `${def.metadata.namespace}/${def.metadata.name}`;
  const pipeline = def.spec.workflow;
  const spec = pipeline?.spec ?? {};
  const issues: Issue[] = [];
  const base: Plain<V1EnvVar>[] = [
    ...definitionEnv(def, objectIdentity(def.spec.input)).map(([name, value]) => ({ name, value })),
    { name: 'KRATIX_INPUT_DIR', value: CONTAINER_DIRS.input },
    { name: 'KRATIX_OUTPUT_DIR', value: CONTAINER_DIRS.output },
    { name: 'KRATIX_METADATA_DIR', value: CONTAINER_DIRS.metadata },
    fieldEnv('VIGIL_RUN_ID', JOB_NAME_FIELD),
  ];
  if (opts.kuberhealthy) base.push(...khEnv());
  const containersPath = 'spec.workflow.spec.containers';
  const userContainers = (spec.containers ?? []).map((c, i) => userContainer(c, joinPath(containersPath, i), base, opts, issues));

  const userVolumes = Array.isArray(spec.volumes) ? (spec.volumes as Plain<V1Volume>[]) : [];
  userVolumes.forEach((v, i) => {
    const name: unknown = isMapping(v) ? v.name : undefined;
    if (typeof name === 'string' && (Object.values(VOLUMES) as string[]).includes(name)) {
      issues.push(issue('error', joinPath(joinPath('spec.workflow.spec.volumes', i), 'name'), `"${name}" is reserved by vigil`));
    }
  });
  if (issues.length > 0) throw new ValidationError(key, issues);

  const volumes: Plain<V1Volume>[] = [
    { name: VOLUMES.input, configMap: { name: opts.inputConfigMap, items: [{ key: OBJECT_FILE, path: OBJECT_FILE }], defaultMode: 0o444 } },
    { name: VOLUMES.output, emptyDir: {} },
    { name: VOLUMES.metadata, emptyDir: {} },
    {
      name: VOLUMES.token,
      projected: {
        defaultMode: 0o444,
        sources: [
          { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
        ],
      },
    },
    ...(opts.kuberhealthy ? [{ name: VOLUMES.kh, emptyDir: { sizeLimit: '4Mi' } }] : []),
    ...userVolumes,
  ];

  const podSpec: Plain<V1PodSpec> = {
    restartPolicy: 'Never',
    serviceAccountName: opts.serviceAccountName,
    // Credentials go only where they are needed: the adapter, and the user's containers when granted permissions.
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    initContainers: opts.kuberhealthy ? [khReporterContainer(opts, opts.kuberhealthy.timeoutSeconds), ...userContainers] : userContainers,
    containers: [adapterContainer(def, opts)],
    volumes,
  };
  if (Array.isArray(spec.imagePullSecrets)) podSpec.imagePullSecrets = spec.imagePullSecrets as Plain<V1PodSpec>['imagePullSecrets'];
  if (isMapping(spec.nodeSelector)) podSpec.nodeSelector = spec.nodeSelector;
  if (Array.isArray(spec.tolerations)) podSpec.tolerations = spec.tolerations as Plain<V1PodSpec>['tolerations'];

  return {
    metadata: {
      labels: { ...(pipeline?.metadata?.labels ?? {}), ...opts.labels },
      annotations: { ...(pipeline?.metadata?.annotations ?? {}), ...opts.annotations },
    },
    spec: podSpec,
  };
}

function userContainer(c: Container, path: string, base: Plain<V1EnvVar>[], opts: PodOptions, issues: Issue[]): Plain<V1Container> {
  const nameProblem = typeof c.name === 'string' ? dns1123LabelProblem(c.name) : 'required';
  if (nameProblem) issues.push(issue('error', joinPath(path, 'name'), nameProblem));
  else if (c.name === ADAPTER_CONTAINER || c.name === KH_REPORTER_CONTAINER) issues.push(issue('error', joinPath(path, 'name'), `"${c.name}" is reserved by vigil`));
  if (typeof c.image !== 'string' || c.image.trim() === '') issues.push(issue('error', joinPath(path, 'image'), 'required'));
  const own = Array.isArray(c.volumeMounts) ? (c.volumeMounts as Plain<V1VolumeMount>[]) : [];
  own.forEach((m, i) => {
    const mountPath: unknown = isMapping(m) ? m.mountPath : undefined;
    if (typeof mountPath === 'string' && (mountPath === '/kratix' || mountPath.startsWith('/kratix/'))) {
      issues.push(issue('error', joinPath(joinPath(path, 'volumeMounts'), i), `${mountPath} is where vigil mounts the Kratix directories`));
    }
  });
  // Every field of the Kratix container passes through (the user may override securityContext).
  const container = { ...c } as unknown as Plain<V1Container>;
  container.env = [...base, ...((c.env ?? []) as Plain<V1EnvVar>[])];
  container.volumeMounts = [
    { name: VOLUMES.input, mountPath: CONTAINER_DIRS.input, readOnly: true },
    { name: VOLUMES.output, mountPath: CONTAINER_DIRS.output },
    { name: VOLUMES.metadata, mountPath: CONTAINER_DIRS.metadata },
    ...(opts.userNeedsToken ? [tokenMount()] : []),
    ...own,
  ];
  // The last log lines become the termination message of a failing container: the ExitCode message.
  container.terminationMessagePolicy ??= 'FallbackToLogsOnError';
  return container;
}

function adapterContainer(def: HealthDefinition, opts: PodOptions): Plain<V1Container> {
  const env: Plain<V1EnvVar>[] = [
    { name: ADAPTER_ENV.definition, value: `${def.metadata.namespace}/${def.metadata.name}` },
    { name: ADAPTER_ENV.definitionUid, value: def.metadata.uid ?? '' },
    { name: ADAPTER_ENV.promiseName, value: def.spec.promiseRef.name },
    ...(def.spec.resourceRef
      ? [
          { name: ADAPTER_ENV.resourceName, value: def.spec.resourceRef.name },
          { name: ADAPTER_ENV.resourceNamespace, value: def.spec.resourceRef.namespace },
        ]
      : []),
    fieldEnv(ADAPTER_ENV.podName, 'metadata.name'),
    fieldEnv(ADAPTER_ENV.podUid, 'metadata.uid'),
    fieldEnv(ADAPTER_ENV.namespace, 'metadata.namespace'),
    fieldEnv(ADAPTER_ENV.jobName, JOB_NAME_FIELD),
    fieldEnv(ADAPTER_ENV.jobUid, JOB_UID_FIELD),
  ];
  const args = [ADAPTER_COMMAND, '--output-dir', CONTAINER_DIRS.output];
  if (opts.maxOutputBytes !== undefined) args.push('--max-output-bytes', String(opts.maxOutputBytes));
  if (opts.maxDetailsBytes !== undefined) args.push('--max-details-bytes', String(opts.maxDetailsBytes));
  if (opts.kuberhealthy) args.push('--kh-report-file', KH_REPORT_FILE);
  return {
    name: ADAPTER_CONTAINER,
    image: opts.agentImage,
    imagePullPolicy: opts.adapterImagePullPolicy ?? 'IfNotPresent',
    args,
    env,
    volumeMounts: [
      { name: VOLUMES.output, mountPath: CONTAINER_DIRS.output, readOnly: true },
      ...(opts.kuberhealthy ? [{ name: VOLUMES.kh, mountPath: KH_DIR, readOnly: true }] : []),
      tokenMount(),
    ],
    securityContext: HARDENED,
    resources: opts.adapterResources ?? DEFAULT_ADAPTER_RESOURCES,
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
  };
}

/**
 * The Kuberhealthy env of the user's containers. KH_RUN_UUID is the pod's uid (unique per
 * attempt, known to the reporter through the same field); the reporting URL carries it too,
 * for clients that never send the kh-run-uuid header.
 */
function khEnv(): Plain<V1EnvVar>[] {
  return [
    fieldEnv(KH_ENV.runUuid, 'metadata.uid'),
    { name: KH_ENV.reportingUrl, value: `http://127.0.0.1:${KH_REPORTER_PORT}/externalCheckStatus/$(${KH_ENV.runUuid})` },
    fieldEnv(KH_ENV.deadline, `metadata.annotations['${KH_DEADLINE_ANNOTATION}']`),
    fieldEnv(KH_ENV.podNamespace, 'metadata.namespace'),
  ];
}

/**
 * The pod-local reporting endpoint: a native sidecar (init container with restartPolicy
 * Always, Kubernetes >= 1.29) started before the user's containers and stopped by the kubelet
 * after the adapter. It listens on loopback only; its startup probe (an exec: the kubelet's
 * own probes cannot reach 127.0.0.1 of the pod) holds the user's containers until it listens.
 */
function khReporterContainer(opts: PodOptions, timeoutSeconds: number): Plain<V1Container> {
  const probe = `require('net').connect(${KH_REPORTER_PORT},'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))`;
  return {
    name: KH_REPORTER_CONTAINER,
    image: opts.agentImage,
    imagePullPolicy: opts.adapterImagePullPolicy ?? 'IfNotPresent',
    restartPolicy: 'Always',
    args: [ADAPTER_COMMAND, '--kh-listen', `127.0.0.1:${KH_REPORTER_PORT}`, '--kh-report-file', KH_REPORT_FILE, '--kh-timeout-seconds', String(timeoutSeconds)],
    env: [fieldEnv(ADAPTER_ENV.podUid, 'metadata.uid')],
    volumeMounts: [{ name: VOLUMES.kh, mountPath: KH_DIR }],
    startupProbe: { exec: { command: ['node', '-e', probe] }, periodSeconds: 1, failureThreshold: 30, timeoutSeconds: 5 },
    securityContext: HARDENED,
    resources: { requests: { cpu: '10m', memory: '48Mi' }, limits: { memory: '128Mi' } },
  };
}
