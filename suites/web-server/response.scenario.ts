/**
 * How the web server copes with the application's answers: output in any number and size of records, padded
 * to the limit, status from `Status:` and `Location:`, STDERR beside STDOUT, a non-zero appStatus, an answer
 * that ends or breaks off early, an application that never answers, and records the server does not expect.
 * @see §3.3 (streams, padding) §5.3 §5.5 §6.1
 */
import { encodeEndRequestBody } from '../../reference/codec/bodies.ts';
import { encodeNameValuePair } from '../../reference/codec/name-value.ts';
import { encodeRecord } from '../../reference/codec/record.ts';
import {
  FCGI_BEGIN_REQUEST,
  FCGI_END_REQUEST,
  FCGI_GET_VALUES_RESULT,
  FCGI_MAX_CONTENT_LENGTH,
  FCGI_MAX_PADDING_LENGTH,
  FCGI_REQUEST_COMPLETE,
  FCGI_STDOUT,
} from '../../spec/constants.ts';
import { patternBytes } from '../kit.ts';
import { defineWebServerScenario, type AnswerExchange, type CgiAnswer, type HttpHandle, type HttpOutcome, type WebServerContext, type WebServerScenario } from './define.ts';
import { R, describeHttp, expectResponse, framingOf, responseOf, text, textHeaders, within } from './kit.ts';

// Answers with `answer` once STDIN has ended; returns the HTTP outcome.
async function answered(ctx: WebServerContext, answer: CgiAnswer | ((ex: AnswerExchange) => Promise<void>)): Promise<HttpOutcome> {
  ctx.answer(async (ex) => {
    await ex.drainStdin();
    if (typeof answer === 'function') await answer(ex);
    else await ex.writeCgi(answer);
  });
  return ctx.http();
}

export const statusNone = defineWebServerScenario({
  id: 'response.status.none',
  title: 'answers 200 when the application sends no Status header',
  requirements: [R.status, R.streamValue],
  async run(ctx) {
    const body = text('no status line here\n');
    expectResponse(ctx.check, await answered(ctx, { headers: textHeaders, body }), 200, body, R.status, 'a response without Status:');
  },
});

export const status404 = defineWebServerScenario({
  id: 'response.status.404',
  title: 'relays "Status: 404 Not Found" as HTTP 404 with its body',
  requirements: [R.status, R.streamValue],
  async run(ctx) {
    const body = text('not here\n');
    expectResponse(ctx.check, await answered(ctx, { status: '404 Not Found', headers: textHeaders, body }), 404, body, R.status, 'Status: 404');
  },
});

export const statusLocation = defineWebServerScenario({
  id: 'response.status.location',
  title: 'turns "Location: http://…" without Status into a redirect to that URL',
  requirements: [R.status],
  async run(ctx) {
    const location = 'http://example.test/fcgispec/elsewhere';
    const outcome = await answered(ctx, { headers: [['Location', location]] });
    const res = responseOf(outcome);
    if (!ctx.check.that(res !== undefined && res.status >= 300 && res.status < 400, R.status, 'an HTTP 3xx redirect (302 for a CGI client redirect)', describeHttp(outcome))) return;
    ctx.check.equal(res?.headers['location'], location, R.status, 'Location header');
    ctx.check.observe('status', res?.status ?? 0);
  },
});

export const bodyEmpty = defineWebServerScenario({
  id: 'response.body.empty',
  title: 'relays a response with headers and an empty body',
  requirements: [R.streamValue],
  async run(ctx) {
    expectResponse(ctx.check, await answered(ctx, { headers: textHeaders }), 200, new Uint8Array(0), R.streamValue, 'an empty body');
  },
});

export const body10m = defineWebServerScenario({
  id: 'response.body.10m',
  title: 'relays a 10 MiB body whole',
  requirements: [R.streamValue],
  timeoutMs: 40_000,
  async run(ctx) {
    const body = patternBytes(10 << 20, 10);
    ctx.answer(async (ex) => {
      await ex.drainStdin();
      await ex.writeCgi({ headers: [['Content-Type', 'application/octet-stream']], body });
    });
    expectResponse(ctx.check, await ctx.http({ timeoutMs: ctx.timeouts.scale(30_000) }), 200, body, R.streamValue, '10 MiB on FCGI_STDOUT');
  },
});

