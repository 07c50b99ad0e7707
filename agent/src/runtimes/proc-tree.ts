/**
 * Killing everything a check started. A check runs as the leader of its own process
 * group, but a child may call setsid() or daemonize, so the group is not enough: the
 * tree is found in /proc (parent links, plus the run's marker variable in each
 * process's environment, which survives re-parenting), frozen with SIGSTOP so nothing
 * can fork while it is being collected, then killed with SIGKILL. Linux only.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Signals a pid or a process group (negative pid), ignoring processes that are already gone. */
export function signal(pid: number, sig: NodeJS.Signals): void {
  // process.kill throws on ESRCH, the usual case once a check has exited; without a stack
  // trace the throw costs ~3 µs instead of ~10 µs on the run's critical path.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    process.kill(pid, sig);
  } catch {
    // ESRCH (already gone) or EPERM (not ours): nothing more can be done.
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** SIGKILLs the process group led by `leader`. */
export function killGroup(leader: number): void {
  signal(-leader, 'SIGKILL');
}

interface Snapshot {
  children: Map<number, number[]>;
  marked: number[];
}

/** One pass over /proc: the parent of each process and, when `marker` is set, the processes whose environment holds it. */
function snapshot(marker: Buffer | undefined): Snapshot {
  const children = new Map<number, number[]>();
  const marked: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return { children, marked };
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) continue;
    const ppid = parentOf(pid);
    if (ppid === undefined) continue;
    const siblings = children.get(ppid);
    if (siblings) siblings.push(pid);
    else children.set(ppid, [pid]);
    if (marker && environHas(pid, marker)) marked.push(pid);
  }
  return { children, marked };
}

function parentOf(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ...": comm may contain spaces and parentheses, so parse after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ', 2);
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

function environHas(pid: number, marker: Buffer): boolean {
  let environ: Buffer;
  try {
    environ = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return false;
  }
  // The marker is "NAME=value\0"; it must start the block or follow a NUL.
  for (let at = environ.indexOf(marker); at !== -1; at = environ.indexOf(marker, at + 1)) {
    if (at === 0 || environ[at - 1] === 0) return true;
  }
  return false;
}

function descendantsIn(snap: Snapshot, root: number): number[] {
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of snap.children.get(queue.pop()!) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/**
 * Kills `root`, its process group, every descendant, and every process whose environment
 * contains `marker` (`NAME=value`, e.g. the run id variable). Processes are stopped first,
 * and the tree is re-read until no new process appears, so none can escape by forking.
 */
export function killTree(root: number, marker?: string): void {
  const markerBytes = marker === undefined ? undefined : Buffer.from(`${marker}\0`);
  const stopped = new Set<number>();
  signal(root, 'SIGSTOP');
  stopped.add(root);
  for (let round = 0; round < 8; round++) {
    const snap = snapshot(markerBytes);
    let added = false;
    for (const pid of [...descendantsIn(snap, root), ...snap.marked]) {
      if (stopped.has(pid)) continue;
      signal(pid, 'SIGSTOP');
      stopped.add(pid);
      added = true;
    }
    if (!added) break;
  }
  killGroup(root);
  for (const pid of stopped) signal(pid, 'SIGKILL');
}
