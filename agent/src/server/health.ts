/**
 * The khealth-style answer for one definition: the HTTP status says it all (200 healthy or
 * ready, 500 unhealthy or degraded, 503 unknown or not yet run, 404 no such definition) and
 * the body is one line of text. A load balancer or uptime monitor can point straight at it.
 * Pure.
 */
import type { CheckView } from './provider.js';

export function healthAnswer(check: CheckView | undefined, key: string, supported: boolean): { status: number; text: string } {
  if (!supported) return { status: 501, text: 'this agent has no per-definition health' };
  if (!check) return { status: 404, text: `no definition ${key}` };
  const last = check.history[0];
  if (!last) return { status: 503, text: `${key}: not yet run${check.running ? ' (first run in progress)' : ''}` };
  const at = new Date(last.finishedAt).toISOString();
  const why = oneLine(last.reason ? `${last.reason}${last.message ? `: ${last.message}` : ''}` : (last.errors?.join('; ') ?? last.message ?? ''));
  const text = `${key}: ${last.state} at ${at}${why ? ` (${why})` : ''}`;
  switch (last.state) {
    case 'healthy':
    case 'ready':
      return { status: 200, text };
    case 'unhealthy':
    case 'degraded':
      return { status: 500, text };
    default:
      return { status: 503, text };
  }
}

function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 299)}…` : flat;
}