export const tinyRecords = defineWebServerScenario({
  id: 'response.split.tiny-records',
  title: 'reassembles output sent as 1-byte records, the header lines included',
  requirements: [R.streamValue],
  faults: [{ name: 'tiny-records', arg: 1 }],
  async run(ctx) {
    const body = patternBytes(8 * 1024, 3);
    expectResponse(ctx.check, await answered(ctx, { headers: [['Content-Type', 'application/octet-stream'], ['X-Fcgispec-Split', 'one byte per record']], body }), 200, body, R.streamValue, 'output in 1-byte records');
  },
});

export const randomSplit = defineWebServerScenario({
  id: 'response.split.random',
  title: 'reassembles output cut into records of random sizes, a header line split across records',
  requirements: [R.streamValue],
  async run(ctx) {
    const body = patternBytes(40_000, 4);
    const pieces = Array.from({ length: 64 }, () => ctx.randomInt(1, 1500));
    ctx.note(`record sizes ${pieces.slice(0, 12).join(', ')}, …`);
    expectResponse(ctx.check, await answered(ctx, { headers: [['Content-Type', 'application/octet-stream'], ['X-Fcgispec-Split', 'random']], body, pieces }), 200, body, R.streamValue, 'output in records of random sizes');
  },
});

export const paddingAligned = defineWebServerScenario({
  id: 'response.padding.aligned-max',
  title: 'skips 248 to 255 bytes of padding on every output record',
  requirements: [R.padding],
  faults: [{ name: 'padding-255' }],
  async run(ctx) {
    const body = patternBytes(100_000, 5);
    expectResponse(ctx.check, await answered(ctx, { headers: [['Content-Type', 'application/octet-stream']], body }), 200, body, R.padding, 'records with the largest aligned padding');
  },
});

export const paddingMax = defineWebServerScenario({
  id: 'response.padding.max-record',
  title: 'reads records of 65535 content bytes with 255 bytes of padding, then serves the next request',
  requirements: [R.padding, R.streamValue],
  async run(ctx) {
    const body = patternBytes(3 * FCGI_MAX_CONTENT_LENGTH, 6);
    const output = Buffer.concat([Buffer.from('Content-Type: application/octet-stream\r\n\r\n', 'latin1'), body]);
    const padded = (type: number, requestId: number, content: Uint8Array): Uint8Array =>
      encodeRecord({ type, requestId, content, paddingLength: FCGI_MAX_PADDING_LENGTH }, { paddingByte: 0xaa });
    ctx.answer(async (ex) => {
      await ex.drainStdin();
      if (ex.trace.tag?.n !== 1) return ex.writeCgi({ headers: textHeaders, body: 'second\n' });
      ex.takeOver();
      const id = ex.trace.requestId;
      for (let at = 0; at < output.length; at += FCGI_MAX_CONTENT_LENGTH) ex.writeRaw(padded(FCGI_STDOUT, id, output.subarray(at, at + FCGI_MAX_CONTENT_LENGTH)));
      ex.writeRaw(padded(FCGI_STDOUT, id, new Uint8Array(0)));
      ex.writeRaw(padded(FCGI_END_REQUEST, id, encodeEndRequestBody({ appStatus: 0, protocolStatus: FCGI_REQUEST_COMPLETE })));
      ex.response.end();
    });
    expectResponse(ctx.check, await ctx.http(), 200, body, R.padding, 'records of 65535 + 255 bytes');
    expectResponse(ctx.check, await ctx.http(), 200, text('second\n'), R.padding, 'the next request');
    const traces = ctx.requests();
    if (traces.length === 2) ctx.check.observe('next request on the same connection', traces[0]!.conn === traces[1]!.conn);
  },
});

