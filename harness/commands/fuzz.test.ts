// `fcgispec fuzz` and `fcgispec replay`: usage errors, a TCP target and a spawned one, reports and replay files,
// a replay giving the recorded verdict, shards whose reports merge, and both commands through a fresh yargs.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs, { type CommandModule } from 'yargs';
import { afterEach, describe, expect, it } from 'vitest';
import { mergeShards } from '../../reports/matrix.ts';
import { parseReport } from '../../reports/schema.ts';
import type { ComplianceReport } from '../../reports/model.ts';
import { DIAGNOSIS_PREFIX } from '../../suites/fuzz/campaign.ts';
import { formatReplay, readReplayFile } from '../../suites/fuzz/replay.ts';
import { HarnessError } from '../errors.ts';
import { startServe, type ServeHandle } from './serve.ts';
import { fuzz, fuzzCommand, parseDuration, replay, replayCommand, type FuzzOptions } from './fuzz.ts';

const SEED = 31_337;
console.log(`harness/commands/fuzz: seed ${SEED}`);
const SERVE = fileURLToPath(new URL('./serve.ts', import.meta.url));
const silent = { stdout: { write: (_t: string) => true }, env: {} };

const dirs: string[] = [];
const handles: ServeHandle[] = [];
afterEach(async () => {
  for (const h of handles.splice(0)) await h.close(0);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'fcgispec-fuzz-'));
  dirs.push(d);
  return d;
}

async function usageOf(o: FuzzOptions): Promise<string> {
  try {
    await fuzz(o, silent);
  } catch (err) {
    expect(err).toBeInstanceOf(HarnessError);
    expect((err as HarnessError).code).toBe('E_USAGE');
    return (err as HarnessError).message;
  }
  throw new Error('expected a usage error');
}

describe('fcgispec fuzz: usage', () => {
  it('refuses bad command lines before anything runs', async () => {
    expect(await usageOf({})).toMatch(/name a TARGET/);
    expect(await usageOf({ embedded: true, runs: 5, time: '5s' })).toMatch(/--runs or --time/);
    expect(await usageOf({ embedded: true, time: 'soon' })).toMatch(/--time "soon"/);
    expect(await usageOf({ embedded: true, shard: '1/2' })).toMatch(/--shard needs --seed/);
    expect(await usageOf({ embedded: true, shard: '3/2', seed: 1 })).toMatch(/K\/N/);
    expect(await usageOf({ embedded: true, path: '1:2' })).toMatch(/--path needs --seed/);
    expect(await usageOf({ target: 'tcp:127.0.0.1:9', faults: ['echo-wrong'] })).toMatch(/--fault needs --embedded/);
    expect(await usageOf({ target: 'nowhere' })).toMatch(/address "nowhere"/);
    expect(await usageOf({ embedded: true, faults: ['no-such-fault'] })).toMatch(/unknown fault/);
  });

  it('reads durations', () => {
    expect(parseDuration('60s', 'time')).toBe(60_000);
    expect(parseDuration('2m', 'time')).toBe(120_000);
    expect(parseDuration('250ms', 'time')).toBe(250);
    expect(parseDuration('1.5', 'time')).toBe(1500);
    expect(() => parseDuration('0s', 'time')).toThrow(HarnessError);
  });

  it('says a target that is not there is unreachable (exit 3)', async () => {
    const dir = tempDir();
    await expect(fuzz({ target: `unix:${join(dir, 'none.sock')}`, runs: 1, timeoutScale: 0.2 }, silent)).rejects.toMatchObject({ code: 'E_CONNECT' });
  });
});

