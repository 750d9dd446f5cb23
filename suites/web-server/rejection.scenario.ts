/**
 * The application rejects the request: FCGI_END_REQUEST with FCGI_CANT_MPX_CONN, FCGI_OVERLOADED or
 * FCGI_UNKNOWN_ROLE and no output. The HTTP client must see an error (5xx), never an empty 200.
 * @see §5.5
 */
import { encodeEndRequestBody } from '../../reference/codec/bodies.ts';
import { encodeRecord } from '../../reference/codec/record.ts';
import { FCGI_CANT_MPX_CONN, FCGI_END_REQUEST, FCGI_OVERLOADED, FCGI_UNKNOWN_ROLE, protocolStatusName } from '../../spec/constants.ts';
import { defineWebServerScenario, type WebServerScenario } from './define.ts';
import { R, describeHttp, responseOf } from './kit.ts';

function rejection(id: `rejection.${string}`, protocolStatus: number): WebServerScenario {
  const name = protocolStatusName(protocolStatus);
  return defineWebServerScenario({
    id,
    title: `answers an HTTP error when the application rejects the request with ${name}`,
    requirements: [R.rejection],
    async run(ctx) {
      ctx.answer(async (ex) => {
        // The whole input first: STDIN records crossing our FCGI_END_REQUEST would be records for an ended id.
        await ex.drainStdin();
        ex.takeOver();
        ex.writeRaw(encodeRecord({ type: FCGI_END_REQUEST, requestId: ex.trace.requestId, content: encodeEndRequestBody({ appStatus: 0, protocolStatus }) }));
        ex.response.end();
      });
      const outcome = await ctx.http();
      const res = responseOf(outcome);
      ctx.check.observe('HTTP answer', describeHttp(outcome));
      ctx.check.that(
        res === undefined ? outcome.kind !== 'aborted' : res.status >= 500,
        R.rejection,
        `an HTTP error (5xx) for a request rejected with ${name}`,
        describeHttp(outcome),
      );
    },
  });
}

export const cantMpxConn = rejection('rejection.cant-mpx-conn', FCGI_CANT_MPX_CONN);
export const overloaded = rejection('rejection.overloaded', FCGI_OVERLOADED);
export const unknownRole = rejection('rejection.unknown-role', FCGI_UNKNOWN_ROLE);

export const scenarios = [cantMpxConn, overloaded, unknownRole] as const;
