/**
 * When output may start relative to the input streams: a Responder may write once its final input (STDIN)
 * has begun (recorded); a Filter must not write before STDIN has ended, and may write before DATA has ended
 * (recorded). Each scenario sends its input in steps with quiet periods between and looks at what arrived
 * in each. @see §6.1, §6.4
 */
import { FCGI_DATA, FCGI_END_REQUEST, FCGI_FILTER, FCGI_STDERR, FCGI_STDIN, FCGI_STDOUT } from '../../spec/constants.ts';
import { encodeStream, type DecodedRecord } from '../../reference/codec/record.ts';
import { defineScenario, type Scenario } from '../define.ts';
import { bodyParams, describeObservation, encodePlan, expectServed, filterParams, patternBytes, probe, sendAndRead } from '../kit.ts';
import { collectFor, describeQuiet } from '../kit-flow.ts';

const BODY = patternBytes(4096, 0x61a0);
const HALF = BODY.length / 2;
const DATA = patternBytes(2048, 0x61a1);

/** Output records (FCGI_STDOUT, FCGI_STDERR) for `requestId` among `records`. */
function outputOf(records: readonly DecodedRecord[], requestId: number): DecodedRecord[] {
  return records.filter((r) => r.requestId === requestId && (r.type === FCGI_STDOUT || r.type === FCGI_STDERR));
}

const beforeStdinEnd = defineScenario({
  id: 'output.before-stdin-end',
  title: 'records whether a Responder starts its output while its STDIN is still arriving',
  group: 'output',
  requirements: ['FCGI-6.1-output-before-input-ends'],
  async run(ctx) {
    const conn = await ctx.connect();
    const plan = { requestId: 1, params: [...bodyParams(BODY.length), ...(ctx.profile.probe ? probe.echoStdin() : [])], stdin: BODY.subarray(0, HALF), omit: { stdinEnd: true } };
    await conn.send(encodePlan(ctx, plan));
    const early = await collectFor(conn, ctx.timeouts.quietMs);
    conn.note(`with half of STDIN sent: ${describeQuiet(early)}`);
    // §6.1: "As the application begins to receive the final stream input, it can begin writing its output."
    // Allowed either way: recorded.
    const started = outputOf(early.records, 1).length > 0;
    ctx.check.observe('output before STDIN ended', started ? 'yes' : `no (nothing within ${ctx.timeouts.quietMs} ms of half the body)`);
    if (early.closed) return;
    const { obs } = await sendAndRead(conn, encodeStream(FCGI_STDIN, 1, BODY.subarray(HALF)));
    if (!started) ctx.check.observe('answer once STDIN ended', describeObservation(obs));
  },
});

const filterAfterStdin = defineScenario({
  id: 'output.filter-none-before-stdin-end',
  title: 'a Filter writes no FCGI_STDOUT or FCGI_STDERR until its STDIN has ended; output before DATA ends is recorded',
  group: 'output',
  requirements: ['FCGI-6.4-stdin-before-output', 'FCGI-6.4-filter-end-request'],
  needs: { roles: ['filter'] },
  async run(ctx) {
    const conn = await ctx.connect();
    const params = [...bodyParams(BODY.length), ...filterParams(DATA.length), ...(ctx.profile.probe ? probe.echoData() : [])];
    await conn.send(encodePlan(ctx, { requestId: 1, role: FCGI_FILTER, params, stdin: BODY.subarray(0, HALF), omit: { stdinEnd: true } }));
    const duringStdin = await collectFor(conn, ctx.timeouts.quietMs);
    conn.note(`with half of STDIN sent: ${describeQuiet(duringStdin)}`);
    // §6.4: "The application must wait to finish reading FCGI_STDIN before it begins writing FCGI_STDOUT and
    // FCGI_STDERR, but it needn't finish reading from FCGI_DATA before it begins writing these two streams."
    const early = outputOf(duringStdin.records, 1);
    ctx.check.that(
      early.length === 0,
      'FCGI-6.4-stdin-before-output',
      'no FCGI_STDOUT or FCGI_STDERR while STDIN is still open',
      `${describeQuiet(duringStdin)} with ${HALF} of ${BODY.length} STDIN bytes sent and STDIN not ended`,
    );
    if (duringStdin.closed) return;
    await conn.send(encodeStream(FCGI_STDIN, 1, BODY.subarray(HALF)));
    const beforeData = await collectFor(conn, ctx.timeouts.quietMs);
    ctx.check.observe('output after STDIN ended, before DATA', outputOf(beforeData.records, 1).length > 0 ? 'yes (allowed)' : 'no');
    if (beforeData.closed) return;
    // §6.4: a Filter may answer from a cache without reading the file data, so an end before DATA is allowed.
    if ([...duringStdin.records, ...beforeData.records].some((r) => r.requestId === 1 && r.type === FCGI_END_REQUEST)) {
      ctx.check.observe('ended before DATA was sent', 'yes (allowed)');
      return;
    }
    const { obs } = await sendAndRead(conn, encodeStream(FCGI_DATA, 1, DATA));
    expectServed(ctx.check, obs, 'FCGI-6.4-filter-end-request', 'the Filter request once STDIN and DATA ended');
  },
});

export const inputOrderScenarios: readonly Scenario[] = [beforeStdinEnd, filterAfterStdin];
