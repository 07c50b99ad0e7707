/**
 * Schema of the agent configuration file (vigil.yaml). Validated with the same machinery
 * as the CRDs: defaults applied, types checked, unknown keys reported as warnings.
 */
import type { StructuralSchema } from '../core/schema.js';
import { KUBERNETES_RUNTIME_SCHEMA, KUBERNETES_SOURCE_PROPERTIES } from '../kubernetes/config.js';

const str = (description: string, extra: Partial<StructuralSchema> = {}): StructuralSchema => ({ type: 'string', description, ...extra });
const int = (description: string, extra: Partial<StructuralSchema> = {}): StructuralSchema => ({ type: 'integer', description, ...extra });
const bool = (description: string, dflt: boolean): StructuralSchema => ({ type: 'boolean', description, default: dflt });
const strings = (description: string): StructuralSchema => ({ type: 'array', description, items: { type: 'string' } });

export const CONFIG_SCHEMA: StructuralSchema = {
  type: 'object',
  properties: {
    apiVersion: str('Optional: vigil.dev/v1alpha1'),
    kind: str('Optional: AgentConfig'),
    destination: str('Name of this destination (part of every record name). Default: the host name.'),
    dataDir: str('Directory for the agent\'s own state (the outbox of records not yet delivered)', { default: './.vigil' }),
    definitions: {
      type: 'object',
      default: {},
      properties: {
        kind: str('Where definitions come from: files, or HealthDefinitions in a cluster', { enum: ['directory', 'kubernetes'], default: 'directory' }),
        ...KUBERNETES_SOURCE_PROPERTIES,
        paths: strings('Directories (recursive) or files of HealthDefinition manifests'),
        namespace: str('Namespace for definitions that set none', { default: 'default' }),
        watch: bool('Watch for changes', true),
        rescanIntervalSeconds: int('Full rescan period (0 = never)', { minimum: 0, default: 30 }),
      },
    },
    runtime: {
      type: 'object',
      default: {},
      properties: {
        kind: str('How checks run: here, or as CronJobs in the cluster (the controller)', { enum: ['local', 'kubernetes'], default: 'local' }),
        kubernetes: KUBERNETES_RUNTIME_SCHEMA,
        defaultTimeoutSeconds: int('Time limit of a run when the definition sets no spec.timeoutSeconds', { minimum: 1, maximum: 86400, default: 300 }),
        workDir: str('Where run directories are created (default: the system temp dir)'),
        keepRunDirs: str('Keep run directories for debugging', { enum: ['never', 'failed', 'always'], default: 'never' }),
        maxCaptureBytes: int('Bytes of stdout and of stderr kept per container', { minimum: 1024, default: 65536 }),
        maxOutputBytes: int('Largest accepted health-status.yaml', { minimum: 1024, default: 1048576 }),
        passEnv: strings('Agent environment variables passed to check processes (none by default)'),
        inProcessPlugins: bool('Run containers whose image a plugin serves (e.g. the built-in HTTP and RDS checks) in-process', true),
        pluginDirs: strings('Directories of user check plugins (<type>.check-plugin.js or .mjs), loaded after the built-in ones'),
        secretsDir: str('Directory holding <namespace>/<secret>/<key> files for env valueFrom.secretKeyRef'),
        configMapsDir: str('Directory holding <namespace>/<configmap>/<key> files for env valueFrom.configMapKeyRef'),
        images: {
          type: 'array',
          description: 'Images run as local commands instead of containers',
          items: {
            type: 'object',
            required: ['image', 'command'],
            properties: {
              image: str('Image reference; without a tag it matches every tag'),
              command: strings('Entrypoint'),
              args: strings('Default arguments'),
            },
          },
        },
        containerEngine: {
          type: 'object',
          description: 'Container engine for images that are not mapped',
          properties: {
            command: str('"auto" (podman, then docker), "none", or the engine command', { default: 'auto' }),
            globalArgs: strings('Arguments before "run" (e.g. --runtime /usr/sbin/runc)'),
            runArgs: strings('Extra arguments of "run" (e.g. --ulimit nofile=1024:1024)'),
          },
        },
      },
    },
    store: {
      type: 'object',
      default: {},
      properties: {
        kind: str('Where records are written', { enum: ['fs', 'git', 'bucket', 'kubernetes'], default: 'fs' }),
        kratixStateStore: str('A Kratix GitStateStore/BucketStateStore manifest or SKE health-state-store-config ConfigMap to take the store settings from (settings given here win)'),
        root: str('fs: directory of <namespace>/<name>.yaml records', { default: './state' }),
        fsync: bool('fs: fsync each record', true),
        url: str('git: remote URL (https, ssh, file)'),
        branch: str('git: branch records are pushed to', { default: 'main' }),
        path: str('git, bucket: directory (key prefix) for the records', { default: '' }),
        authMethod: str('git: basicAuth or ssh; bucket: accessKey (default) or IAM', { enum: ['basicAuth', 'ssh', 'accessKey', 'IAM'] }),
        secretDir: str('git, bucket, kubernetes: a directory holding the secret keys as files (username, password; sshPrivateKey, knownHosts; accessKeyID, secretAccessKey; kubeconfig), as a mounted Secret'),
        endpoint: str('bucket: S3 endpoint host[:port] (Kratix form) or http(s) URL'),
        bucketName: str('bucket: bucket name'),
        insecure: bool('bucket: plain http for a host endpoint; skip TLS verification for an https:// one', false),
        region: str('bucket: signing region (default: from an AWS endpoint, AWS_REGION, or us-east-1)'),
        kubeconfig: str('kubernetes: kubeconfig file of the cluster records are applied to (default: store.secretDir key kubeconfig, else KUBECONFIG, ~/.kube/config, then the in-cluster service account)'),
        context: str('kubernetes: kubeconfig context (default: the current one)'),
        namespace: str('kubernetes: namespace of every record (default: each record goes to its definition\'s namespace); never created by vigil'),
        gitAuthor: {
          type: 'object',
          properties: { name: str('commit author name', { default: 'vigil' }), email: str('commit author email', { default: 'vigil@localhost' }) },
        },
        flushIntervalSeconds: int('git: changes within this window become one commit', { minimum: 0, default: 2 }),
        heartbeatSeconds: int('git, bucket, kubernetes: an unchanged record is rewritten (lastRun refreshed) at most this often', { minimum: 60, default: 3600 }),
      },
    },
    scheduler: {
      type: 'object',
      default: {},
      properties: {
        concurrency: int('Runs at once (default: cores × 4)', { minimum: 1 }),
        spreadSeconds: int('Stable per-definition delay bound against thundering herds (0 = exact cron times)', { minimum: 0, maximum: 3600, default: 30 }),
        runOnStart: str('Run definitions once at start: missing (no record yet), always, never', { enum: ['missing', 'always', 'never'], default: 'missing' }),
        defaultTimeZone: str('Time zone of schedules without spec.timeZone', { default: 'UTC' }),
      },
    },
    server: {
      type: 'object',
      default: {},
      properties: {
        listen: str('host:port of the HTTP server, or "off"', { default: '127.0.0.1:7723' }),
        tokenFile: str('File holding the bearer token of mutating endpoints (else env VIGIL_TOKEN); required when listening off loopback'),
        requireTokenForReads: bool('Require the token for reading endpoints too (all but /healthz, /readyz and check reports)', false),
        readOnly: bool('Disable mutating endpoints (run-now, signal changes); check reports are still accepted', false),
      },
    },
    signals: {
      type: 'object',
      default: {},
      description: 'Krkn-compatible RUN/PAUSE/STOP signal',
      properties: {
        listen: str('host:port of the Krkn-compatible signal listener (GET /, POST /RUN|/PAUSE|/STOP), or "off"; the state is also at /api/v1/signal', { default: 'off' }),
        initialState: str('State at start: RUN, or PAUSE (no run starts until POST /RUN)', { enum: ['RUN', 'PAUSE'], default: 'RUN' }),
      },
    },
    log: {
      type: 'object',
      default: {},
      properties: {
        level: str('trace, debug, info, warn, error', { enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] }),
      },
    },
    shutdownGraceSeconds: int('How long SIGTERM waits for running checks', { minimum: 0, default: 30 }),
  },
};
