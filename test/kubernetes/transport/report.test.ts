import { describe, expect, it } from 'vitest';
import { referenceSchema } from '../../support/reference-crds.js';
import { pruneUnknownFields } from '../../../agent/src/core/schema.js';
import { cutString, decodeReport, encodeReport, fitDetails, TERMINATION_MESSAGE_MAX_BYTES } from '../../../agent/src/kubernetes/transport/report.js';
import { buildHealthState, reportFromHealthState } from '../../../agent/src/kubernetes/transport/health-state.js';

describe('report encoding', () => {
  it('round-trips a small report unchanged', () => {
    const report = { v: 1 as const, output: 'status' as const, state: 'healthy' as const, details: { replicas: 3, nested: { a: [1, 2] } }, finishedAt: 1_795_000_000_000 };
    expect(decodeReport(encodeReport(report))).toEqual({ ok: true, report });
  });

  it('truncates details to fit 4096 bytes WITH a marker, keeping the error first and cutting a long string', () => {
    const details = { log: 'é'.repeat(5000), error: { reason: 'X' }, small: 1 };
    const text = encodeReport({ v: 1, output: 'status', state: 'degraded', details, finishedAt: 1 });
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(TERMINATION_MESSAGE_MAX_BYTES);
    const decoded = decodeReport(text);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok || decoded.report.output !== 'status') return;
    const d = decoded.report.details!;
    expect(d.truncated).toBe(true);
    expect(d.truncatedBytes).toBe(Buffer.byteLength(JSON.stringify(details)));
    expect(d.error).toEqual({ reason: 'X' });
    expect(d.small).toBe(1);
    expect(typeof d.log).toBe('string');
    expect((d.log as string).endsWith('…')).toBe(true);
    expect(decoded.report.state).toBe('degraded');
  });

  it('fitDetails leaves fitting details alone and never exceeds the budget', () => {
    expect(fitDetails({ a: 1 }, 100)).toEqual({ details: { a: 1 }, truncated: false });
    for (const budget of [60, 200, 1000]) {
      const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`key${i}`, { v: 'x'.repeat(i) }]));
      const fitted = fitDetails(many, budget);
      expect(fitted.truncated).toBe(true);
      expect(Buffer.byteLength(JSON.stringify(fitted.details))).toBeLessThanOrEqual(budget);
    }
  });

  it('cuts strings on character boundaries', () => {
    expect(cutString('abc', 10)).toBe('abc');
    const cut = cutString('😀'.repeat(10), 9);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(9);
    expect(cut).not.toContain('\uFFFD');
  });

  it('refuses malformed reports with a message', () => {
    expect(decodeReport('not json')).toMatchObject({ ok: false, message: expect.stringContaining('not JSON') });
    expect(decodeReport('{"v":2}')).toMatchObject({ ok: false, message: expect.stringContaining('version 2') });
    expect(decodeReport('{"v":1,"output":"status","state":"healthy"}')).toMatchObject({ ok: false, message: expect.stringContaining('finishedAt') });
    expect(decodeReport('{"v":1,"output":"status","state":"healthy","finishedAt":1,"details":[1]}')).toMatchObject({ ok: false });
    expect(decodeReport('{"v":1,"output":"weird","finishedAt":1}')).toMatchObject({ ok: false });
  });
});

describe('HealthState', () => {
  const base = { namespace: 'team-a', jobName: 'check-29400540', jobUid: 'j', podUid: 'p', definitionUid: 'd', promiseRef: { name: 'redis' }, resourceRef: { name: 'example', namespace: 'default' } };

  it('is valid under the SKE HealthState CRD and loses nothing to pruning', () => {
    const schema = referenceSchema('ske-health-agent-crds.yaml', 'HealthState');
    for (const report of [
      { v: 1 as const, output: 'status' as const, state: 'healthy' as const, details: { a: 1 }, finishedAt: 1_795_000_000_123 },
      { v: 1 as const, output: 'missing' as const, finishedAt: 1 },
      { v: 1 as const, output: 'invalid' as const, message: 'bad', finishedAt: 1 },
    ]) {
      const hs = buildHealthState({ ...base, report });
      const copy = JSON.parse(JSON.stringify(hs)) as Record<string, unknown>;
      expect(pruneUnknownFields(copy, schema)).toEqual([]);
      expect(copy).toEqual(JSON.parse(JSON.stringify(hs)));
      expect(reportFromHealthState(hs)).toEqual({ ok: true, report: report.output === 'invalid' ? { ...report } : report });
    }
  });

  it('truncates big details with the marker within its own budget', () => {
    const hs = buildHealthState({ ...base, report: { v: 1, output: 'status', state: 'healthy', details: { blob: 'x'.repeat(300_000) }, finishedAt: 1 }, maxDetailsBytes: 100_000 });
    expect(hs.data!.details!.truncated).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(hs.data!.details))).toBeLessThanOrEqual(100_000);
  });
});
