/**
 * kubevirt-vm pipeline: from a `VM` request to a KubeVirt VirtualMachine and a HealthDefinition
 * running vigil's VMI check on it (phase Running, condition Ready, SSH answering). The check
 * lists VirtualMachineInstances, so the definition asks for get/list on them in the request's
 * namespace through `workflow.spec.rbac.permissions`.
 */
import { buildHealthDefinition, checkImage, HEALTH_DEFINITION_FILE, readSchedule } from '../../lib/src/health-definition.js';
import type { PipelineContext, PipelineResult } from '../../lib/src/pipeline.js';
import { parseRequest, workloadName } from '../../lib/src/request.js';

export const PROMISE_NAME = 'kubevirt-vm';
export const API = { group: 'example.vigil.dev', kind: 'VM' } as const;
export const DEFAULTS = { image: 'quay.io/containerdisks/fedora:41', cpu: 1, memory: '2Gi', running: true, sshPort: 22 } as const;
export const DEFAULT_SCHEDULE = '*/10 * * * *';
export const VMI_CHECK_IMAGE = 'ghcr.io/vigil-health/check-vmi:v0.1.0';

const IMAGE = /^[a-z0-9][a-zA-Z0-9._\-/:@]{0,254}$/;
const MEMORY = /^[1-9][0-9]{0,5}(Mi|Gi)$/;
const SSH_KEY = /^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( [^\n]*)?$/;

export function generate(raw: Record<string, unknown>, ctx: Pick<PipelineContext, 'env'>): PipelineResult {
  const { request, spec } = parseRequest(raw, API);
  spec.mapping('healthCheck', ['schedule', 'sshPort']);
  const image = spec.string('image', { default: DEFAULTS.image, pattern: IMAGE, patternText: 'is not a containerDisk image reference such as quay.io/containerdisks/fedora:41' });
  const cpu = spec.integer('cpu', { default: DEFAULTS.cpu, min: 1, max: 64 });
  const memory = spec.string('memory', { default: DEFAULTS.memory, pattern: MEMORY, patternText: 'must be a quantity in Mi or Gi such as 2Gi' });
  const running = spec.boolean('running', { default: DEFAULTS.running });
  const sshPublicKey = spec.optionalString('sshPublicKey', { pattern: SSH_KEY, patternText: 'is not one OpenSSH public key line (ssh-ed25519 AAAA...)', maxLength: 16_384 });
  const sshPort = spec.integer('healthCheck.sshPort', { default: DEFAULTS.sshPort, min: 1, max: 65535 });
  const schedule = readSchedule(spec, DEFAULT_SCHEDULE);
  spec.done();

  const name = workloadName(request);
  const ns = request.metadata.namespace;
  const labels = { 'app.kubernetes.io/managed-by': 'kratix', 'kratix.io/promise-name': PROMISE_NAME };
  const volumes: Record<string, unknown>[] = [{ name: 'containerdisk', containerDisk: { image } }];
  const disks: Record<string, unknown>[] = [{ name: 'containerdisk', disk: { bus: 'virtio' } }];
  if (sshPublicKey !== undefined) {
    volumes.push({ name: 'cloudinitdisk', cloudInitNoCloud: { userData: `#cloud-config\nssh_authorized_keys:\n  - ${sshPublicKey}\n` } });
    disks.push({ name: 'cloudinitdisk', disk: { bus: 'virtio' } });
  }
  const vm = {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name, namespace: ns, labels },
    spec: {
      runStrategy: running ? 'Always' : 'Halted',
      template: {
        metadata: { labels: { ...labels, 'kubevirt.io/vm': name } },
        spec: {
          domain: {
            cpu: { cores: cpu },
            memory: { guest: memory },
            devices: { disks, interfaces: [{ name: 'default', masquerade: {} }] },
          },
          networks: [{ name: 'default', pod: {} }],
          volumes,
        },
      },
    },
  };

  const definition = buildHealthDefinition({
    promise: PROMISE_NAME,
    request,
    schedule,
    // The VMI of a VirtualMachine has the VM's name; `name` is a full-match regular expression.
    input: { kubevirt_checks: { namespace: ns, name: escapeRegExp(name), ssh_port: sshPort } },
    containers: [{ name: 'check-vmi', image: checkImage(VMI_CHECK_IMAGE, ctx.env) }],
    permissions: [{ apiGroups: ['kubevirt.io'], resources: ['virtualmachineinstances'], verbs: ['get', 'list'], resourceNamespace: ns }],
  });
  const metadata = definition.metadata as { name: string };
  return {
    files: [
      { name: 'virtual-machine.yaml', documents: [vm] },
      { name: HEALTH_DEFINITION_FILE, documents: [definition] },
    ],
    status: { vmName: name, healthDefinition: { name: metadata.name, namespace: ns, schedule } },
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
