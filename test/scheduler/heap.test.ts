import { describe, expect, it } from 'vitest';
import { IndexedMinHeap } from '../../agent/src/scheduler/heap.js';

/** A seeded PRNG (mulberry32) so that the random cases are reproducible. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function drain(heap: IndexedMinHeap): [number, number][] {
  const out: [number, number][] = [];
  while (heap.size > 0) {
    const handle = heap.peek();
    out.push([handle, heap.peekPriority()!]);
    heap.delete(handle);
  }
  return out;
}

describe('IndexedMinHeap', () => {
  it('is empty at first', () => {
    const heap = new IndexedMinHeap(4);
    expect(heap.size).toBe(0);
    expect(heap.peek()).toBe(-1);
    expect(heap.peekPriority()).toBeUndefined();
    expect(heap.has(0)).toBe(false);
    expect(heap.priorityOf(0)).toBeUndefined();
    expect(heap.delete(3)).toBe(false);
  });

  it('yields many random entries in priority order, ties by handle, growing past its initial capacity', () => {
    const next = random(42);
    const heap = new IndexedMinHeap(8);
    const expected = new Map<number, number>();
    for (let handle = 0; handle < 20_000; handle++) {
      const priority = Math.floor(next() * 5_000); // many ties
      heap.set(handle, priority);
      expected.set(handle, priority);
    }
    expect(heap.size).toBe(20_000);
    const order = drain(heap);
    const reference = [...expected.entries()].sort((a, b) => a[1] - b[1] || a[0] - b[0]);
    expect(order).toEqual(reference);
  });

  it('re-prioritises and deletes entries at random without losing or duplicating any', () => {
    const next = random(7);
    const heap = new IndexedMinHeap(16);
    const expected = new Map<number, number>();
    for (let step = 0; step < 50_000; step++) {
      const handle = Math.floor(next() * 3_000);
      if (next() < 0.3) {
        expect(heap.delete(handle)).toBe(expected.delete(handle));
      } else {
        const priority = next() * 1e12;
        heap.set(handle, priority);
        expected.set(handle, priority);
      }
      if (step % 5_000 === 0 && expected.size > 0) {
        const min = Math.min(...expected.values());
        expect(heap.peekPriority()).toBe(min);
      }
    }
    expect(heap.size).toBe(expected.size);
    for (const [handle, priority] of expected) expect(heap.priorityOf(handle)).toBe(priority);
    const reference = [...expected.entries()].sort((a, b) => a[1] - b[1] || a[0] - b[0]);
    expect(drain(heap)).toEqual(reference);
  });

  it('keeps one entry per handle however often it is set', () => {
    const heap = new IndexedMinHeap(2);
    for (let i = 0; i < 1_000; i++) heap.set(5, 1_000 - i);
    expect(heap.size).toBe(1);
    expect(heap.priorityOf(5)).toBe(1);
  });

  it('clear empties it and the handles can be reused', () => {
    const heap = new IndexedMinHeap(2);
    for (let i = 0; i < 10; i++) heap.set(i, i);
    heap.clear();
    expect(heap.size).toBe(0);
    expect(heap.has(3)).toBe(false);
    heap.set(3, 9);
    expect(heap.peek()).toBe(3);
  });

  it('rejects bad handles and NaN priorities, naming the value', () => {
    const heap = new IndexedMinHeap();
    expect(() => {
      heap.set(-1, 0);
    }).toThrow(/handle.*-1/);
    expect(() => {
      heap.set(1.5, 0);
    }).toThrow(/handle.*1\.5/);
    expect(() => {
      heap.set(2, Number.NaN);
    }).toThrow(/priority of handle 2/);
  });
});
