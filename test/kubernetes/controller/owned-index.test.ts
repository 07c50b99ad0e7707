import { describe, expect, it } from 'vitest';
import { OwnedIndex } from '../../../agent/src/kubernetes/controller/OwnedIndex.js';
import { LABELS } from '../../../agent/src/kubernetes/resources/index.js';

const obj = (name: string, labels: Record<string, string>): any => ({ metadata: { name, namespace: 'team-a', labels } });
const keys = (refs: { kind: string; key: string }[]): string[] => refs.map((r) => `${r.kind} ${r.key}`).sort();

describe('OwnedIndex', () => {
  const withUid = obj('cj-a', { [LABELS.definitionUid]: 'uid-a', [LABELS.definitionHash]: 'h-a', [LABELS.definitionNamespace]: 'team-a' });
  const hashOnly = obj('cm-a', { [LABELS.definitionHash]: 'h-a', [LABELS.definitionNamespace]: 'team-a' });
  const other = obj('cj-b', { [LABELS.definitionUid]: 'uid-b', [LABELS.definitionHash]: 'h-b', [LABELS.definitionNamespace]: 'team-a' });
  const sameHashOtherUid = obj('cj-old', { [LABELS.definitionUid]: 'uid-old', [LABELS.definitionHash]: 'h-a', [LABELS.definitionNamespace]: 'team-a' });

  it('finds a definition\'s objects by uid label, or by namespace and hash for objects without one', () => {
    const index = new OwnedIndex();
    index.add('CronJob', 'team-a/cj-a', withUid);
    index.add('ConfigMap', 'team-a/cm-a', hashOnly);
    index.add('CronJob', 'team-a/cj-b', other);
    index.add('CronJob', 'team-a/cj-old', sameHashOtherUid);
    // A recreated definition (new uid) does not own the old one's uid-labelled objects.
    expect(keys(index.find('uid-a', 'team-a', 'h-a'))).toEqual(['ConfigMap team-a/cm-a', 'CronJob team-a/cj-a']);
    // Without a uid every object with the hash matches.
    expect(keys(index.find(undefined, 'team-a', 'h-a'))).toEqual(['ConfigMap team-a/cm-a', 'CronJob team-a/cj-a', 'CronJob team-a/cj-old']);
    expect(index.find('uid-z', 'team-b', 'h-x')).toEqual([]);
  });

  it('follows label changes and deletions', () => {
    const index = new OwnedIndex();
    index.add('CronJob', 'team-a/cj-a', withUid);
    index.remove('CronJob', 'team-a/cj-a', withUid);
    index.add('CronJob', 'team-a/cj-a', other);
    expect(index.find('uid-a', 'team-a', 'h-a')).toEqual([]);
    expect(keys(index.find('uid-b', 'team-a', 'h-b'))).toEqual(['CronJob team-a/cj-a']);
    index.remove('CronJob', 'team-a/cj-a', other);
    expect(index.find('uid-b', 'team-a', 'h-b')).toEqual([]);
  });
});
