/**
 * Parsers for the numeric flags of every command. Each refuses a value outside its range with
 * commander's InvalidArgumentError, so the command stops before any work with
 * "option '--lr <rate>' argument 'abc' is invalid. expected a positive number".
 */
import { InvalidArgumentError, Option } from 'commander';

/** A finite number that passes `ok`, else an error saying what was expected. */
function numberWhere(v: string, expected: string, ok: (n: number) => boolean): number {
  const n = v.trim() === '' ? NaN : Number(v); // Number('') is 0
  if (!Number.isFinite(n) || !ok(n)) throw new InvalidArgumentError(`expected ${expected}`);
  return n;
}

export const positiveNumber = (v: string): number => numberWhere(v, 'a positive number', (n) => n > 0);
export const nonNegativeNumber = (v: string): number => numberWhere(v, 'a number ≥ 0', (n) => n >= 0);
export const positiveInt = (v: string): number => numberWhere(v, 'a positive integer', (n) => Number.isSafeInteger(n) && n >= 1);
export const nonNegativeInt = (v: string): number => numberWhere(v, 'an integer ≥ 0', (n) => Number.isSafeInteger(n) && n >= 0);
/** Seeds are 32-bit: the seed stream keeps `seed >>> 0`, so a larger one would silently alias a smaller. */
export const seed = (v: string): number => numberWhere(v, 'an integer seed in [0, 4294967295]', (n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32);
export const port = (v: string): number => numberWhere(v, 'a port number in [0, 65535] (0: any free one)', (n) => Number.isInteger(n) && n >= 0 && n <= 65535);

/** A positive integer written in digits, as list items are. */
const isCount = (s: string) => /^\d+$/.test(s) && Number(s) >= 1 && Number.isSafeInteger(Number(s));

/** '512,1024' → [512, 1024]. */
export function positiveIntList(v: string): number[] {
  const items = v.split(',').map((s) => s.trim());
  if (!items.every(isCount)) throw new InvalidArgumentError('expected comma-separated positive integers such as 512,1024');
  return items.map(Number);
}

/** '1024x1024x1024,4096x768x3072' → [[1024, 1024, 1024], [4096, 768, 3072]]. */
export function matrixSizes(v: string): [number, number, number][] {
  return v.split(',').map((s) => {
    const dims = s.trim().split(/[x×]/);
    if (dims.length !== 3 || !dims.every(isCount)) throw new InvalidArgumentError(`expected comma-separated MxKxN sizes of positive integers, got '${s}'`);
    return dims.map(Number) as [number, number, number];
  });
}

/** An option whose value is parsed, with a default written as on the command line (shown that way in --help). */
export function parsedOption<T>(flags: string, description: string, parse: (v: string) => T, preset: string): Option {
  return new Option(flags, description).argParser(parse).default(parse(preset), preset);
}
