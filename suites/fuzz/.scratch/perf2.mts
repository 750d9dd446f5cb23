import { openTarget, startSession } from '../../../harness/commands/fuzz.ts';
import { fuzzPlan } from '../../arbitraries/plan.ts';
import { buildWirePlan, describePlan } from '../plan.ts';
import { executePlan } from '../execute.ts';
import { RawConnection } from '../../../reference/client/raw-connection.ts';
import { sanityCheck } from '../../../harness/liveness.ts';
import fc from 'fast-check';
const opened = openTarget({ embedded: true });
const s = await startSession({ embedded: true }, opened);
const plans = fc.sample(fuzzPlan({ roles: s.profile.roles, keepConn: true, maxParams: 100, maxStdin: 100 }), { seed: 5, numRuns: 60 });
const ex: number[] = []; const lv: number[] = [];
for (const p of plans) {
  const wire = buildWirePlan(p, s.build);
  let t0 = performance.now();
  const e = await executePlan(wire, { connect: () => RawConnection.connect(opened.target.address), replyMs: 2000, closeMs: 2000, quietMs: 200, barrier: s.barrier });
  const d = performance.now() - t0; ex.push(d);
  if (d > 100) console.log(d.toFixed(0), e.connections.map(c => c.observation.observedUntil), describePlan(p, s.build).join(' | '));
  t0 = performance.now();
  await sanityCheck({ address: opened.target.address, baseParams: s.baseParams, probe: true, timeoutMs: 2000 });
  lv.push(performance.now() - t0);
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!.toFixed(1);
console.log('exec median', med(ex), 'liveness median', med(lv));
await opened.target.stop();
