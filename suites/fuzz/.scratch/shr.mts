import { fuzz } from '../../../harness/commands/fuzz.ts';
const t0 = performance.now();
const run = await fuzz({ embedded: true, faults: [process.argv[2] ?? 'echo-wrong'], runs: 50, seed: 31337, maxStdin: 2000, timeoutScale: 0.5, shrinkTime: '10s', replayFiles: false, quiet: true, maxFailures: 1 }, { stdout: { write: () => true }, env: {} });
for (const f of run.found) console.log('shrinkCases', f.shrinkCases, 'path', f.path, 'records', JSON.stringify(f.plan).length, 'causes', f.causes.length);
console.log('ms', performance.now() - t0, 'cases', run.cases);
