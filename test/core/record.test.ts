import { describe, expect, it } from 'vitest';
import { buildHealthRecord, recordName } from '../../agent/src/core/record.js';
import type { HealthDefinition } from '../../agent/src/core/model.js';
import { SchemaValidator } from '../../agent/src/core/schema.js';
import { getRecordValidator } from '../../agent/src/crds.js';
import { isDns1123Subdomain } from '../../agent/src/core/naming.js';
import { referenceSchema } from '../support/reference-crds.js';

const kratix = new SchemaValidator(referenceSchema('kratix-healthrecords.yaml', 'HealthRecord'));

function definition(extra: Partial<HealthDefinition['spec']> = {}, name = 'aws-rds-db1-default'): HealthDefinition {
  return {
    apiVersion: 'platform.kratix.io/v1alpha1',
    kind: 'HealthDefinition',
    metadata: { name, namespace: 'default' },
    spec: { promiseRef: { name: 'aws-rds' }, resourceRef: { name: 'db1', namespace: 'default', generation: 2 }, schedule: '@hourly', ...extra },
  };
}

describe('HealthRecord', () => {
  it('is exactly what Kratix reads and validates against Kratix\'s CRD unchanged', () => {
    const record = buildHealthRecord({ definition: definition(), destination: 'worker-1', state: 'healthy', details: { instanceStatus: 'available' }, finishedAt: 1738158772_900 });
    expect(record).toEqual({
      apiVersion: 'platform.kratix.io/v1alpha1',
      kind: 'HealthRecord',
      metadata: {
        name: 'aws-rds-db1-default-worker-1',
        namespace: 'default',
        labels: { 'app.kubernetes.io/managed-by': 'vigil', 'health.vigil.dev/destination': 'worker-1' },
        annotations: { 'health.vigil.dev/definition': 'default/aws-rds-db1-default' },
      },
      data: {
        promiseRef: { name: 'aws-rds' },
        resourceRef: { name: 'db1', namespace: 'default', generation: 2 },
        state: 'healthy',
        lastRun: 1738158772,
        details: { instanceStatus: 'available' },
      },
    });
    expect(kratix.validate(structuredClone(record))).toEqual([]);
    expect(getRecordValidator().validate(structuredClone(record))).toEqual([]);
  });

  it('omits resourceRef for promise-level checks and empty details', () => {
    const def = definition();
    delete def.spec.resourceRef;
    const record = buildHealthRecord({ definition: def, destination: 'local', state: 'unknown', details: {}, finishedAt: 0 });
    expect(record.data).toEqual({ promiseRef: { name: 'aws-rds' }, state: 'unknown', lastRun: 0 });
    expect(kratix.validate(structuredClone(record))).toEqual([]);
  });

  it('copies spec.promiseVersion to data.promiseVersion (Kratix upgrade gating)', () => {
    const record = buildHealthRecord({ definition: definition({ promiseVersion: 'v2.0.0' }), destination: 'local', state: 'ready', finishedAt: 1_000 });
    expect(record.data.promiseVersion).toBe('v2.0.0');
    expect(getRecordValidator().validate(structuredClone(record))).toEqual([]);
  });

  it('has stable, valid names, one per (definition, destination), bounded in length', () => {
    expect(recordName('web', 'local')).toBe('web-local');
    const long = 'a'.repeat(250);
    const n1 = recordName(long, 'dest-one');
    const n2 = recordName(long, 'dest-two');
    expect(n1).not.toBe(n2);
    expect(n1.length).toBeLessThanOrEqual(253);
    expect(isDns1123Subdomain(n1)).toBe(true);
    expect(recordName(long, 'dest-one')).toBe(n1);
  });
});
