/**
 * Bounds the requests a store has in flight (a burst of thousands of records must not open
 * thousands of sockets or time out waiting for one). Waiters are served in order: a finishing
 * request hands its slot straight to the next waiter.
 */
export class RequestLimiter {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly max: number) {}

  /** Runs `request` once fewer than `max` requests are in flight. */
  async run<T>(request: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.max) await new Promise<void>((resolve) => { this.waiting.push(resolve); });
    else this.inFlight++;
    try {
      return await request();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.inFlight--;
    }
  }
}
