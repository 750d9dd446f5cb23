/**
 * Replay files as scripted scenarios: a file dropped into `suites/regressions/` becomes a scenario of the
 * application suite, with no code. The scenario runs the file's plan against the target under test with that
 * run's params and profile, judges it with the fuzzer's model, and cites the requirements the file's findings
 * named.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FCGI_STDOUT } from '../../spec/constants.ts';
import { requirements, type RequirementId } from '../../spec/requirements.ts';
import { defineScenario, type Scenario } from '../define.ts';
import { executePlan } from './execute.ts';
import { judgeCase, type ConnectionObservation } from './model.ts';
import { buildWirePlan, wireRecordCount } from './plan.ts';
import { readReplayFile, type ReplayFile } from './replay.ts';

/** File names the loader takes. */
export const REGRESSION_SUFFIX = '.replay.json';

/** The scenario id of a replay file: `robustness.regression.<stem>`, the stem kept to `[a-z0-9-]`. */
export function regressionId(fileName: string): `${string}.${string}` {
  const stem = fileName.endsWith(REGRESSION_SUFFIX) ? fileName.slice(0, -REGRESSION_SUFFIX.length) : fileName;
  const slug = stem.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'replay';
  return `robustness.regression.${slug}`;
}

/** The requirements a replay file's findings name (those the catalog knows), fail and warn first. */
export function regressionRequirements(file: ReplayFile): [RequirementId, ...RequirementId[]] {
  const order = ['fail', 'warn', 'error', 'info', 'skip', 'pass'];
  const ids = [...file.findings]
    .sort((a, b) => order.indexOf(a.verdict) - order.indexOf(b.verdict))
    .map((f) => f.requirement)
    .filter((id, i, all) => Object.hasOwn(requirements, id) && all.indexOf(id) === i);
  const first = ids[0] ?? 'FCGI-3.3-any-segmentation-app';
  return [first, ...ids.slice(1)];
}

/** A scenario that runs a replay file's plan. */
export function regressionScenario(file: ReplayFile, fileName: string): Scenario {
  return defineScenario({
    id: regressionId(fileName),
    title: `regression: ${file.title}`,
    group: 'robustness',
    requirements: regressionRequirements(file),
    ...(file.options.probe ? { needs: { probe: true } } : {}),
    hostile: true,
    timeoutMs: 60_000,
    async run(ctx) {
      const wire = buildWirePlan(file.plan, { baseParams: ctx.baseParams, keepConn: ctx.profile.keepConn });
      const execution = await executePlan(wire, {
        connect: async () => (await ctx.connect()).raw,
        replyMs: ctx.timeouts.replyMs,
        closeMs: ctx.timeouts.closeMs,
        quietMs: ctx.timeouts.quietMs,
        barrier: false,
        signal: ctx.signal,
      });
      // A probe answers 501 `not implemented` for an action its implementation gives it no means to perform
      // (Go's net/http/fcgi and WSGI cannot write FCGI_STDERR): the replay's expectations do not apply then.
      const cannot = probeCannot(execution.connections.map((c) => c.observation));
      if (cannot) ctx.skip(`the probe app cannot do what this replay asks on this implementation (it answered 501 not implemented)`);
      const judged = judgeCase(
        wire,
        execution.connections.map((c) => c.observation),
        // appStatus is compared leniently: the regression runs against any probe, the PHP one included.
        { profile: ctx.profile, appStatus: 'lenient', strict: false },
      );
      ctx.check.observe('records', wireRecordCount(wire));
      ctx.check.observe('replay', `seed ${file.seed}, path ${file.path}`);
      for (const f of judged.findings) ctx.check.violation(f.requirement, f.expected, f.actual);
    },
  });
}

/** Whether some request's FCGI_STDOUT is the probe contract's `501 not implemented` answer. */
export function probeCannot(connections: readonly ConnectionObservation[]): boolean {
  for (const conn of connections) {
    const stdout = new Map<number, string>();
    for (const item of conn.log) {
      if (item.kind !== 'record' || item.record.type !== FCGI_STDOUT) continue;
      stdout.set(item.record.requestId, (stdout.get(item.record.requestId) ?? '') + Buffer.from(item.record.content).toString('latin1'));
    }
    for (const text of stdout.values()) if (/^Status: 501\b[^]*\r\n\r\nnot implemented\n$/.test(text)) return true;
  }
  return false;
}

/** Every `*.replay.json` in `dir`, by name, as scenarios. A file that cannot be read throws, naming it. */
export function loadRegressionScenarios(dir: string): Scenario[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(REGRESSION_SUFFIX)).sort();
  } catch {
    return [];
  }
  return names.map((n) => regressionScenario(readReplayFile(join(dir, n)), n));
}
