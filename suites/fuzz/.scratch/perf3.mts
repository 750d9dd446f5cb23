import { openTarget, startSession } from '../../../harness/commands/fuzz.ts';
import { fuzzPlan } from '../../arbitraries/plan.ts';
import { buildWirePlan } from '../plan.ts';
import { executePlan } from '../execute.ts';
import { judgeCase } from '../model.ts';
import { RawConnection } from '../../../reference/client/raw-connection.ts';
import fc from 'fast-check';
const opened = openTarget({ embedded: true });
const s = await startSession({ embedded: true }, opened);
const plans = fc.sample(fuzzPlan({ roles: s.profile.roles, keepConn: true, maxParams: 100, maxStdin: 100 }), { seed: 5, numRuns: 60 });
const t = { build: 0, exec: 0, judge: 0, exec16: 0 };
for (const p of plans) {
  let t0 = performance.now(); const wire = buildWirePlan(p, s.build); t.build += performance.now() - t0;
  t0 = performance.now();
  const e = await executePlan(wire, { connect: () => RawConnection.connect(opened.target.address), replyMs: 2000, closeMs: 2000, quietMs: 200, barrier: s.barrier });
  t.exec += performance.now() - t0;
  t0 = performance.now();
  await executePlan(wire, { connect: () => RawConnection.connect(opened.target.address, { timeoutMs: 2000, limits: { transcriptBytes: 16 << 20 } }), replyMs: 2000, closeMs: 2000, quietMs: 200, barrier: s.barrier });
  t.exec16 += performance.now() - t0;
  t0 = performance.now(); judgeCase(wire, e.connections.map(c => c.observation), s.model); t.judge += performance.now() - t0;
}
console.log(Object.fromEntries(Object.entries(t).map(([k, v]) => [k, (v / 60).toFixed(2)])));
await opened.target.stop();
