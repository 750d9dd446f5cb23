/**
 * The HTTP body on FCGI_STDIN: whole, byte for byte, for sizes from 0 to 10 MiB and for a chunked upload, with
 * CONTENT_LENGTH equal to what is sent; and what the server sends when the HTTP client stops sending.
 * @see §6.2 "The application receives at most CONTENT_LENGTH bytes from this stream"
 */
import { patternBytes } from '../kit.ts';
import { defineWebServerScenario, type WebServerScenario } from './define.ts';
import { R, checkInputs, describeHttp, expectParam, expectResponse, expectStdin, formatSize, text } from './kit.ts';

function bodyScenario(id: `request.stdin.${string}`, size: number, chunks?: readonly number[]): WebServerScenario {
  const what = `${chunks ? 'a chunked upload of ' : 'a POST body of '}${formatSize(size)}`;
  return defineWebServerScenario({
    id,
    title: `forwards ${what} whole on FCGI_STDIN${size > 0 ? ', with CONTENT_LENGTH equal to it' : ''}`,
    requirements: [R.stdin, R.params, R.inputs],
    timeoutMs: size > 1 << 20 ? 40_000 : 15_000,
    async run(ctx) {
      const body = patternBytes(size, size + 1);
      const handle = ctx.startHttp({
        method: 'POST',
        body,
        headers: { 'Content-Type': 'application/octet-stream' },
        ...(chunks ? { chunks } : {}),
        timeoutMs: ctx.timeouts.scale(size > 1 << 20 ? 30_000 : 10_000),
      });
      const [trace] = await Promise.race([ctx.waitForRequests(1, ctx.timeouts.scale(size > 1 << 20 ? 20_000 : 4000)), handle.done.then(() => ctx.requests())]);
      const outcome = await handle.done;
      // Refusing the HTTP request itself (411 Length Required, 413) is the server's HTTP business, not FastCGI's.
      if (!trace && outcome.kind === 'response' && outcome.status >= 400 && outcome.status < 500) {
        ctx.check.observe('refused with', `HTTP ${outcome.status}: no FastCGI request`);
        return;
      }
      if (!ctx.check.that(trace !== undefined, R.stdin, `${what}: a FastCGI request for the HTTP request`, `no FastCGI request with its tag reached the backend; ${describeHttp(outcome)}`)) return;
      expectResponse(ctx.check, outcome, 200, text(`fcgispec ${id} 1\n`), R.streamValue, 'the answer after the body');
      if (!trace) return;
      expectParam(ctx.check, trace, 'REQUEST_METHOD', 'POST');
      expectStdin(ctx.check, trace, body, what);
      checkInputs(ctx.check, trace, what);
      if (size === 0) ctx.check.observe('CONTENT_LENGTH', trace.param('CONTENT_LENGTH') ?? '(absent)');
      else expectParam(ctx.check, trace, 'CONTENT_TYPE', 'application/octet-stream');
      ctx.check.observe('FCGI_STDIN records', trace.stdinRecords);
    },
  });
}

export const emptyBody = bodyScenario('request.stdin.empty', 0);
export const oneByte = bodyScenario('request.stdin.one-byte', 1);
export const body64k = bodyScenario('request.stdin.64k', 64 * 1024);
export const body1m = bodyScenario('request.stdin.1m', 1 << 20);
export const body10m = bodyScenario('request.stdin.10m', 10 << 20);
export const chunked = bodyScenario('request.stdin.chunked', 100_000, [1000, 17, 4096, 1, 30_000]);

export const clientStops = defineWebServerScenario({
  id: 'request.stdin.client-stops',
  title: 'sends no more on FCGI_STDIN than the HTTP client sent when the client stops half-way',
  requirements: [R.stdin],
  async run(ctx) {
    const body = patternBytes(64 * 1024, 77);
    const sent = 8 * 1024;
    ctx.answer(async (ex) => {
      await ex.drainStdin(ctx.timeouts.scale(3000));
      await ex.writeCgi({ headers: [['Content-Type', 'text/plain']], body: 'late answer\n' });
    });
    const handle = ctx.startHttp({ method: 'POST', body, stopAfter: sent, headers: { 'Content-Type': 'application/octet-stream' } });
    // A server that buffers the body waits for the rest; one that streams has begun the request by now.
    const [trace] = await ctx.waitForRequests(1, ctx.timeouts.scale(1000));
    handle.abort();
    await handle.done;
    if (!trace) {
      await ctx.sleep(ctx.timeouts.quietMs);
      ctx.check.observe('FastCGI request', ctx.requests().length > 0 ? 'begun after the client left' : 'none (the body was buffered and never completed)');
      const late = ctx.requests()[0];
      if (late) ctx.check.that(late.stdinBytes <= sent, R.stdin, `at most the ${sent} bytes the HTTP client sent`, `${late.stdinBytes} bytes of FCGI_STDIN`);
      return;
    }
    const ended = await ctx.waitForEnding(trace, ctx.timeouts.scale(4000));
    ctx.check.that(trace.stdinBytes <= sent, R.stdin, `at most the ${sent} bytes the HTTP client sent`, `${trace.stdinBytes} bytes of FCGI_STDIN`);
    const prefix = body.subarray(0, trace.stdinBytes);
    ctx.check.that(Buffer.compare(Buffer.from(trace.stdin), Buffer.from(prefix)) === 0, R.stdin, 'the bytes the HTTP client sent, unchanged', 'other bytes on FCGI_STDIN');
    const how = trace.abortAtMs !== undefined ? 'FCGI_ABORT_REQUEST' : trace.stdinEnded ? `an empty FCGI_STDIN after ${trace.stdinBytes} bytes` : trace.ending?.kind === 'closed' ? `the connection closed by the ${trace.ending.by}` : 'nothing yet';
    ctx.check.observe('request ended by', ended || trace.stdinEnded ? how : 'nothing within the wait');
  },
});

export const scenarios = [emptyBody, oneByte, body64k, body1m, body10m, chunked, clientStops] as const;
