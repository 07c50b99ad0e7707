/**
 * Bounded capture of a child's stdout or stderr: the first half of the budget keeps the
 * head of the stream, the second half a rolling tail, everything in between is only
 * counted. Memory stays under the budget plus one pipe chunk whatever the child prints.
 */
import type { CapturedOutput } from '../core/interfaces.js';

/** Default budget per stream. */
export const DEFAULT_MAX_CAPTURE_BYTES = 64 * 1024;

export class BoundedCapture {
  private readonly headLimit: number;
  private readonly tailLimit: number;
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  /** Total bytes pushed so far. */
  bytes = 0;

  constructor(maxBytes: number = DEFAULT_MAX_CAPTURE_BYTES) {
    this.headLimit = Math.ceil(maxBytes / 2);
    this.tailLimit = Math.floor(maxBytes / 2);
  }

  /** Accepts one chunk of the stream (bound to `this`, usable as a 'data' listener). */
  readonly push = (chunk: Buffer): void => {
    this.bytes += chunk.length;
    let rest = chunk;
    if (this.headBytes < this.headLimit) {
      const take = Math.min(this.headLimit - this.headBytes, rest.length);
      // Copy when only part of the chunk is kept, so the rest of a large chunk is not retained.
      this.head.push(take === rest.length ? rest : Buffer.from(rest.subarray(0, take)));
      this.headBytes += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0 || this.tailLimit === 0) return;
    if (rest.length >= this.tailLimit) {
      this.tail = [Buffer.from(rest.subarray(rest.length - this.tailLimit))];
      this.tailBytes = this.tailLimit;
      return;
    }
    this.tail.push(rest);
    this.tailBytes += rest.length;
    while (this.tailBytes - this.tail[0]!.length >= this.tailLimit) this.tailBytes -= this.tail.shift()!.length;
  };

  /** The captured text; when bytes were dropped, head and tail are joined by a marker line. */
  result(): CapturedOutput {
    if (this.bytes === 0) return { text: '', bytes: 0, truncated: false };
    const head = Buffer.concat(this.head, this.headBytes).toString('utf8');
    const kept = this.headBytes + Math.min(this.tailBytes, this.tailLimit);
    const truncated = this.bytes > kept;
    let tail = '';
    if (this.tailBytes > 0) {
      const all = Buffer.concat(this.tail, this.tailBytes);
      tail = (this.tailBytes > this.tailLimit ? all.subarray(this.tailBytes - this.tailLimit) : all).toString('utf8');
    }
    if (!truncated) return { text: head + tail, bytes: this.bytes, truncated };
    return { text: `${head}\n[... ${this.bytes - kept} bytes omitted ...]\n${tail}`, bytes: this.bytes, truncated };
  }
}
