/**
 * Bench section `fuzz`: how many request plans per second `fcgispec fuzz` runs against the reference responder
 * in a process of its own (`fcgispec serve --listen fd:0`) over a Unix socket, each case judged and followed by
 * the liveness request, as in a real run.
 *
 * - default sizes: plans as `fcgispec fuzz` draws them (bodies up to 140 000 bytes, params up to 4 KiB).
 * - small plans: bodies and params up to 1 KiB, where the per-case costs (connections, liveness) dominate.
 * Each row runs `FCGISPEC_BENCH_FUZZ_S` seconds (default 15) from a fixed seed; a failure found is shrunk for at
 * most a second so that it barely counts. Figures are machine-dependent and never asserted by tests.
 */
import { fileURLToPath } from 'node:url';
import { fuzz, type FuzzOptions } from '../commands/fuzz.ts';
import type { BenchRow, BenchSection } from './section.ts';

const SERVE = fileURLToPath(new URL('../commands/serve.ts', import.meta.url));

function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

async function casesPerSecond(seconds: number, sizes: Pick<FuzzOptions, 'maxStdin' | 'maxParams'>): Promise<{ rate: number; cases: number; failures: number }> {
  const run = await fuzz(
    {
      spawn: `${process.execPath} --import tsx ${SERVE} --listen fd:0 --quiet`,
      spawnUnix: true,
      probe: true,
      time: `${seconds}s`,
      seed: 1,
      shrinkTime: '1s',
      maxFailures: 1,
      replayFiles: false,
      quiet: true,
      ...sizes,
    },
    { stdout: { write: () => true }, env: {} },
  );
  return { rate: run.casesPerSecond, cases: run.cases, failures: run.found.length };
}

export const fuzzSection: BenchSection = {
  name: 'fuzz',
  title: 'Fuzz throughput against the reference responder (separate process, Unix socket)',
  async run(): Promise<BenchRow[]> {
    const seconds = envNumber('FCGISPEC_BENCH_FUZZ_S', 15);
    const full = await casesPerSecond(seconds, {});
    const small = await casesPerSecond(seconds, { maxStdin: 1024, maxParams: 1024 });
    const note = (r: { cases: number; failures: number }): string => `${r.cases} cases in ${seconds} s, liveness request after each${r.failures ? `; ${r.failures} failure found` : ''}`;
    return [
      { name: 'fuzz, default sizes (bodies ≤ 140 000 bytes)', value: full.rate, unit: 'cases/s', note: note(full) },
      { name: 'fuzz, small plans (bodies, params ≤ 1 KiB)', value: small.rate, unit: 'cases/s', note: note(small) },
    ];
  },
};
