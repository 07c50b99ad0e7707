/**
 * SIGKILL mid-flush: the real `vigil agent` with the git store is killed, together with every
 * process it started (git push, receive-pack, the remote's hook: what a container kill or an
 * OOM kill does), while a push is in progress. After a restart the repositories are not
 * corrupt (git fsck) and every record the agent had produced arrives, from the outbox alone
 * (the restarted agent runs no check).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentProcess } from '../support/cli.js';
import { bareRemote, git, listFiles } from '../support/git.js';
import { tempDir, waitFor } from '../support/tmp.js';
import { checkDefinition, shell } from '../support/check-definition.js';
import { toYaml } from '../../agent/src/core/yaml.js';

const DEFINITIONS = 40;

const agents: AgentProcess[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.stop('SIGKILL')));
});

/** Pids of every live descendant of `root` (from /proc: parent links). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
    } catch {
      continue;
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const walk = (pid: number): void => {
    for (const child of children.get(pid) ?? []) {
      out.push(child);
      walk(child);
    }
  };
  walk(root);
  return out;
}

function records(remote: string): string[] {
  try {
    return listFiles(remote, 'main').filter((f) => f.startsWith('records/')).sort();
  } catch {
    return [];
  }
}

function outboxEntries(dataDir: string): number {
  const dir = join(dataDir, 'outbox', 'default');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).length : 0;
}

describe('vigil agent with the git store, killed by SIGKILL mid-push', () => {
  it('leaves no corrupt repository and delivers every record after a restart', async () => {
    const root = tempDir('vigil-git-kill-');
    const remote = bareRemote(root);
    // The branch exists already, so the agent's start (clone, list) pushes nothing.
    git(root, 'clone', '-q', remote, 'seed');
    writeFileSync(join(root, 'seed', 'README.md'), 'platform state\n');
    git(join(root, 'seed'), 'add', 'README.md');
    git(join(root, 'seed'), 'commit', '-q', '-m', 'seed');
    git(join(root, 'seed'), 'push', '-q', 'origin', 'HEAD:main');
    // A slow remote: while `slow` exists, the pre-receive hook marks the push and sleeps.
    const hook = join(remote, 'hooks', 'pre-receive');
    writeFileSync(hook, `#!/bin/sh\nif [ -e "${join(root, 'slow')}" ]; then touch "${join(root, 'push-started')}"; sleep 30; fi\nexit 0\n`);
    chmodSync(hook, 0o755);
    writeFileSync(join(root, 'slow'), '');

    mkdirSync(join(root, 'definitions'));
    const expected: string[] = [];
    for (let i = 0; i < DEFINITIONS; i++) {
      const name = `check-${i}`;
      writeFileSync(join(root, 'definitions', `${name}.yaml`), toYaml(checkDefinition([shell('check', `echo "state: healthy" > "$KRATIX_OUTPUT_DIR/health-status.yaml"`)], { promiseRef: { name: 'demo' }, schedule: '@hourly' }, name)));
      expected.push(`records/default/${name}-killed.yaml`);
    }
    const dataDir = join(root, 'data');
    const config = (runOnStart: string): string => {
      const file = join(root, `vigil-${runOnStart}.yaml`);
      writeFileSync(file, toYaml({
        destination: 'killed',
        definitions: { paths: ['./definitions'] },
        dataDir: './data',
        store: { kind: 'git', url: remote, branch: 'main', path: 'records', flushIntervalSeconds: 1 },
        server: { listen: 'off' },
        scheduler: { runOnStart, spreadSeconds: 0 },
      }));
      return file;
    };

    const first = new AgentProcess(['--config', config('always')]);
    agents.push(first);
    // The first push (creating the branch, or the first batch) hangs in the hook; meanwhile every
    // check finishes and its record waits in the outbox.
    await waitFor(() => existsSync(join(root, 'push-started')), 'a push in progress', 60_000);
    await waitFor(() => first.lines.filter((l) => l.msg === 'run finished').length === DEFINITIONS, 'every check to finish', 60_000);
    expect(outboxEntries(dataDir)).toBe(DEFINITIONS);

    const pid = first.child.pid!;
    const tree = descendants(pid);
    expect(tree.length).toBeGreaterThan(0); // git push and the hook are running
    first.child.kill('SIGKILL');
    for (const p of tree) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await first.wait();
    rmSync(join(root, 'slow'));
    expect(records(remote)).toEqual([]);
    expect(outboxEntries(dataDir)).toBe(DEFINITIONS);

    // Restart without running any check: everything comes from the outbox.
    const second = new AgentProcess(['--config', config('never')]);
    agents.push(second);
    await waitFor(() => records(remote).length === DEFINITIONS, `${DEFINITIONS} records on the remote`, 60_000);
    expect(records(remote)).toEqual(expected.sort());
    expect(second.lines.filter((l) => l.msg === 'run finished')).toEqual([]);
    expect(second.find((l) => l.msg === 'resuming delivery of records left in the outbox')).toMatchObject({ records: DEFINITIONS });
    await waitFor(() => outboxEntries(dataDir) === 0, 'an empty outbox', 30_000);

    expect(() => git(remote, 'fsck', '--strict', '--no-progress')).not.toThrow();
    expect(git(remote, 'rev-list', '--merges', '--count', 'main')).toBe('0');
    const clone = join(dataDir, 'git', 'repo');
    expect(() => git(clone, 'fsck', '--no-progress')).not.toThrow();
    expect(git(clone, 'status', '--porcelain')).toBe('');
    expect(git(clone, 'rev-parse', 'HEAD')).toBe(git(remote, 'rev-parse', 'main'));
    await second.stop();
  }, 180_000);
});