describe('fcgispec fuzz: runs', () => {
  it('fuzzes a TCP target with the probe and finds nothing in the reference', async () => {
    const h = await startServe({ listen: 'tcp:127.0.0.1:0', log: false });
    handles.push(h);
    const dir = tempDir();
    const run = await fuzz({ target: h.address, probe: true, runs: 15, seed: SEED, maxStdin: 2000, json: join(dir, 'r.json'), replayDir: join(dir, 'replays') }, silent);
    expect(run.exitCode).toBe(0);
    const report = parseReport(readFileSync(join(dir, 'r.json'), 'utf8'));
    expect(report.ok).toBe(true);
    expect(run.report.results.map((r) => [r.id, r.verdict])).toEqual([['fuzz.run', 'pass']]);
    expect(run.report.results[0]!.observations['cases']).toBe(15);
    expect(existsSync(join(dir, 'replays'))).toBe(false);
  }, 60_000);

  it('fuzzes a spawned target (the reference on fd 0)', async () => {
    const run = await fuzz({ spawn: `${process.execPath} --import tsx ${SERVE} --listen fd:0 --quiet`, probe: true, runs: 8, seed: SEED, maxStdin: 2000, quiet: true }, silent);
    expect(run.exitCode).toBe(0);
    expect(run.report.target.address).toMatch(/^spawn: /);
  }, 60_000);

  it('writes a replay file that replays to the same verdict, and shows the shrunk transcript', async () => {
    const dir = tempDir();
    let out = '';
    const io = { stdout: { write: (t: string) => void (out += t) }, env: {} };
    const o: FuzzOptions = { embedded: true, faults: ['echo-wrong'], runs: 50, seed: SEED, maxStdin: 2000, timeoutScale: 0.5, shrinkTime: '10s', out: dir };
    const run = await fuzz(o, io);
    expect(run.exitCode).toBe(1);
    expect(run.replayFiles).toHaveLength(1);
    expect(out).toContain('shrunk plan:');
    expect(out).toContain('what came back:');
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as ComplianceReport;
    const failure = report.results.find((r) => r.id.startsWith('fuzz.failure.'))!;
    expect(failure.verdict).toBe('fail');
    expect(failure.requirements).toContain('FCGI-3.3-stream-value-app');
    expect(failure.transcript?.lines.some((l) => l.dir === 'received')).toBe(true);
    expect(failure.replay?.file).toBe(run.replayFiles[0]);
    expect(existsSync(join(dir, 'report.html'))).toBe(true);

    const file = readReplayFile(run.replayFiles[0]!);
    expect(file.seed).toBe(failure.replay?.seed);
    expect(file.records.length).toBeGreaterThan(0);
    const same = await replay({ file: run.replayFiles[0]!, embedded: true, faults: ['echo-wrong'], quiet: true }, silent);
    expect(same.same).toBe(true);
    expect(same.exitCode).toBe(1);
    // Against the reference without the fault the same plan passes: the verdict differs, exit code 0.
    const clean = await replay({ file: run.replayFiles[0]!, embedded: true, quiet: true }, silent);
    expect(clean.same).toBe(false);
    expect(clean.result.verdict).toBe('pass');
    expect(clean.exitCode).toBe(0);
    // A diagnosis finding comes from running the plan without a part of it, which a replay does not do: it does
    // not count when the verdicts are compared.
    const diagnosed = join(dir, 'diagnosed.replay.json');
    const cause = { requirement: 'FCGI-4.2-unknown-type-reply' as const, verdict: 'fail' as const, expected: `${DIAGNOSIS_PREFIX}x`, actual: 'y' };
    writeFileSync(diagnosed, formatReplay({ ...file, findings: [...file.findings, cause] }));
    expect((await replay({ file: diagnosed, embedded: true, faults: ['echo-wrong'], quiet: true }, silent)).same).toBe(true);
  }, 60_000);

  it('splits the seed space into shards whose reports merge into one', async () => {
    const shard = (k: number): Promise<ComplianceReport> =>
      fuzz({ embedded: true, faults: ['wrong-app-status'], runs: 4, seed: SEED, shard: `${k}/2`, maxStdin: 500, shrinkTime: '3s', replayFiles: false, quiet: true }, silent).then((r) => r.report);
    const [a, b] = [await shard(1), await shard(2)];
    const seedsA = a.results.flatMap((r) => (r.replay ? [r.replay.seed] : []));
    const seedsB = b.results.flatMap((r) => (r.replay ? [r.replay.seed] : []));
    expect(seedsA.filter((s) => seedsB.includes(s))).toEqual([]);
    const merged = mergeShards([a, b]);
    expect(merged.results.map((r) => r.id)).toEqual(expect.arrayContaining(['fuzz.run.shard-1-of-2', 'fuzz.run.shard-2-of-2']));
    expect(merged.summary.total).toBe(a.results.length + b.results.length);
  }, 60_000);
});

describe('the commands through yargs', () => {
  it('parses fuzz and replay options and sets the exit code', async () => {
    const dir = tempDir();
    const cli = (args: string[]): Promise<unknown> =>
      yargs(args)
        .command(fuzzCommand as unknown as CommandModule)
        .command(replayCommand as unknown as CommandModule)
        .strict()
        .fail((msg, err) => {
          throw err ?? new Error(msg);
        })
        .parseAsync();
    const before = process.exitCode;
    try {
      await cli(['fuzz', '--embedded', '--fault', 'wrong-unknown-role', '--runs', '40', '--seed', String(SEED), '--max-stdin', '100', '--timeout-scale', '0.5', '--shrink-time', '5s', '--quiet', '--replay-dir', dir]);
      expect(process.exitCode).toBe(1);
      const files = readdirSync(dir);
      expect(files).toHaveLength(1);
      process.exitCode = 0;
      await cli(['replay', join(dir, files[0]!), '--embedded', '--fault', 'wrong-unknown-role', '--quiet']);
      expect(process.exitCode).toBe(1);
      await expect(Promise.resolve().then(() => cli(['fuzz', '--embedded', '--bogus']))).rejects.toThrow(/bogus/);
    } finally {
      process.exitCode = before;
    }
  }, 60_000);
});
