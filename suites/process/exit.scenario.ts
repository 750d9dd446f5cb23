/**
 * The end of an application's life: it exits when the web server sends SIGTERM, and its exit status says
 * whether it meant to (0) or crashed. @see §7
 */
import { defineScenario, type Scenario } from '../define.ts';
import { servedProblem } from '../kit.ts';
import { describeExit, launchAndAsk, PROCESS_SCENARIO_MS } from './launch.ts';

const EXIT_WAIT_MS = 5000;

const sigterm = defineScenario({
  id: 'process.sigterm',
  title: `exits within ${EXIT_WAIT_MS / 1000} s of SIGTERM when idle, and records its exit status`,
  group: 'process',
  requirements: ['FCGI-7-sigterm-exit', 'FCGI-7-exit-status'],
  needs: { spawn: true },
  timeoutMs: PROCESS_SCENARIO_MS,
  async run(ctx) {
    const { app, answer } = await launchAndAsk(ctx, { transport: 'tcp' });
    // The first request shows the process is up and has taken its connections; without FCGI_KEEP_CONN it is
    // idle once it has answered.
    const problem = answer.kind === 'answered' ? servedProblem(answer.obs) : answer.reason;
    if (problem !== undefined) ctx.skip(`the launched application did not serve a first request: ${problem}`);
    const started = performance.now();
    // §7: "A Web server can request that a FastCGI application exit by sending it SIGTERM. If the application
    // ignores SIGTERM the Web server can resort to SIGKILL."
    if (!app.signal('SIGTERM')) {
      const early = await app.waitExit(0);
      ctx.skip(`the launched application had already ended (${early ? describeExit(early) : 'unknown'}) before SIGTERM`);
    }
    const wait = ctx.timeouts.scale(EXIT_WAIT_MS);
    const exit = await app.waitExit(wait);
    const ms = Math.round(performance.now() - started);
    ctx.check.that(exit !== undefined, 'FCGI-7-sigterm-exit', `the idle application exits within ${wait} ms of SIGTERM`, `still running ${ms} ms after SIGTERM`);
    if (!exit) return;
    // §7: "A FastCGI application exits with zero status to indicate that it terminated on purpose … A FastCGI
    // application that exits with nonzero status is assumed to have crashed." Recorded: the spec gives SIGTERM
    // no status of its own.
    ctx.check.observe('exit after SIGTERM', `${describeExit(exit)} after ${ms} ms`);
    ctx.check.observe('exit status', exit.code ?? `signal ${exit.signal ?? 'unknown'}`);
  },
});

export const exitScenarios: readonly Scenario[] = [sigterm];
