/** The HealthDefinition field a schedule problem belongs to: `spec.schedule` or `spec.timeZone`. */
export type ScheduleField = 'schedule' | 'timeZone';

/**
 * A schedule or time zone that vigil (and a Kubernetes CronJob) would not accept.
 * The message is user-facing and quotes the offending input; callers prefix it with
 * the object and field, e.g. `default/web: spec.schedule: "@every 5m" is not supported ...`.
 */
export class ScheduleError extends Error {
  constructor(
    readonly field: ScheduleField,
    message: string,
  ) {
    super(message);
    this.name = 'ScheduleError';
  }
}

const MAX_QUOTED = 80;

/** Quotes user input for a message: JSON string syntax (control characters escaped), long input shortened. */
export function quote(input: string): string {
  return JSON.stringify(input.length > MAX_QUOTED ? `${input.slice(0, MAX_QUOTED)}...` : input);
}
