/**
 * The one deadline and abort signal of a run. `timeoutMs` covers the whole run, so a
 * single timer is armed when the run starts; whatever is running when it fires (or when
 * the signal aborts) is told to kill itself through the registered callback.
 */

/** setTimeout's largest delay; longer timeouts are clamped to it (about 24.8 days). */
const MAX_DELAY_MS = 2 ** 31 - 1;

export type CancelReason = 'timeout' | 'abort';

export class RunCancellation {
  /** Set once the run is cancelled; never unset. */
  reason: CancelReason | undefined;
  private kill: (() => void) | undefined;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    timeoutMs: number,
    private readonly signal?: AbortSignal,
  ) {
    if (signal?.aborted) {
      this.reason = 'abort';
      return;
    }
    signal?.addEventListener('abort', this.onAbort, { once: true });
    if (timeoutMs !== Infinity) this.timer = setTimeout(this.onTimeout, Math.min(Math.max(0, timeoutMs), MAX_DELAY_MS));
  }

  /** Registers the kill callback of what runs now; calls it at once if the run is already cancelled. */
  onCancel(kill: () => void): void {
    if (this.reason) kill();
    else this.kill = kill;
  }

  /** Unregisters the kill callback (what ran has finished). */
  clear(): void {
    this.kill = undefined;
  }

  /** Disarms the timer and the abort listener; call when the run is over. */
  dispose(): void {
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    this.kill = undefined;
  }

  private readonly onTimeout = (): void => {
    this.cancel('timeout');
  };

  private readonly onAbort = (): void => {
    this.cancel('abort');
  };

  private cancel(reason: CancelReason): void {
    if (this.reason) return;
    this.reason = reason;
    const kill = this.kill;
    this.kill = undefined;
    kill?.();
  }
}
