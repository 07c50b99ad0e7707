/**
 * `vigil trigger <namespace>/<name>`: runs a HealthDefinition now in Kubernetes mode.
 *
 * It creates a Job from the definition's CronJob at once, as `kubectl create job --from=cronjob/`
 * does (owned by the CronJob, annotated `cronjob.kubernetes.io/instantiate: manual`), so the run
 * starts even while no agent is running; then it sets the definition's run-now annotation to the
 * same request id. The Job's name is derived from that id (runNowJobName), so the controller,
 * seeing the annotation, finds the Job already there and creates no second one: one request, one
 * Job, however the two paths interleave. The agent collects the run like any other.
 */
import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { Kube, kubeError, loadKubeConfig, type KubeObject } from '../../kubernetes/client.js';
import { cronJobName } from '../../kubernetes/resources/names.js';
import { RUN_NOW_ANNOTATION, createJobFromCronJob, runNowJobName } from '../../kubernetes/controller/apply.js';
import { HEALTH_DEFINITION } from '../../kubernetes/controller/Controller.js';
import { fail } from '../util.js';

interface TriggerFlags {
  kubeconfig?: string;
  context?: string;
  request?: string;
  output?: 'text' | 'json';
}

export interface TriggerResult {
  definition: string;
  cronJob: string;
  job: string;
  request: string;
  /** false: the Job of this request existed already (the same --request twice). */
  created: boolean;
  /** false: the Job was created but the run-now annotation could not be set (e.g. RBAC). */
  annotated: boolean;
  annotationError?: string;
}

/** Parses `<namespace>/<name>`; throws naming the argument. */
export function parseTarget(target: string): { namespace: string; name: string } {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(target);
  if (!m) throw new Error(`<namespace>/<name>: "${target}" is not a HealthDefinition reference like default/redis-health`);
  return { namespace: m[1]!, name: m[3]! };
}

/** Request ids become part of a label-safe Job name hash; any printable text up to 63 characters is fine. */
function checkRequest(request: string): string {
  if (!/^[\x21-\x7e]{1,63}$/.test(request)) throw new Error(`--request: "${request}" must be 1-63 printable characters without spaces`);
  return request;
}

export async function trigger(kube: Kube, target: string, request: string): Promise<TriggerResult> {
  const { namespace, name } = parseTarget(target);
  const def = await kube.get(HEALTH_DEFINITION.apiVersion, HEALTH_DEFINITION.kind, namespace, name);
  if (!def) throw new Error(`HealthDefinition ${namespace}/${name} not found`);
  const status = (def.status ?? {}) as { cronJobName?: unknown };
  const cjName = typeof status.cronJobName === 'string' && status.cronJobName !== '' ? status.cronJobName : cronJobName({ metadata: { namespace, name } });
  const cronJob = await kube.get<KubeObject>('batch/v1', 'CronJob', namespace, cjName);
  if (!cronJob) {
    const ready = ((def.status as { conditions?: { type?: string; status?: string; reason?: string; message?: string }[] } | undefined)?.conditions ?? []).find((c) => c.type === 'Ready');
    const why = ready ? `its Ready condition is ${ready.status ?? '?'} (${ready.reason ?? ''}${ready.message ? `: ${ready.message}` : ''})` : 'it has no status yet: is the vigil agent running?';
    throw new Error(`HealthDefinition ${namespace}/${name}: CronJob ${namespace}/${cjName} not found; ${why}`);
  }
  const jobName = runNowJobName(cjName, request);
  const { created } = await createJobFromCronJob(kube, cronJob, jobName);
  const result: TriggerResult = { definition: `${namespace}/${name}`, cronJob: cjName, job: jobName, request, created, annotated: false };
  try {
    await kube.mergePatch({ apiVersion: HEALTH_DEFINITION.apiVersion, kind: HEALTH_DEFINITION.kind, metadata: { name, namespace, annotations: { [RUN_NOW_ANNOTATION]: request } } });
    result.annotated = true;
  } catch (err) {
    result.annotationError = kubeError(err).message;
  }
  return result;
}

export function registerTrigger(program: Command): void {
  program
    .command('trigger')
    .argument('<namespace/name>', 'the HealthDefinition to run now')
    .description('(Kubernetes mode) run a HealthDefinition now: create a Job from its CronJob and mark the request on the definition')
    .option('--kubeconfig <file>', 'kubeconfig (default: KUBECONFIG, ~/.kube/config, then the in-cluster service account)')
    .option('--context <name>', 'kubeconfig context')
    .option('--request <id>', 'request id (default: a new one); the same id twice creates one Job')
    .option('-o, --output <format>', 'text or json', 'text')
    .addHelpText('after', '\nExit status: 0 when the Job exists, 1 on an API error or a missing definition/CronJob, 2 on bad arguments.')
    .action(async (target: string, flags: TriggerFlags) => {
      let request: string;
      try {
        parseTarget(target);
        request = checkRequest(flags.request ?? `trigger-${new Date().toISOString().replace(/[:.]/g, '')}-${randomBytes(3).toString('hex')}`);
        if (flags.output !== 'text' && flags.output !== 'json') throw new Error(`--output: "${String(flags.output)}" must be text or json`);
      } catch (err) {
        fail(`trigger: ${(err as Error).message}`, 2);
      }
      let kube: Kube;
      try {
        kube = new Kube(loadKubeConfig({ ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}), ...(flags.context ? { context: flags.context } : {}) }, '--kubeconfig'));
      } catch (err) {
        fail(`trigger: ${(err as Error).message}`, 2);
      }
      let result: TriggerResult;
      try {
        result = await trigger(kube, target, request);
      } catch (err) {
        fail(`trigger: ${kubeError(err).message}`, 1);
      }
      if (flags.output === 'json') {
        process.stdout.write(`${JSON.stringify(result)}\n`);
      } else {
        process.stdout.write(`${result.created ? 'created' : 'already exists:'} Job ${target.split('/')[0]!}/${result.job} from CronJob ${result.cronJob} (request ${result.request})\n`);
      }
      if (!result.annotated) {
        process.stderr.write(`vigil: trigger: the Job runs, but the run-now annotation could not be set on ${result.definition}: ${result.annotationError ?? ''}\n`);
      }
    });
}
