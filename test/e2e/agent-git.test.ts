/**
 * End to end with the Git state store: `vigil agent` commits its records to a real bare
 * repository, in batches; a remote that does not exist at start only delays delivery.
 */
import { renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentProcess } from '../support/cli.js';
import { bareRemote, commitCount, listFiles, showFile } from '../support/git.js';
import { tempDir, waitFor } from '../support/tmp.js';
import { checkDefinition, shell } from '../support/check-definition.js';
import { parseYamlDocument, toYaml } from '../../agent/src/core/yaml.js';
import type { HealthRecord } from '../../agent/src/core/model.js';

/** Record files on the remote's main branch; none while the branch does not exist yet. */
function records(remote: string): string[] {
  try {
    return listFiles(remote, 'main').filter((f) => f.startsWith('platform-health/')).sort();
  } catch {
    return [];
  }
}

const agents: AgentProcess[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.stop('SIGKILL')));
});

function writeDefinitions(dir: string, names: string[]): void {
  mkdirSync(dir, { recursive: true });
  for (const name of names) {
    writeFileSync(join(dir, `${name}.yaml`), toYaml(checkDefinition([shell('check', `echo "state: healthy" > "$KRATIX_OUTPUT_DIR/health-status.yaml"`)], { promiseRef: { name: 'demo' }, schedule: '@hourly' }, name)));
  }
}

function start(root: string, remote: string): AgentProcess {
  const config = join(root, 'vigil.yaml');
  writeFileSync(config, toYaml({
    destination: 'gitops',
    definitions: { paths: ['./definitions'] },
    dataDir: './data',
    store: { kind: 'git', url: remote, branch: 'main', path: 'platform-health', flushIntervalSeconds: 1 },
    server: { listen: 'off' },
    scheduler: { runOnStart: 'always' },
  }));
  const agent = new AgentProcess(['--config', config]);
  agents.push(agent);
  return agent;
}

describe('vigil agent with the git store', () => {
  it('commits the records of a start-up in one batch under <path>/<namespace>/', async () => {
    const root = tempDir();
    const remote = bareRemote(root);
    writeDefinitions(join(root, 'definitions'), ['a', 'b', 'c']);
    start(root, remote);
    await waitFor(() => records(remote).length === 3, 'three records on the remote', 30_000);
    expect(records(remote)).toEqual([
      'platform-health/default/a-gitops.yaml',
      'platform-health/default/b-gitops.yaml',
      'platform-health/default/c-gitops.yaml',
    ]);
    const record = parseYamlDocument(showFile(remote, 'main', 'platform-health/default/a-gitops.yaml')!) as HealthRecord;
    expect(record.data).toMatchObject({ promiseRef: { name: 'demo' }, state: 'healthy' });
    // branch creation plus one batch: three records, one commit
    expect(commitCount(remote, 'main')).toBe(2);
  });

  it('keeps running when the remote is unreachable at start, and delivers once it appears', async () => {
    const root = tempDir();
    const remote = bareRemote(root);
    const hidden = join(root, 'hidden.git');
    renameSync(remote, hidden);
    writeDefinitions(join(root, 'definitions'), ['a']);
    const agent = start(root, remote);
    await agent.waitForLine((l) => l.msg === 'state store write failed; will retry' && /store\.url: cannot reach/.test(String(l.err)), 'a failed write naming store.url', 30_000);
    expect(agent.running).toBe(true);
    renameSync(hidden, remote);
    await waitFor(() => records(remote).includes('platform-health/default/a-gitops.yaml'), 'the record after the remote came back', 30_000);
  });
});
