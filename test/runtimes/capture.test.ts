import { describe, expect, it } from 'vitest';
import { BoundedCapture } from '../../agent/src/runtimes/capture.js';

function feed(capture: BoundedCapture, chunks: string[]): void {
  for (const chunk of chunks) capture.push(Buffer.from(chunk));
}

describe('BoundedCapture', () => {
  it('keeps everything that fits', () => {
    const c = new BoundedCapture(16);
    feed(c, ['hello ', 'world', '!']);
    expect(c.result()).toEqual({ text: 'hello world!', bytes: 12, truncated: false });
  });

  it('keeps exactly the budget without marking it truncated', () => {
    const c = new BoundedCapture(8);
    feed(c, ['abcd', 'efgh']);
    expect(c.result()).toEqual({ text: 'abcdefgh', bytes: 8, truncated: false });
  });

  it('keeps the head and the tail halves and counts the middle', () => {
    const c = new BoundedCapture(8);
    feed(c, ['ab', 'cdef', 'ghij', 'klmn', 'op']);
    expect(c.result()).toEqual({ text: 'abcd\n[... 8 bytes omitted ...]\nmnop', bytes: 16, truncated: true });
  });

  it('takes the tail from inside a single large chunk', () => {
    const c = new BoundedCapture(6);
    feed(c, ['0123456789']);
    expect(c.result()).toEqual({ text: '012\n[... 4 bytes omitted ...]\n789', bytes: 10, truncated: true });
  });

  it('stays bounded however much is pushed', () => {
    const c = new BoundedCapture(1024);
    const chunk = Buffer.alloc(65536, 'x');
    for (let i = 0; i < 1600; i++) c.push(chunk); // 100 MiB
    const r = c.result();
    expect(r.bytes).toBe(1600 * 65536);
    expect(r.truncated).toBe(true);
    expect(r.text.replace(/\n\[\.\.\. \d+ bytes omitted \.\.\.\]\n/, '')).toBe('x'.repeat(1024));
  });

  it('reports an empty stream', () => {
    expect(new BoundedCapture().result()).toEqual({ text: '', bytes: 0, truncated: false });
  });
});
