import fc from 'fast-check';
import { fuzzPlan } from '../../arbitraries/plan.ts';
const arb = fuzzPlan({ roles: ['responder','authorizer','filter'], keepConn: true, maxParams: 512, maxStdin: 4096 });
let n = 0;
const d = fc.check(fc.property(arb, (p) => { n++; return !p.connections.some(c => c.batches.some(b => b.requests.some(r => r.abort === 'after-begin'))); }), { seed: 1 });
console.log(n, JSON.stringify(d.counterexample?.[0]));