export const stderrInterleaved = defineWebServerScenario({
  id: 'response.stderr.interleaved',
  title: 'keeps FCGI_STDERR written between FCGI_STDOUT records out of the body',
  requirements: [R.streamValue],
  async run(ctx) {
    const body = patternBytes(30_000, 7);
    ctx.answer(async (ex) => {
      await ex.drainStdin();
      const res = ex.response;
      await res.write('Content-Type: application/octet-stream\r\n');
      await res.writeStderr('fcgispec: a warning between header lines\n');
      await res.write('X-Fcgispec: stderr\r\n\r\n');
      for (let at = 0, i = 0; at < body.length; at += 10_000, i++) {
        await res.write(body.subarray(at, at + 10_000));
        await res.writeStderr(`fcgispec: stderr line ${i}\n`);
      }
      res.end();
    });
    expectResponse(ctx.check, await ctx.http(), 200, body, R.streamValue, 'STDOUT only, with STDERR interleaved');
  },
});

export const stderrFlood = defineWebServerScenario({
  id: 'response.stderr.flood',
  title: 'keeps 1 MiB of FCGI_STDERR before the output out of the body and still relays the answer',
  requirements: [R.streamValue],
  faults: [{ name: 'stderr-flood', arg: 1 << 20 }],
  async run(ctx) {
    const body = text('after the flood\n');
    expectResponse(ctx.check, await answered(ctx, { headers: textHeaders, body }), 200, body, R.streamValue, 'the answer after 1 MiB of STDERR');
  },
});

export const appStatus = defineWebServerScenario({
  id: 'response.app-status.nonzero',
  title: 'records what a non-zero appStatus changes in the HTTP response',
  requirements: ['FCGI-5.5-app-status-web-server'],
  async run(ctx) {
    const body = text('same output, different appStatus\n');
    ctx.answer(async (ex) => {
      await ex.drainStdin();
      await ex.writeCgi({ headers: textHeaders, body, appStatus: ex.trace.tag?.n === 1 ? 0 : 7 });
    });
    const zero = await ctx.http();
    const seven = await ctx.http();
    expectResponse(ctx.check, zero, 200, body, R.streamValue, 'appStatus 0');
    ctx.check.observe('appStatus 0', describeHttp(zero));
    ctx.check.observe('appStatus 7', describeHttp(seven));
    const a = responseOf(zero);
    const b = responseOf(seven);
    const same = a !== undefined && b !== undefined && a.status === b.status && a.complete === b.complete && Buffer.compare(Buffer.from(a.body), Buffer.from(b.body)) === 0;
    ctx.check.that(same, 'FCGI-5.5-app-status-web-server', 'the same HTTP response as with appStatus 0 (the suite records any difference)', describeHttp(seven));
  },
});

// A response the HTTP client can tell is not a success: an error status, a message cut short, or none at all.
function isShownAsError(o: HttpOutcome): boolean {
  if (o.kind === 'error' || o.kind === 'timeout') return true;
  if (o.kind !== 'response') return false;
  return o.status >= 500 || !o.complete;
}

export const endBeforeOutput = defineWebServerScenario({
  id: 'response.end-before-output',
  title: 'shows an error when FCGI_END_REQUEST comes without any output',
  requirements: [R.invalidResponse],
  async run(ctx) {
    const outcome = await answered(ctx, async (ex) => {
      ex.takeOver();
      ex.writeRaw(encodeRecord({ type: FCGI_END_REQUEST, requestId: ex.trace.requestId, content: encodeEndRequestBody({ appStatus: 0, protocolStatus: FCGI_REQUEST_COMPLETE }) }));
      ex.response.end();
    });
    ctx.check.that(isShownAsError(outcome), R.invalidResponse, 'an HTTP error (5xx), not a success made up for an answer with no CGI headers', describeHttp(outcome));
  },
});

