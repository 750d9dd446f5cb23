/**
 * What the process scenarios share: starting an instance of the application through `ctx.spawn` and sending
 * it its first request, with time for the process to start. @see §2.2 §3.2
 */
import { HarnessError } from '../../harness/errors.ts';
import type { LaunchOptions, ResponseObservation, ScenarioContext, SpawnControl, SpawnedApp } from '../define.ts';
import { sendAndRead } from '../kit.ts';

/** How long a freshly started application has to answer its first request (a PHP or JVM start is slow). */
export const STARTUP_MS = 20_000;

/** The watchdog deadline of a process scenario: a start or two, and the requests. */
export const PROCESS_SCENARIO_MS = 60_000;

/** `ctx.spawn`, which the runner gives every scenario that declares `needs: { spawn: true }`. */
export function spawnOf(ctx: ScenarioContext): SpawnControl {
  if (!ctx.spawn) ctx.skip('needs --spawn: the harness must start the application itself');
  return ctx.spawn;
}

/** The first request to an instance: served, refused by a close, or why there is no answer to judge. */
export type FirstAnswer =
  | { readonly kind: 'answered'; readonly obs: ResponseObservation }
  | { readonly kind: 'no-connection'; readonly reason: string };

/**
 * Connects to `app` and sends a plain Responder request without FCGI_KEEP_CONN, allowing `STARTUP_MS`
 * (scaled) for the process to start: the kernel queues the connection on the listening socket until the
 * application accepts it.
 */
export async function firstRequest(ctx: ScenarioContext, app: SpawnedApp): Promise<FirstAnswer> {
  let conn;
  try {
    conn = await app.connect();
  } catch (err) {
    if (!(err instanceof HarnessError) || err.code !== 'E_CONNECT') throw err;
    const exit = await app.waitExit(0);
    const how = exit ? `; the process ${exit.signal ? `was ended by ${exit.signal}` : `exited with status ${exit.code}`}` : '';
    const output = app.output(300).trim();
    return { kind: 'no-connection', reason: `${err.message}${how}${output ? `; its output ends: ${output}` : ''}` };
  }
  try {
    const { obs } = await sendAndRead(conn, { requestId: 1 }, { timeoutMs: ctx.timeouts.scale(STARTUP_MS) });
    return { kind: 'answered', obs };
  } finally {
    conn.close();
  }
}

/** Launches an instance as `options` say and sends it its first request. */
export async function launchAndAsk(ctx: ScenarioContext, options: LaunchOptions): Promise<{ readonly app: SpawnedApp; readonly answer: FirstAnswer }> {
  const app = await spawnOf(ctx).launch(options);
  return { app, answer: await firstRequest(ctx, app) };
}

/** One line for an exit, for observations and findings. */
export function describeExit(exit: { readonly code: number | null; readonly signal: string | null }): string {
  return exit.signal ? `ended by ${exit.signal}` : `exit status ${exit.code}`;
}
