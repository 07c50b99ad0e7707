/** Small helpers shared by the CLI commands. */
import { InvalidArgumentError } from 'commander';

/** commander parser for non-negative integers. */
export function integer(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a non-negative integer');
  return Number(value);
}

/** Prints to stderr and exits. */
export function fail(message: string, code: number): never {
  process.stderr.write(`vigil: ${message}\n`);
  process.exit(code);
}
