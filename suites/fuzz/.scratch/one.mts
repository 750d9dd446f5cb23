import { openTarget, startSession, CaseRunner } from '../../../harness/commands/fuzz.ts';
const plan = JSON.parse(process.argv[2]!);
const opened = openTarget({ embedded: true, faults: process.argv.slice(3), timeoutScale: 0.25 });
const s = await startSession({ embedded: true, timeoutScale: 0.25 }, opened);
const r = new CaseRunner(s);
const o = await r.run(plan);
console.log(o.failing, o.findings.map(f => `${f.verdict} ${f.requirement}: ${f.actual}`), o.execution.connections.map(c => c.observation.observedUntil));
await opened.target.stop();