function closeBeforeEnd(id: `response.close-before-end${string}`, afterHead: boolean): WebServerScenario {
  return defineWebServerScenario({
    id,
    title: `shows an error, not a truncated success, when the application closes before FCGI_END_REQUEST ${afterHead ? 'once the response has begun' : 'right after its output'}`,
    requirements: [R.invalidResponse],
    async run(ctx) {
      const body = patternBytes(64 * 1024, 8);
      let handle: HttpHandle | undefined;
      ctx.answer(async (ex) => {
        await ex.drainStdin();
        await ex.response.write(Buffer.concat([Buffer.from('Content-Type: application/octet-stream\r\n\r\n', 'latin1'), body.subarray(0, 16 * 1024)]));
        // Once the HTTP client has the response head, the server can only show the failure by cutting the body short.
        if (afterHead && handle) ctx.note(`response head ${(await within(handle.head, ctx.timeouts.scale(2000))) === undefined ? 'not yet in after 2 s' : 'in'}: closing`);
        ex.close();
      });
      handle = ctx.startHttp({ timeoutMs: ctx.timeouts.scale(6000) });
      const outcome = await handle.done;
      ctx.check.observe('response framing', framingOf(outcome));
      ctx.check.that(isShownAsError(outcome), R.invalidResponse, 'an HTTP error: a 5xx, or a response cut short (no last chunk, fewer bytes than Content-Length)', `${describeHttp(outcome)} (${framingOf(outcome)}) after 16 KiB of output and a close`);
    },
  });
}

export const closeAtOnce = closeBeforeEnd('response.close-before-end', false);
export const closeAfterHead = closeBeforeEnd('response.close-before-end.after-head', true);

export const stall = defineWebServerScenario({
  id: 'response.stall',
  title: 'gives up on an application that accepts a request and never answers (the time it took is recorded)',
  requirements: [R.stallTimeout],
  timeoutMs: 20_000,
  async run(ctx) {
    const bound = ctx.timeouts.scale(8000);
    ctx.answer(async (ex) => {
      await ex.drainStdin();
      await new Promise<void>((resolve) => ex.signal.addEventListener('abort', () => resolve(), { once: true }));
    });
    const outcome = await ctx.http({ timeoutMs: bound });
    const [trace] = ctx.requests();
    const ended =
      trace?.abortAtMs !== undefined
        ? `; it sent FCGI_ABORT_REQUEST at ${Math.round(trace.abortAtMs - trace.beginAtMs)} ms`
        : trace?.ending?.kind === 'closed' && trace.ending.by === 'web-server'
          ? `; it closed the backend connection at ${Math.round(trace.ending.atMs - trace.beginAtMs)} ms`
          : '';
    ctx.check.observe('gave up after ms', outcome.kind === 'timeout' ? -1 : outcome.elapsedMs);
    const actual = outcome.kind === 'timeout' ? `no answer within ${bound} ms: the web server had not given up` : `gave up after ${outcome.elapsedMs} ms: ${describeHttp(outcome)}${ended}`;
    ctx.check.violation(R.stallTimeout, 'an HTTP error after a timeout of its own', actual);
  },
});

// Answers normally, with records the web server does not expect before or between the STDOUT records.
function withUnexpected(before: (ex: AnswerExchange) => Uint8Array[], between: (ex: AnswerExchange) => Uint8Array[]): (ex: AnswerExchange) => Promise<void> {
  return async (ex) => {
    for (const r of before(ex)) ex.writeRaw(r);
    await ex.response.write('Content-Type: text/plain\r\n\r\nfirst half, ');
    for (const r of between(ex)) ex.writeRaw(r);
    await ex.response.write('second half\n');
    ex.response.end();
  };
}

/**
 * The suite's position on records a web server does not expect: skip them. A server that fails the request
 * instead (an HTTP error, a message cut short) does what the spec leaves open: recorded. One that relays
 * bytes that are not the request's FCGI_STDOUT, or a part of it as if it were all, is judged.
 */
