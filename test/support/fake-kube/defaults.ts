/**
 * Defaulting the real API server applies to the built-in kinds tests touch, so objects read back
 * look like a cluster's: pod and container defaults, a Pending pod status, Job selector and
 * controller labels, CronJob policy defaults, Namespace phase.
 */
type Obj = Record<string, unknown> & { metadata: Record<string, unknown> };
type Rec = Record<string, unknown>;

function rec(v: unknown): Rec | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : undefined;
}

function defaultContainers(list: unknown): void {
  if (!Array.isArray(list)) return;
  for (const c of list) {
    const r = rec(c);
    if (!r) continue;
    r.terminationMessagePath ??= '/dev/termination-log';
    r.terminationMessagePolicy ??= 'File';
    if (r.imagePullPolicy === undefined && typeof r.image === 'string') {
      const tagged = /:[^/]+$/.test(r.image) || r.image.includes('@');
      r.imagePullPolicy = !tagged || r.image.endsWith(':latest') ? 'Always' : 'IfNotPresent';
    }
  }
}

export function defaultPodSpec(spec: unknown, restartPolicy = 'Always'): void {
  const s = rec(spec);
  if (!s) return;
  s.restartPolicy ??= restartPolicy;
  s.dnsPolicy ??= 'ClusterFirst';
  s.schedulerName ??= 'default-scheduler';
  s.terminationGracePeriodSeconds ??= 30;
  defaultContainers(s.containers);
  defaultContainers(s.initContainers);
}

/** Applies creation-time defaults in place (`uid` is the new object's uid). */
export function applyCreateDefaults(kind: string, obj: Obj, uid: string): void {
  switch (kind) {
    case 'Namespace':
      obj.spec ??= { finalizers: ['kubernetes'] };
      obj.status ??= { phase: 'Active' };
      break;
    case 'Pod':
      defaultPodSpec(obj.spec);
      obj.status ??= { phase: 'Pending', qosClass: 'BestEffort' };
      break;
    case 'Job': {
      const spec = rec(obj.spec);
      if (!spec) break;
      spec.parallelism ??= 1;
      spec.completions ??= 1;
      spec.backoffLimit ??= 6;
      spec.completionMode ??= 'NonIndexed';
      spec.suspend ??= false;
      const template = rec(spec.template);
      if (template) {
        const name = String(obj.metadata.name);
        const meta = (rec(template.metadata) ?? {});
        template.metadata = meta;
        meta.labels = { ...(rec(meta.labels) ?? {}), 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': name, 'controller-uid': uid, 'job-name': name };
        defaultPodSpec(template.spec, 'Never');
      }
      spec.selector ??= { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
      // Like the Job registry: a Job without labels gets its pod template's labels.
      const own = rec(obj.metadata.labels);
      if ((!own || Object.keys(own).length === 0) && template) obj.metadata.labels = { ...(rec(rec(template.metadata)?.labels) ?? {}) };
      obj.status ??= {};
      break;
    }
    case 'CronJob': {
      const spec = rec(obj.spec);
      if (!spec) break;
      spec.concurrencyPolicy ??= 'Allow';
      spec.suspend ??= false;
      spec.successfulJobsHistoryLimit ??= 3;
      spec.failedJobsHistoryLimit ??= 1;
      const jobSpec = rec(rec(spec.jobTemplate)?.spec);
      if (jobSpec) defaultPodSpec(rec(jobSpec.template)?.spec, 'Never');
      obj.status ??= {};
      break;
    }
    default:
      break;
  }
}
