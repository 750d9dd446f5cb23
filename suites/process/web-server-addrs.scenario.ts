/**
 * FCGI_WEB_SERVER_ADDRS: a spawned application serves only peers in the list and closes every other
 * connection, non-TCP ones included, without sending anything. Each scenario starts its own instance with
 * the variable bound. @see §3.2
 */
import type { LaunchOptions, Scenario, ScenarioContext } from '../define.ts';
import { defineScenario } from '../define.ts';
import { describeObservation, servedProblem } from '../kit.ts';
import { launchAndAsk, PROCESS_SCENARIO_MS, STARTUP_MS } from './launch.ts';

/** The harness connects from 127.0.0.1; 127.0.0.2 is another loopback address that is never the peer. */
const HARNESS_ADDR = '127.0.0.1';
const OTHER_ADDR = '127.0.0.2';

// §3.2: "If FCGI_WEB_SERVER_ADDRS was bound, the application checks the peer IP address of the new connection
// for membership in the list. If the check fails (including the possibility that the connection didn't use
// TCP/IP transport), the application responds by closing the connection."
async function expectRefused(ctx: ScenarioContext, options: LaunchOptions, what: string): Promise<void> {
  const { answer } = await launchAndAsk(ctx, options);
  if (answer.kind === 'no-connection') {
    ctx.check.violation('FCGI-3.2-web-server-addrs', `${what}: accepted, then closed without a record`, answer.reason);
    return;
  }
  const obs = answer.obs;
  ctx.check.that(
    obs.ending === 'closed' && obs.records.length === 0,
    'FCGI-3.2-web-server-addrs',
    `${what}: the connection closed without any record`,
    servedProblem(obs) === undefined ? `the request was served: ${describeObservation(obs)}` : describeObservation(obs),
  );
  if (obs.ending === 'closed') ctx.check.observe('close', `${obs.closeHow ?? 'end'} after ${Math.round(obs.elapsedMs)} ms`);
}

const listed = defineScenario({
  id: 'process.web-server-addrs.listed',
  title: `serves a peer listed in FCGI_WEB_SERVER_ADDRS (${OTHER_ADDR},${HARNESS_ADDR}; the harness connects from ${HARNESS_ADDR})`,
  group: 'process',
  requirements: ['FCGI-3.2-web-server-addrs'],
  needs: { spawn: true },
  timeoutMs: PROCESS_SCENARIO_MS,
  async run(ctx) {
    const { answer } = await launchAndAsk(ctx, { transport: 'tcp', env: { FCGI_WEB_SERVER_ADDRS: `${OTHER_ADDR},${HARNESS_ADDR}` } });
    const problem = answer.kind === 'answered' ? servedProblem(answer.obs) : answer.reason;
    ctx.check.that(
      problem === undefined,
      'FCGI-3.2-web-server-addrs',
      `a request from ${HARNESS_ADDR}, the second address in the list, served within ${ctx.timeouts.scale(STARTUP_MS)} ms of the start`,
      problem ?? '',
    );
  },
});

const unlisted = defineScenario({
  id: 'process.web-server-addrs.unlisted',
  title: `closes a connection from a peer not in FCGI_WEB_SERVER_ADDRS (${OTHER_ADDR}) without sending a record`,
  group: 'process',
  requirements: ['FCGI-3.2-web-server-addrs'],
  needs: { spawn: true },
  timeoutMs: PROCESS_SCENARIO_MS,
  async run(ctx) {
    await expectRefused(ctx, { transport: 'tcp', env: { FCGI_WEB_SERVER_ADDRS: OTHER_ADDR } }, `a request from ${HARNESS_ADDR} with FCGI_WEB_SERVER_ADDRS=${OTHER_ADDR}`);
  },
});

const unix = defineScenario({
  id: 'process.web-server-addrs.unix',
  title: 'closes a connection over an AF_UNIX listening socket when FCGI_WEB_SERVER_ADDRS is bound, without sending a record',
  group: 'process',
  requirements: ['FCGI-3.2-web-server-addrs'],
  needs: { spawn: true },
  timeoutMs: PROCESS_SCENARIO_MS,
  async run(ctx) {
    await expectRefused(ctx, { transport: 'unix', env: { FCGI_WEB_SERVER_ADDRS: HARNESS_ADDR } }, `a request over AF_UNIX with FCGI_WEB_SERVER_ADDRS=${HARNESS_ADDR}`);
  },
});

export const webServerAddrsScenarios: readonly Scenario[] = [listed, unlisted, unix];
