/**
 * The options a `train` or `lra` run was started with, kept in its folder (options.json), so that
 * `--resume` needs only --out: every option not given on the command line comes from there. A
 * resumed run keeps the settings its steps were taken with; only how long it runs and how often it
 * evaluates, checkpoints and stops early may change.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../io/atomic.js';

export const OPTIONS_FILE = 'options.json';

/** Flags of one invocation, not of the run. */
const PER_INVOCATION = new Set(['out', 'resume', 'overwrite', 'json', 'device']); // device: the same math on any backend
/** Flags a resumed run may change: none of them changes the steps already taken. */
const RESUME_MAY_CHANGE = ['steps', 'epochs', 'evalEvery', 'checkpointEvery', 'patience'];

/** Whether the user gave an option on the command line (commander: getOptionValueSource(name) === 'cli'). */
export type GivenOnCommandLine = (name: string) => boolean;

const flag = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
const shown = (v: unknown) => (v === undefined ? 'default' : String(v));
/** The flags of RESUME_MAY_CHANGE, for help texts. */
export const RESUME_MAY_CHANGE_FLAGS = RESUME_MAY_CHANGE.map(flag).join(', ');

/**
 * The options of the run: on --resume, the stored ones overlaid with those given on the command
 * line; a given one that would change the run's math is refused, naming it and the stored value.
 */
export function runOptions<T extends { resume?: boolean }>(command: string, out: string, o: T, given: GivenOnCommandLine = () => true): T {
  if (!o.resume) return o;
  const path = join(out, OPTIONS_FILE);
  const stored = readRunOptions(command, out);
  if (!stored) {
    console.error(`warning: ${path} is missing (a run of an earlier version): resuming with the options given now`);
    return o;
  }
  const merged: Record<string, unknown> = { ...o };
  for (const key of new Set([...Object.keys(stored), ...Object.keys(o)])) {
    if (PER_INVOCATION.has(key)) continue;
    if (!given(key)) {
      if (key in stored) merged[key] = stored[key];
      continue;
    }
    const [now, then] = [(o as Record<string, unknown>)[key], stored[key]];
    if (JSON.stringify(now) === JSON.stringify(then) || RESUME_MAY_CHANGE.includes(key)) continue;
    throw new Error(
      `${command}: ${flag(key)} ${shown(now)} differs from this run's ${shown(then)} (${path}); a resumed run keeps the settings it was started with. ` +
      `Leave ${flag(key)} out, or start a new run (--overwrite, or another --out). Only ${RESUME_MAY_CHANGE_FLAGS} may change on --resume.`,
    );
  }
  return merged as T;
}

/** The options a run folder was started with (its options.json), or undefined for a run made before them. */
export function readRunOptions(command: string, out: string): Record<string, unknown> | undefined {
  const path = join(out, OPTIONS_FILE);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${command}: cannot read the run's options from ${path}: ${(e as Error).message}`);
  }
}

/** Writes the run's options (those of the run, not of this invocation) to its folder, atomically. */
export function saveRunOptions(out: string, o: object): void {
  const kept = Object.fromEntries(Object.entries(o).filter(([k]) => !PER_INVOCATION.has(k)));
  writeFileAtomicSync(join(out, OPTIONS_FILE), JSON.stringify(kept, null, 2) + '\n');
}
