/**
 * The role protocol's shape of the output: a CGI response (header lines, an empty line, the body; no HTTP
 * status line), written only once the PARAMS stream has ended. @see §6.1, §6.2
 */
import { FCGI_END_REQUEST, FCGI_PARAMS, recordTypeName } from '../../spec/constants.ts';
import { defineScenario, type Scenario } from '../define.ts';
import { describeObservation, encodePlan, encodeRecords, emptyStdin, exchange, expectServed, parseCgi, preview, sendAndRead } from '../kit.ts';
import { concatBytes } from '../../reference/codec/record.ts';

const wellFormed = defineScenario({
  id: 'output.cgi-response',
  title: 'writes a CGI response on FCGI_STDOUT: header lines, an empty line, the body; no HTTP status line',
  group: 'output',
  requirements: ['FCGI-6.1-no-nph'],
  async run(ctx) {
    const { obs } = await exchange(ctx, { requestId: 1 });
    if (!expectServed(ctx.check, obs, 'FCGI-6.1-no-nph', 'a plain request')) return;
    // §6.1: "Role protocols do not support the non-parsed header feature of CGI. FastCGI applications set response
    // status using the Status and Location CGI headers."
    const nph = /^HTTP\/\d/.test(new TextDecoder().decode(obs.stdout.subarray(0, 16)));
    ctx.check.that(!nph, 'FCGI-6.1-no-nph', 'CGI header lines, not an HTTP status line', `stdout starts ${preview(obs.stdout, 32)}`);
    if (nph) return;
    const parsed = parseCgi(obs.stdout);
    ctx.check.that(
      'response' in parsed,
      'FCGI-6.1-no-nph',
      'a CGI response: header lines, an empty line, the body (CGI/1.1, RFC 3875 §6)',
      'error' in parsed ? `${parsed.error.message} at offset ${parsed.error.offset}: ${preview(obs.stdout.subarray(Math.max(0, parsed.error.offset - 8)), 40)}` : '',
    );
    if ('response' in parsed) ctx.check.observe('CGI status of a plain request', parsed.response.status);
  },
});

const noOutputBeforeParamsEnd = defineScenario({
  id: 'output.none-before-params-end',
  title: 'writes no FCGI_STDOUT or FCGI_STDERR until the PARAMS stream has ended, then serves the request',
  group: 'output',
  requirements: ['FCGI-6.2-params-before-output', 'FCGI-5.5-request-complete'],
  async run(ctx) {
    const conn = await ctx.connect();
    await conn.send(encodePlan(ctx, { requestId: 1, omit: { paramsEnd: true, stdin: true } }));
    const early = await conn.readResponse(1, ctx.timeouts.quietMs * 2);
    // §6.2: "The application must wait to finish reading FCGI_PARAMS before it begins writing FCGI_STDOUT and
    // FCGI_STDERR".
    const output = early.records.filter((r) => r.type !== FCGI_END_REQUEST);
    ctx.check.that(
      output.length === 0 && early.ending === 'timeout',
      'FCGI-6.2-params-before-output',
      'nothing for the request while its PARAMS stream is open',
      output.length ? `${output.length} record(s), first ${recordTypeName(output[0]!.type)}` : describeObservation(early),
    );
    if (early.ending !== 'timeout') return;
    const { obs } = await sendAndRead(conn, concatBytes([encodeRecords([{ type: FCGI_PARAMS, requestId: 1 }]), emptyStdin(1)]));
    expectServed(ctx.check, obs, 'FCGI-5.5-request-complete', 'the request once PARAMS and STDIN ended');
  },
});

export const cgiScenarios: readonly Scenario[] = [wellFormed, noOutputBeforeParamsEnd];
