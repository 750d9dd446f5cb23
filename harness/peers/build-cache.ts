/**
 * Build artefacts of the probe apps (a gcc-compiled C app, a Go binary, an npm install), cached under the
 * system temp dir in a folder named after a hash of everything that goes into them: built once per machine
 * and source version, then reused by every test file and run.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HarnessError } from '../errors.ts';

/** Where the cached builds live; removing it only costs a rebuild. */
export const buildCacheRoot = join(tmpdir(), 'fcgispec-build-cache');

/** A hex digest (16 chars) of the inputs, in order. */
export function inputsHash(inputs: readonly (string | Uint8Array)[]): string {
  const hash = createHash('sha256');
  for (const input of inputs) {
    const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
    hash.update(`${bytes.length}:`);
    hash.update(bytes);
  }
  return hash.digest('hex').slice(0, 16);
}

/** What a cached build reports. */
export interface CachedBuild {
  /** The folder holding the artefacts. */
  readonly dir: string;
  /** Whether this call built it (false: it was in the cache). */
  readonly built: boolean;
  /** Time spent building, 0 when cached. */
  readonly buildMs: number;
}

// Builds in flight in this process, so that two callers wait for one build.
const inFlight = new Map<string, Promise<CachedBuild>>();

/**
 * The folder `buildCacheRoot/<name>-<hash of inputs>`, built by `build(tempDir)` when absent. The build runs
 * in a folder of its own that is renamed into place when complete, so concurrent processes never see half a
 * build: the first rename wins and the others discard theirs.
 */
export function cachedBuild(name: string, inputs: readonly (string | Uint8Array)[], build: (dir: string) => Promise<void>): Promise<CachedBuild> {
  const dir = join(buildCacheRoot, `${name}-${inputsHash(inputs)}`);
  const pending = inFlight.get(dir);
  if (pending) return pending;
  const promise = (async (): Promise<CachedBuild> => {
    if (existsSync(dir)) return { dir, built: false, buildMs: 0 };
    mkdirSync(buildCacheRoot, { recursive: true, mode: 0o755 });
    const work = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    mkdirSync(work, { mode: 0o755 });
    const t0 = performance.now();
    try {
      await build(work);
      try {
        renameSync(work, dir);
      } catch (err) {
        if (!existsSync(dir)) throw err; // another process won the race: use its build
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    return { dir, built: true, buildMs: performance.now() - t0 };
  })().finally(() => inFlight.delete(dir));
  inFlight.set(dir, promise);
  return promise;
}

/** How to run one build step. */
export interface BuildStep {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** The whole environment of the step. */
  readonly env: Readonly<Record<string, string>>;
  /** Deadline; 120 s by default. */
  readonly timeoutMs?: number;
}

/** Runs a build step; rejects with `HarnessError('E_SPAWN')` holding the tail of its output when it fails. */
export function runBuildStep(what: string, step: BuildStep): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      step.command,
      [...step.args],
      { cwd: step.cwd, env: { ...step.env }, timeout: step.timeoutMs ?? 120_000, maxBuffer: 4 * 1024 * 1024, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        if (!err) return resolve();
        const tail = `${stdout}${stderr}`.slice(-4000).trim();
        reject(new HarnessError('E_SPAWN', `${what}: ${step.command} ${step.args.join(' ')} failed (${err.message.split('\n')[0]})${tail ? `:\n${tail}` : ''}`, { cause: err }));
      },
    );
  });
}
