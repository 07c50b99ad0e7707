/**
 * Krkn-compatible run signal: RUN (normal), PAUSE (no new runs start; running ones finish)
 * and STOP (drain, write a final report, exit). STOP is final: once set, the state never
 * changes again. Listeners are told of every change.
 */
export const SIGNAL_STATES = ['RUN', 'PAUSE', 'STOP'] as const;
export type SignalState = (typeof SIGNAL_STATES)[number];

export function isSignalState(value: string): value is SignalState {
  return (SIGNAL_STATES as readonly string[]).includes(value);
}

export type SignalListener = (state: SignalState, previous: SignalState, by: string) => void;

export class SignalControl {
  private current: SignalState;
  private readonly listeners: SignalListener[] = [];
  private changedAtMs: number;

  constructor(initial: SignalState = 'RUN', private readonly now: () => number = Date.now) {
    this.current = initial;
    this.changedAtMs = now();
  }

  get state(): SignalState {
    return this.current;
  }

  get changedAt(): number {
    return this.changedAtMs;
  }

  /** True while new runs may start. */
  get running(): boolean {
    return this.current === 'RUN';
  }

  onChange(listener: SignalListener): void {
    this.listeners.push(listener);
  }

  /**
   * Sets the state; `by` says who (for the log). Returns false (and changes nothing) when
   * the agent is already stopping and another state is asked for.
   */
  set(state: SignalState, by: string): boolean {
    if (this.current === 'STOP' && state !== 'STOP') return false;
    const previous = this.current;
    if (previous === state) return true;
    this.current = state;
    this.changedAtMs = this.now();
    for (const l of this.listeners) l(state, previous, by);
    return true;
  }
}
