/**
 * The real `vigil agent` process with `store.kind: bucket` against a real S3-compatible
 * server on loopback (test/support/s3.ts): records arrive; a misconfigured or unreachable
 * store is reported at start naming the setting, checks keep running, records stay pending
 * (visible in /api/v1/status) and are delivered once the store is reachable.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess } from '../support/cli.js';
import { startS3, type S3Server } from '../support/s3.js';
import { tempDir } from '../support/tmp.js';
import { checkDefinition, shell } from '../support/check-definition.js';
import { parseYamlDocument, toYaml } from '../../agent/src/core/yaml.js';

let s3: S3Server;
let raw: S3Client;
beforeAll(async () => {
  s3 = await startS3({ buckets: ['kratix'] });
  raw = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
});
afterAll(async () => {
  raw.destroy();
  await s3.stop();
});

const agents: AgentProcess[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.stop('SIGKILL')));
});

async function keys(prefix: string): Promise<string[]> {
  const out = await raw.send(new ListObjectsV2Command({ Bucket: 'kratix', Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

interface Setup { root: string; prefix: string }

function start(store: Record<string, unknown>, secret: { id: string; key: string } = { id: s3.accessKeyId, key: s3.secretAccessKey }): { agent: AgentProcess; setup: Setup } {
  const root = tempDir('vigil-bucket-agent-');
  const prefix = `agent-${root.slice(-6).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`;
  mkdirSync(join(root, 'definitions'));
  for (const name of ['a', 'b']) {
    writeFileSync(join(root, 'definitions', `${name}.yaml`), toYaml(checkDefinition([shell('check', `echo "state: healthy" > "$KRATIX_OUTPUT_DIR/health-status.yaml"`)], { promiseRef: { name: 'demo' }, schedule: '@hourly' }, name)));
  }
  mkdirSync(join(root, 'secret'));
  writeFileSync(join(root, 'secret', 'accessKeyID'), `${secret.id}\n`);
  writeFileSync(join(root, 'secret', 'secretAccessKey'), `${secret.key}\n`);
  writeFileSync(join(root, 'vigil.yaml'), toYaml({
    destination: 'bucket',
    definitions: { paths: ['./definitions'] },
    dataDir: './data',
    store: { kind: 'bucket', endpoint: s3.hostPort, insecure: true, bucketName: 'kratix', path: prefix, authMethod: 'accessKey', secretDir: './secret', ...store },
    server: { listen: '127.0.0.1:0' },
    scheduler: { runOnStart: 'always', spreadSeconds: 0 },
  }));
  const agent = new AgentProcess(['--config', join(root, 'vigil.yaml')]);
  agents.push(agent);
  return { agent, setup: { root, prefix } };
}

interface StoreStatus { kind: string; pending: number; oldestPendingSeconds: number | null; lastError: { message: string } | null }

async function storeStatus(agent: AgentProcess): Promise<StoreStatus> {
  const response = await fetch(`${await agent.url()}/api/v1/status`);
  return ((await response.json()) as { store: StoreStatus }).store;
}

/** The store status once both records are pending (the two checks run concurrently). */
async function bothPending(agent: AgentProcess): Promise<StoreStatus> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = await storeStatus(agent);
    if (status.pending === 2 || Date.now() > deadline) return status;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('vigil agent with the bucket store', () => {
  it('writes every record to <path>/<namespace>/<name>.yaml in the bucket', async () => {
    const { agent, setup } = start({});
    const expected = [`${setup.prefix}/default/a-bucket.yaml`, `${setup.prefix}/default/b-bucket.yaml`];
    const deadline = Date.now() + 30_000;
    while ((await keys(setup.prefix)).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await keys(setup.prefix)).toEqual(expected);
    const object = await raw.send(new GetObjectCommand({ Bucket: 'kratix', Key: expected[0] }));
    expect(parseYamlDocument((await object.Body?.transformToString()) ?? '')).toMatchObject({ kind: 'HealthRecord', data: { state: 'healthy', promiseRef: { name: 'demo' } } });
    expect(agent.find((l) => l.msg === 'bucket state store ready')).toBeDefined();
  }, 90_000);

  it.each([
    ['a wrong secret key', { }, { id: 'VIGILTESTKEY', key: 'not-the-secret' }, /^store\.secretDir: the secretAccessKey does not match the accessKeyID at http:\/\/127\.0\.0\.1:\d+ \(SignatureDoesNotMatch\)$/],
    ['an unknown access key', { }, { id: 'NOBODY', key: 'x' }, /^store\.secretDir: the accessKeyID was rejected by .* \(InvalidAccessKeyId/],
    ['a missing bucket', { bucketName: 'no-such-bucket' }, undefined, /^store\.bucketName: bucket "no-such-bucket" does not exist at http:\/\/127\.0\.0\.1:\d+$/],
  ])('%s is reported at start naming the setting; checks run and their records stay pending', async (_what, store, secret, pattern) => {
    const { agent } = start(store, secret);
    const line = await agent.waitForLine((l) => l.msg === 'cannot list the state store; continuing', 'the store error at start', 30_000);
    expect(String(line.err)).toMatch(pattern);
    await agent.waitForLine((l) => l.msg === 'state store write failed; will retry', 'a record waiting for the store', 30_000);
    expect(agent.running).toBe(true);
    const status = await bothPending(agent);
    expect(status.kind).toBe('bucket');
    expect(status.pending).toBe(2);
    expect(status.oldestPendingSeconds).toBeGreaterThanOrEqual(0);
    expect(status.lastError?.message).toMatch(pattern);
    expect(agent.dump()).not.toContain('not-the-secret');
  }, 90_000);

  it('an endpoint down at start: checks run, records wait in the outbox, and arrive once it is up', async () => {
    await s3.down();
    let setup: Setup;
    try {
      const started = start({});
      setup = started.setup;
      const line = await started.agent.waitForLine((l) => l.msg === 'cannot list the state store; continuing', 'the store error at start', 30_000);
      expect(String(line.err)).toMatch(/^store\.endpoint: cannot reach "http:\/\/127\.0\.0\.1:\d+": ECONNREFUSED/);
      await started.agent.waitForLine((l) => l.msg === 'state store write failed; will retry', 'a record waiting for the store', 30_000);
      expect((await bothPending(started.agent)).pending).toBe(2);
    } finally {
      await s3.up();
    }
    const deadline = Date.now() + 60_000;
    while ((await keys(setup.prefix)).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await keys(setup.prefix)).toEqual([`${setup.prefix}/default/a-bucket.yaml`, `${setup.prefix}/default/b-bucket.yaml`]);
  }, 150_000);
});
