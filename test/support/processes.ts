/** Observing real processes from tests. */
import { readFileSync } from 'node:fs';

/** Whether `pid` is a live process (zombies waiting to be reaped count as dead). */
export function isAlive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return false;
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/** `name=<pid>` lines printed by a check script, as a record. */
export function pidsIn(text: string): Record<string, number> {
  const pids: Record<string, number> = {};
  for (const match of text.matchAll(/^(\w+)=(\d+)$/gm)) pids[match[1]!] = Number(match[2]);
  return pids;
}
