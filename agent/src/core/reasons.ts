/**
 * The one vocabulary of machine-readable reasons a run can fail with. A result whose
 * check broke (as opposed to a target that is down) has state `unknown` and
 * `details.error.reason` set to one of these. Extend it here and only here.
 */
export const REASONS = {
  /** The run exceeded its timeout; the whole process tree was killed. */
  Timeout: 'Timeout',
  /** A container exited non-zero (in the default exit-code mode). */
  ExitCode: 'ExitCode',
  /** The run finished but wrote no health-status.yaml (and exit codes do not count). */
  MissingOutput: 'MissingOutput',
  /** health-status.yaml exists but is not valid (YAML, schema, size, symlink...). */
  InvalidOutput: 'InvalidOutput',
  /** A container could not be started (no executable, no engine, bad env...). */
  StartFailed: 'StartFailed',
  /** The container image could not be found or pulled. */
  ImagePull: 'ImagePull',
  /** Kubernetes could not schedule the check pod. */
  Unschedulable: 'Unschedulable',
  /** A Kuberhealthy-style check neither reported nor wrote a file before its deadline. */
  NoReport: 'NoReport',
} as const;

export type ReasonCode = (typeof REASONS)[keyof typeof REASONS];
export const REASON_CODES: readonly ReasonCode[] = Object.values(REASONS);
