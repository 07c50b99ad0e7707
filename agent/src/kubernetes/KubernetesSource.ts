/**
 * A DefinitionSource reading HealthDefinitions from a cluster (`definitions.kind: kubernetes`
 * with the local runtime): the local agent then runs the checks itself, as it does for files.
 * Every object is validated like a file; an invalid one is reported as a problem of its
 * origin (`kubernetes:<namespace>/<name>`) and the others keep running. The watch is the
 * ResilientInformer (410, stalls, backoff, resync).
 */
import type { Logger } from 'pino';
import type { DefinitionSource, SourceEvent } from '../core/interfaces.js';
import type { DefinitionValidator } from '../core/definition.js';
import { hasErrors } from '../core/issues.js';
import { stableHash } from '../core/naming.js';
import { definitionKey } from '../core/model.js';
import type { Kube, KubeObject } from './client.js';
import { ResilientInformer, objectKey } from './watch/ResilientInformer.js';
import { HEALTH_DEFINITION } from './controller/Controller.js';

export interface KubernetesSourceOptions {
  kube: Kube;
  validator: DefinitionValidator;
  logger: Logger;
  namespaces?: readonly string[];
  resyncSeconds?: number;
  stallSeconds?: number;
}

export class KubernetesSource implements DefinitionSource {
  readonly kind = 'kubernetes';
  private readonly informer: ResilientInformer;
  /** Digest of the spec last emitted per key (an update that changes only status is not re-emitted). */
  private readonly emitted = new Map<string, string>();

  constructor(private readonly options: KubernetesSourceOptions) {
    this.informer = new ResilientInformer({
      kube: options.kube,
      apiVersion: HEALTH_DEFINITION.apiVersion,
      kind: HEALTH_DEFINITION.kind,
      plural: HEALTH_DEFINITION.plural,
      ...(options.namespaces && options.namespaces.length > 0 ? { namespaces: options.namespaces } : {}),
      logger: options.logger,
      ...(options.resyncSeconds !== undefined ? { resyncSeconds: options.resyncSeconds } : {}),
      ...(options.stallSeconds !== undefined ? { stallSeconds: options.stallSeconds } : {}),
    });
  }

  async start(onEvent: (event: SourceEvent) => void): Promise<void> {
    this.informer.subscribe((e) => {
      if (e.type === 'synced') {
        onEvent({ type: 'synced' });
        return;
      }
      const origin = `kubernetes:${objectKey(e.object)}`;
      if (e.type === 'delete') {
        this.emitted.delete(objectKey(e.object));
        onEvent({ type: 'problems', origin, problems: [] });
        onEvent({ type: 'delete', key: objectKey(e.object), origin });
        return;
      }
      this.upsert(e.object, origin, onEvent);
    });
    await this.informer.start();
  }

  async stop(): Promise<void> {
    await this.informer.stop();
  }

  private upsert(object: KubeObject, origin: string, onEvent: (event: SourceEvent) => void): void {
    const { status: _status, ...withoutStatus } = object;
    const check = this.options.validator.check(withoutStatus);
    if (!check.definition || hasErrors(check.issues)) {
      onEvent({ type: 'problems', origin, problems: [{ object: check.object, ...(check.key ? { key: check.key } : {}), issues: check.issues }] });
      return;
    }
    const key = definitionKey(check.definition.metadata);
    const digest = stableHash([JSON.stringify(check.definition.spec), JSON.stringify(object.metadata.labels ?? {}), JSON.stringify(object.metadata.annotations ?? {})], 16);
    onEvent({ type: 'problems', origin, problems: [] });
    if (this.emitted.get(key) === digest) return;
    this.emitted.set(key, digest);
    onEvent({ type: 'upsert', definition: check.definition, origin, warnings: check.issues.filter((i) => i.severity === 'warning') });
  }
}
