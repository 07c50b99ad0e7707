/**
 * /metrics of a real in-process agent after real check runs: the exposition parses, carries
 * vigil's and Kuberhealthy's series with bounded labels, passes `promtool check metrics`,
 * and forgets a deleted definition.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shell } from '../support/check-definition.js';
import { waitFor } from '../support/tmp.js';
import { definitionYaml, startHarness, type Harness } from '../server/harness.js';

const PROMTOOL = '/usr/bin/promtool';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format (samples only; HELP/TYPE kept apart). */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparseable line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

function find(samples: Sample[], name: string, labels: Record<string, string>): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

describe('Prometheus metrics', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      files: {
        'healthy.yaml': definitionYaml('team', 'healthy', [shell('check', 'echo "state: healthy" > "$KRATIX_OUTPUT_DIR/health-status.yaml"')]),
        'broken.yaml': definitionYaml('team', 'broken', [shell('check', 'echo "boom: secret detail" >&2; exit 1')]),
      },
    });
    await waitFor(() => ['healthy', 'broken'].every((n) => (h.agent.check('team', n)?.history.length ?? 0) > 0), 'first runs');
  });
  afterAll(async () => { await h.close(); });

  async function scrape(): Promise<{ text: string; type: string | null }> {
    const res = await fetch(`${h.url}/metrics`);
    expect(res.status).toBe(200);
    return { text: await res.text(), type: res.headers.get('content-type') };
  }

  it('exports run counts, durations, states, queue and store gauges, and Kuberhealthy series', async () => {
    const { text, type } = await scrape();
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    const { samples, types } = parseExposition(text);
    expect(types.get('vigil_check_runs_total')).toBe('counter');
    expect(types.get('vigil_check_duration_seconds')).toBe('histogram');
    expect(find(samples, 'vigil_check_runs_total', { namespace: 'team', definition: 'healthy', state: 'healthy', reason: 'none' })[0]?.value).toBe(1);
    expect(find(samples, 'vigil_check_runs_total', { namespace: 'team', definition: 'broken', state: 'unknown', reason: 'ExitCode' })[0]?.value).toBe(1);
    expect(find(samples, 'vigil_check_duration_seconds_count', { namespace: 'team', definition: 'healthy' })[0]?.value).toBe(1);
    expect(find(samples, 'vigil_check_state', { namespace: 'team', definition: 'healthy', state: 'healthy' })[0]?.value).toBe(1);
    expect(find(samples, 'vigil_check_state', { namespace: 'team', definition: 'healthy', state: 'degraded' })[0]?.value).toBe(0);
    expect(find(samples, 'vigil_check_state', { namespace: 'team', definition: 'broken', state: 'unknown' })[0]?.value).toBe(1);
    const last = find(samples, 'vigil_check_last_run_timestamp_seconds', { definition: 'healthy' })[0]!.value;
    expect(Math.abs(last - Date.now() / 1000)).toBeLessThan(600);
    expect(find(samples, 'vigil_scheduler_queue_depth', {})[0]?.value).toBe(0);
    expect(find(samples, 'vigil_store_pending_records', { store: 'fs' })).toHaveLength(1);
    expect(find(samples, 'vigil_store_delivery_errors_total', { store: 'fs' })[0]?.value).toBe(0);
    expect(find(samples, 'vigil_signal_state', { state: 'RUN' })[0]?.value).toBe(1);
    expect(find(samples, 'kuberhealthy_check', { check: 'team/healthy', namespace: 'team', status: '1' })[0]?.value).toBe(1);
    expect(find(samples, 'kuberhealthy_check', { check: 'team/broken', namespace: 'team', status: '0' })[0]?.value).toBe(0);
    expect(find(samples, 'kuberhealthy_check_duration_seconds', { check: 'team/healthy', namespace: 'team' })).toHaveLength(1);
    expect(find(samples, 'kuberhealthy_cluster_state', {})[0]?.value).toBe(0);
    expect(find(samples, 'kuberhealthy_check_success_total', { check: 'team/healthy' })[0]?.value).toBe(1);
    expect(find(samples, 'kuberhealthy_check_failure_total', { check: 'team/broken' })[0]?.value).toBe(1);
    expect(find(samples, 'kuberhealthy_check_consecutive_failures', { check: 'team/broken' })[0]?.value).toBe(1);
    // Bounded labels: the error text never becomes a label value.
    expect(text).not.toContain('boom');
    expect(text).not.toContain('secret detail');
  });

  it.skipIf(!existsSync(PROMTOOL))('passes promtool check metrics', async () => {
    const { text } = await scrape();
    const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  });
  if (!existsSync(PROMTOOL)) console.warn(`skipping promtool check: ${PROMTOOL} is absent (Debian package prometheus)`);

  it('removes the series of a deleted definition', async () => {
    rmSync(join(h.defs, 'broken.yaml'));
    await waitFor(() => h.agent.check('team', 'broken') === undefined, 'the definition to be removed');
    const { samples } = parseExposition((await scrape()).text);
    expect(samples.filter((s) => s.labels.definition === 'broken' || s.labels.check === 'team/broken')).toEqual([]);
    expect(find(samples, 'vigil_check_runs_total', { definition: 'healthy' })).toHaveLength(1);
  });
});
