/** The Kuberhealthy report format and the report windows (pure parts). */
import { describe, expect, it } from 'vitest';
import { expectsReport, parseReport } from '../../agent/src/reporting/protocol.js';
import { ReportRegistry } from '../../agent/src/reporting/ReportRegistry.js';

describe('parseReport', () => {
  it('accepts {OK, Errors} in any key case', () => {
    expect(parseReport({ OK: true, Errors: [] })).toEqual({ ok: true, report: { ok: true, errors: [] } });
    expect(parseReport({ ok: true, errors: [] })).toEqual({ ok: true, report: { ok: true, errors: [] } });
    expect(parseReport({ Ok: false, eRRors: ['disk full'], currentUUID: '' })).toEqual({ ok: true, report: { ok: false, errors: ['disk full'] } });
    expect(parseReport({ OK: true })).toEqual({ ok: true, report: { ok: true, errors: [] } });
    expect(parseReport({ OK: true, Errors: null })).toEqual({ ok: true, report: { ok: true, errors: [] } });
  });

  it('refuses inconsistent or malformed reports with a reason', () => {
    expect(parseReport({ OK: true, Errors: ['x'] })).toMatchObject({ ok: false, error: expect.stringMatching(/"OK" is true but 1 error/) as unknown });
    expect(parseReport({ OK: false, Errors: [] })).toMatchObject({ ok: false, error: expect.stringMatching(/"Errors" is empty/) as unknown });
    expect(parseReport({ OK: false, Errors: ['  '] })).toMatchObject({ ok: false, error: expect.stringMatching(/blank/) as unknown });
    expect(parseReport({ OK: 'yes' })).toMatchObject({ ok: false, error: '"OK" must be true or false, got "yes"' });
    expect(parseReport({ Errors: [] })).toMatchObject({ ok: false, error: 'the report has no "OK" field' });
    expect(parseReport({ OK: false, Errors: [1] })).toMatchObject({ ok: false, error: '"Errors" must be a list of strings' });
    expect(parseReport([])).toMatchObject({ ok: false });
    expect(parseReport(null)).toMatchObject({ ok: false });
  });

  it('bounds the number and length of kept errors', () => {
    const r = parseReport({ OK: false, Errors: Array.from({ length: 150 }, (_, i) => `e${i}`.padEnd(5000, 'x')) });
    if (!r.ok) throw new Error(r.error);
    expect(r.report.errors).toHaveLength(101);
    expect(r.report.errors[0]!.length).toBe(2048);
    expect(r.report.errors[100]).toBe('(50 more errors not kept)');
  });

  it('recognises the Kuberhealthy annotation', () => {
    expect(expectsReport({ 'health.vigil.dev/kuberhealthy-check': 'true' })).toBe(true);
    expect(expectsReport({ 'health.vigil.dev/kuberhealthy-check': 'True' })).toBe(true);
    expect(expectsReport({ 'health.vigil.dev/kuberhealthy-check': 'false' })).toBe(false);
    expect(expectsReport({})).toBe(false);
    expect(expectsReport(undefined)).toBe(false);
  });
});

describe('ReportRegistry', () => {
  it('takes one report per open run before its deadline; unknown ids are 400, closed or late ones 410', () => {
    let now = 1_000_000;
    const r = new ReportRegistry({ now: () => now });
    expect(r.receive('nope', { ok: true, errors: [] })).toMatchObject({ status: 400, error: 'run uuid nope is invalid or expired' });
    r.openRun({ runId: 'a', namespace: 'ns', name: 'x', deadline: now + 10_000 });
    expect(r.receive('a', { ok: false, errors: ['e'] })).toMatchObject({ status: 200 });
    expect(r.receive('a', { ok: true, errors: [] })).toMatchObject({ status: 410, error: 'run a has already reported' });
    expect(r.closeRun('a')).toEqual({ ok: false, errors: ['e'] });
    expect(r.receive('a', { ok: true, errors: [] })).toMatchObject({ status: 410, error: expect.stringMatching(/has finished/) as unknown });

    r.openRun({ runId: 'b', namespace: 'ns', name: 'x', deadline: now + 10_000 });
    now += 10_001;
    expect(r.receive('b', { ok: true, errors: [] })).toMatchObject({ status: 410, error: expect.stringMatching(/past its deadline/) as unknown });
    expect(r.closeRun('b')).toBeUndefined();
  });

  it('a newer run of the same definition supersedes the open one', () => {
    const r = new ReportRegistry();
    r.openRun({ runId: 'old', namespace: 'ns', name: 'x', deadline: Date.now() + 60_000 });
    r.openRun({ runId: 'other', namespace: 'ns', name: 'y', deadline: Date.now() + 60_000 });
    r.openRun({ runId: 'new', namespace: 'ns', name: 'x', deadline: Date.now() + 60_000 });
    expect(r.receive('old', { ok: true, errors: [] })).toMatchObject({ status: 410, error: 'run old no longer accepts reports: superseded by run new' });
    expect(r.receive('other', { ok: true, errors: [] }).status).toBe(200);
    expect(r.receive('new', { ok: true, errors: [] }).status).toBe(200);
    expect(r.size).toBe(2);
  });

  it('forgets the oldest closed runs beyond its bound', () => {
    const r = new ReportRegistry({ rememberClosed: 2 });
    for (const id of ['1', '2', '3']) {
      r.openRun({ runId: id, namespace: 'ns', name: id, deadline: Date.now() + 60_000 });
      r.closeRun(id);
    }
    expect(r.receive('1', { ok: true, errors: [] }).status).toBe(400);
    expect(r.receive('3', { ok: true, errors: [] }).status).toBe(410);
  });
});
