/**
 * Nagios / Monitoring Plugins conventions: exit codes 0 OK, 1 WARNING, 2 CRITICAL,
 * 3 UNKNOWN, and a first output line `TEXT | 'label'=value[UOM];[warn];[crit];[min];[max] ...`.
 * Pure.
 */
import type { HealthState } from './model.js';

export function nagiosState(exitCode: number): HealthState {
  switch (exitCode) {
    case 0:
      return 'healthy';
    case 1:
      return 'degraded';
    case 2:
      return 'unhealthy';
    default:
      return 'unknown';
  }
}

export interface PerfDatum {
  label: string;
  value: number | null;
  uom?: string;
  warn?: string;
  crit?: string;
  min?: number;
  max?: number;
}

export interface PluginOutput {
  /** The service output: the first line's text before '|'. */
  message: string;
  perfdata: PerfDatum[];
}

/** Parses the first line of a plugin's stdout. Malformed perfdata items are skipped. */
export function parsePluginOutput(stdout: string): PluginOutput {
  const firstLine = (stdout.split('\n', 1)[0] ?? '').trim();
  const bar = firstLine.indexOf('|');
  const message = (bar === -1 ? firstLine : firstLine.slice(0, bar)).trim();
  const perfdata = bar === -1 ? [] : parsePerfData(firstLine.slice(bar + 1));
  return { message, perfdata };
}

const PERF_ITEM = /('(?:[^']|'')+'|[^\s=']+)=(\S*)/g;
const VALUE_UOM = /^(-?\d+(?:\.\d+)?|U)(s|ms|us|%|B|KB|MB|GB|TB|c)?$/;

export function parsePerfData(text: string): PerfDatum[] {
  const out: PerfDatum[] = [];
  for (const m of text.matchAll(PERF_ITEM)) {
    const rawLabel = m[1]!;
    const label = rawLabel.startsWith("'") ? rawLabel.slice(1, -1).replace(/''/g, "'") : rawLabel;
    const [valuePart = '', warn, crit, min, max] = m[2]!.split(';');
    const vm = VALUE_UOM.exec(valuePart);
    if (!vm) continue;
    const datum: PerfDatum = { label, value: vm[1] === 'U' ? null : Number(vm[1]) };
    if (vm[2]) datum.uom = vm[2];
    if (warn) datum.warn = warn;
    if (crit) datum.crit = crit;
    if (min && !Number.isNaN(Number(min))) datum.min = Number(min);
    if (max && !Number.isNaN(Number(max))) datum.max = Number(max);
    out.push(datum);
  }
  return out;
}
