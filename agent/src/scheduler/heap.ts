/**
 * An indexed binary min-heap of small integer handles ordered by a numeric priority.
 *
 * Handles are dense non-negative integers chosen by the caller (the scheduler's slot
 * numbers). Every handle is in the heap at most once and its position is tracked, so
 * `set` (insert or re-prioritise) and `delete` are O(log n) and nothing is ever left
 * behind: there is no lazy deletion and therefore nothing to compact. Storage is three
 * growable typed arrays (16 bytes per handle), not one object per entry.
 */
export class IndexedMinHeap {
  /** heap[i] is the handle at heap position i. */
  private heap: Int32Array;
  /** position[h] is the heap position of handle h, or -1 when h is not in the heap. */
  private position: Int32Array;
  /** priority[h] is the priority of handle h (meaningful only while h is in the heap). */
  private priorities: Float64Array;
  private count = 0;

  constructor(initialCapacity = 1024) {
    const capacity = Math.max(1, Math.floor(initialCapacity));
    this.heap = new Int32Array(capacity);
    this.position = new Int32Array(capacity).fill(-1);
    this.priorities = new Float64Array(capacity);
  }

  /** Number of handles in the heap. */
  get size(): number {
    return this.count;
  }

  has(handle: number): boolean {
    return handle >= 0 && handle < this.position.length && this.position[handle]! >= 0;
  }

  /** The priority of `handle`, or undefined when it is not in the heap. */
  priorityOf(handle: number): number | undefined {
    return this.has(handle) ? this.priorities[handle] : undefined;
  }

  /** The handle with the smallest priority (ties: smallest handle), or -1 when empty. */
  peek(): number {
    return this.count > 0 ? this.heap[0]! : -1;
  }

  /** The smallest priority, or undefined when empty. */
  peekPriority(): number | undefined {
    return this.count > 0 ? this.priorities[this.heap[0]!] : undefined;
  }

  /** Inserts `handle` with `priority`, or moves it there if it is already present. */
  set(handle: number, priority: number): void {
    if (!Number.isInteger(handle) || handle < 0 || handle > 0x7fffffff) {
      throw new RangeError(`heap handle must be a non-negative 31-bit integer, got ${handle}`);
    }
    if (Number.isNaN(priority)) throw new RangeError(`heap priority of handle ${handle} is NaN`);
    this.ensureHandleCapacity(handle + 1);
    const at = this.position[handle]!;
    if (at < 0) {
      this.ensureHeapCapacity(this.count + 1);
      this.priorities[handle] = priority;
      this.heap[this.count] = handle;
      this.position[handle] = this.count;
      this.count++;
      this.siftUp(this.count - 1);
      return;
    }
    const previous = this.priorities[handle]!;
    this.priorities[handle] = priority;
    if (priority < previous) this.siftUp(at);
    else this.siftDown(at);
  }

  /** Removes `handle`; returns false when it was not in the heap. */
  delete(handle: number): boolean {
    if (!this.has(handle)) return false;
    const at = this.position[handle]!;
    const last = this.count - 1;
    this.position[handle] = -1;
    this.count = last;
    if (at === last) return true;
    const moved = this.heap[last]!;
    this.heap[at] = moved;
    this.position[moved] = at;
    // The moved handle may belong above or below its new position.
    this.siftUp(at);
    this.siftDown(this.position[moved]);
    return true;
  }

  /** Removes every handle. */
  clear(): void {
    for (let i = 0; i < this.count; i++) this.position[this.heap[i]!] = -1;
    this.count = 0;
  }

  private less(a: number, b: number): boolean {
    const pa = this.priorities[a]!;
    const pb = this.priorities[b]!;
    return pa < pb || (pa === pb && a < b);
  }

  private siftUp(start: number): void {
    const heap = this.heap;
    const handle = heap[start]!;
    let i = start;
    while (i > 0) {
      const parentAt = (i - 1) >> 1;
      const parent = heap[parentAt]!;
      if (!this.less(handle, parent)) break;
      heap[i] = parent;
      this.position[parent] = i;
      i = parentAt;
    }
    heap[i] = handle;
    this.position[handle] = i;
  }

  private siftDown(start: number): void {
    const heap = this.heap;
    const count = this.count;
    const handle = heap[start]!;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= count) break;
      const right = left + 1;
      let child = left;
      if (right < count && this.less(heap[right]!, heap[left]!)) child = right;
      const childHandle = heap[child]!;
      if (!this.less(childHandle, handle)) break;
      heap[i] = childHandle;
      this.position[childHandle] = i;
      i = child;
    }
    heap[i] = handle;
    this.position[handle] = i;
  }

  private ensureHeapCapacity(needed: number): void {
    if (needed <= this.heap.length) return;
    const grown = new Int32Array(Math.max(needed, this.heap.length * 2));
    grown.set(this.heap.subarray(0, this.count));
    this.heap = grown;
  }

  private ensureHandleCapacity(needed: number): void {
    if (needed <= this.position.length) return;
    const capacity = Math.max(needed, this.position.length * 2);
    const position = new Int32Array(capacity).fill(-1);
    position.set(this.position);
    this.position = position;
    const priorities = new Float64Array(capacity);
    priorities.set(this.priorities);
    this.priorities = priorities;
  }
}
