import { openTarget, startSession, CaseRunner } from '../../../harness/commands/fuzz.ts';
import { fuzzPlan } from '../../arbitraries/plan.ts';
import fc from 'fast-check';
const opened = openTarget({ embedded: true });
const s = await startSession({ embedded: true }, opened);
const r = new CaseRunner(s);
const plans = fc.sample(fuzzPlan({ roles: s.profile.roles, keepConn: true, maxParams: 100, maxStdin: 100 }), { seed: 5, numRuns: 60 });
const ds: number[] = [];
for (const p of plans) { const t0 = performance.now(); const o = await r.run(p); ds.push(performance.now() - t0); if (o.failing.length) console.log('FAIL', o.failing); }
ds.sort((a, b) => a - b);
console.log('median', ds[30]!.toFixed(1), 'p90', ds[54]!.toFixed(1), 'max', ds[59]!.toFixed(1), 'sum', ds.reduce((a, b) => a + b, 0).toFixed(0));
// without liveness:
const t1 = performance.now();
for (const p of plans.slice(0, 30)) { const { buildWirePlan } = await import('../plan.ts'); }
await opened.target.stop();
