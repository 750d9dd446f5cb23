import fc from 'fast-check';
import { startServe } from '/work/main/harness/commands/serve.ts';
import { RawConnection } from '/work/main/reference/client/raw-connection.ts';
import { parseAddress } from '/work/main/reference/address.ts';
import { fuzzPlan } from '/work/main/suites/arbitraries/plan.ts';
import { buildWirePlan, describePlan } from '/work/main/suites/fuzz/plan.ts';
import { executePlan } from '/work/main/suites/fuzz/execute.ts';
import { judgeCase } from '/work/main/suites/fuzz/model.ts';
import { defaultCgiParams } from '/work/main/harness/commands/app.ts';

const faults = process.argv.slice(3);
const h = await startServe({ listen: 'unix:/tmp/fz/ref.sock', log: false, faults });
const addr = parseAddress(h.address);
const opts = { roles: ['responder','authorizer','filter'] as const, keepConn: true, maxParams: 4096, maxStdin: 140000 };
const samples = fc.sample(fuzzPlan({ ...opts, roles: [...opts.roles] }), { numRuns: Number(process.argv[2] ?? 50), seed: 42 });
const profile = { roles: ['responder','authorizer','filter'] as const, multiplex: true, keepConn: true, probe: true };
let fails = 0; const t0 = performance.now();
for (const [i, plan] of samples.entries()) {
  const wire = buildWirePlan(plan, { baseParams: defaultCgiParams, keepConn: true });
  const ex = await executePlan(wire, { connect: () => RawConnection.connect(addr, { limits: { transcriptBytes: 16 << 20 } }), replyMs: 2000, closeMs: 2000, quietMs: 200, barrier: true });
  const j = judgeCase(wire, ex.connections.map((c) => c.observation), { profile: { ...profile, roles: [...profile.roles] }, mpxsConns: '1', appStatus: 'exact', strict: false });
  const bad = j.findings.filter((f) => f.verdict !== 'info');
  if (bad.length) { fails++; console.log(`case ${i}:`, describePlan(plan, { baseParams: defaultCgiParams, keepConn: true }).join('\n'), JSON.stringify(bad, null, 1).slice(0, 3000), ex.connections.map(c=>c.observation.observedUntil)); if (fails > 3) break; }
}
console.log(`done ${samples.length} cases, ${fails} failing, ${((performance.now()-t0)/1000).toFixed(1)} s`);
await h.close(0);
