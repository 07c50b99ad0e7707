import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../agent/src/logging/logger.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { stream, lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('logger', () => {
  it('writes JSON with the level, time and message', () => {
    const { stream, lines } = capture();
    const log = createLogger({ level: 'info', destination: stream });
    log.child({ definition: 'default/web' }).info({ state: 'healthy' }, 'run finished');
    log.debug('hidden');
    expect(lines()).toEqual([expect.objectContaining({ level: 30, name: 'vigil', definition: 'default/web', state: 'healthy', msg: 'run finished', time: expect.any(String) })]);
  });

  it('redacts secrets wherever the known paths appear', () => {
    const { stream, lines } = capture();
    const log = createLogger({ level: 'info', destination: stream });
    log.info({
      password: 'p1',
      target: { bearer_token: 'p2', token: 'p3', headers: { authorization: 'Bearer p4' } },
      creds: { secretAccessKey: 'p5', accessKeyID: 'p6', sshPrivateKey: 'p7' },
      container: { env: [{ name: 'DB_PASSWORD', value: 'p8' }] },
    }, 'hello');
    const text = JSON.stringify(lines());
    for (const secret of ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8']) expect(text).not.toContain(`"${secret}"`);
    expect(text).not.toContain('Bearer p4');
    expect(text).toContain('[redacted]');
  });
});