async function expectSkipped(ctx: WebServerContext, what: string, outcome: HttpOutcome): Promise<void> {
  const expected = Buffer.from('first half, second half\n');
  const res = responseOf(outcome);
  const body = res ? Buffer.from(res.body) : Buffer.alloc(0);
  if (res && res.status === 200 && res.complete && body.equals(expected)) {
    ctx.check.observe(what, 'skipped: the response came through intact');
    return;
  }
  ctx.check.observe(what, describeHttp(outcome));
  if (res && res.status < 300 && res.complete) {
    if (expected.subarray(0, body.length).equals(body)) {
      ctx.check.violation(R.invalidResponse, `${what}: skipped, or the request failed visibly; not a part of the output relayed as the whole`, `${describeHttp(outcome)} (${framingOf(outcome)})`);
    } else {
      ctx.check.violation(R.streamValue, `${what}: a body of nothing but the request's FCGI_STDOUT ("first half, second half\n")`, `${describeHttp(outcome)}: bytes that are not this request's FCGI_STDOUT`);
    }
    return;
  }
  ctx.check.violation(R.unexpected, `${what} skipped, the response intact (the suite's position; the spec gives no rule)`, `the request failed: ${describeHttp(outcome)}`);
}

export const unknownType = defineWebServerScenario({
  id: 'response.unexpected.unknown-type',
  title: 'records what the server does with an undefined record type and a BEGIN_REQUEST on the request id',
  requirements: [R.unexpected, R.streamValue],
  async run(ctx) {
    const outcome = await answered(
      ctx,
      withUnexpected(
        (ex) => [
          encodeRecord({ type: 12, requestId: ex.trace.requestId, content: text('fcgispec') }),
          encodeRecord({ type: FCGI_BEGIN_REQUEST, requestId: ex.trace.requestId, content: new Uint8Array(8) }),
        ],
        () => [],
      ),
    );
    await expectSkipped(ctx, 'type 12 and FCGI_BEGIN_REQUEST from the application', outcome);
  },
});

export const unsolicitedValues = defineWebServerScenario({
  id: 'response.unexpected.get-values-result',
  title: 'records what the server does with an unsolicited FCGI_GET_VALUES_RESULT between STDOUT records',
  requirements: [R.unexpected, R.streamValue],
  async run(ctx) {
    const pairs = Buffer.concat([encodeNameValuePair('FCGI_MPXS_CONNS', '0'), encodeNameValuePair('FCGI_MAX_REQS', '1', { nameForm: 4, valueForm: 4 })]);
    const outcome = await answered(ctx, withUnexpected(() => [], () => [encodeRecord({ type: FCGI_GET_VALUES_RESULT, requestId: 0, content: pairs })]));
    await expectSkipped(ctx, 'an unsolicited FCGI_GET_VALUES_RESULT', outcome);
  },
});

export const wrongId = defineWebServerScenario({
  id: 'response.unexpected.wrong-request-id',
  title: 'records what the server does with a whole response on a request id it did not use',
  requirements: [R.unexpected, R.streamValue],
  async run(ctx) {
    const outcome = await answered(
      ctx,
      withUnexpected(
        (ex) => {
          const other = (ex.trace.requestId % 0xffff) + 1;
          return [
            encodeRecord({ type: FCGI_STDOUT, requestId: other, content: text('Content-Type: text/plain\r\n\r\nWRONG REQUEST ID\n') }),
            encodeRecord({ type: FCGI_STDOUT, requestId: other }),
            encodeRecord({ type: FCGI_END_REQUEST, requestId: other, content: encodeEndRequestBody({ appStatus: 0, protocolStatus: FCGI_REQUEST_COMPLETE }) }),
          ];
        },
        () => [],
      ),
    );
    await expectSkipped(ctx, 'a response on another request id', outcome);
  },
});

export const scenarios = [
  statusNone,
  status404,
  statusLocation,
  bodyEmpty,
  body10m,
  tinyRecords,
  randomSplit,
  paddingAligned,
  paddingMax,
  stderrInterleaved,
  stderrFlood,
  appStatus,
  endBeforeOutput,
  closeAtOnce,
  closeAfterHead,
  stall,
  unknownType,
  unsolicitedValues,
  wrongId,
] as const;
