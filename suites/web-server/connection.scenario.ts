/**
 * How the web server uses its connections to the application: FCGI_KEEP_CONN and reuse, request ids,
 * FCGI_GET_VALUES, multiplexing when the application claims FCGI_MPXS_CONNS=1, aborting when the HTTP client
 * goes away, and reading output while it still sends input. What the spec leaves to the server is recorded as
 * an observation, never judged.
 * @see §3.3 §3.5 §4.1 §5.1 §5.4 §6.1
 */
import { once } from 'node:events';
import { FCGI_GET_VALUES, recordTypeName } from '../../spec/constants.ts';
import { patternBytes } from '../kit.ts';
import { defineWebServerScenario, type RequestTrace } from './define.ts';
import { R, describeHttp, expectResponse, expectStdin, formatSize, oneRequest, responseOf, text, textHeaders } from './kit.ts';

export const keepConn = defineWebServerScenario({
  id: 'connection.keep-conn',
  title: 'records FCGI_KEEP_CONN and connection reuse over three requests; request ids stay small',
  requirements: ['FCGI-3.3-small-request-ids', 'FCGI-5.1-no-request-after-clear'],
  async run(ctx) {
    for (let i = 0; i < 3; i++) await ctx.http();
    const traces = ctx.requests();
    const kept = traces.filter((t) => t.keepConn).length;
    const conns = new Set(traces.map((t) => t.conn)).size;
    ctx.check.observe('FCGI_KEEP_CONN set', `${kept} of ${traces.length}`);
    ctx.check.observe('backend connections for 3 requests', conns);
    ctx.check.observe('request ids', traces.map((t) => t.requestId).join(', '));
    traces.forEach((t, i) => {
      // §5.1: after a request without FCGI_KEEP_CONN the application closes; nothing more may come on it.
      const cleared = traces.slice(0, i).find((e) => e.conn === t.conn && !e.keepConn);
      if (cleared) ctx.check.violation('FCGI-5.1-no-request-after-clear', 'no request on a connection after one sent without FCGI_KEEP_CONN', `request id ${t.requestId} on backend connection #${t.conn} after request id ${cleared.requestId} without FCGI_KEEP_CONN`);
      // With k requests active on the connection (itself included), an id ≤ k was free.
      ctx.check.that(t.requestId <= t.activeOnConnection, 'FCGI-3.3-small-request-ids', `a request id no larger than the ${t.activeOnConnection} request(s) active on the connection`, `request id ${t.requestId}`);
    });
  },
});

export const getValues = defineWebServerScenario({
  id: 'connection.get-values',
  title: 'records whether the server queries FCGI_GET_VALUES (not required) and what it asks',
  requirements: ['FCGI-4.1-get-values-form'],
  async run(ctx) {
    await ctx.http();
    const management = ctx.management();
    const queries = management.filter((m) => m.type === FCGI_GET_VALUES);
    ctx.check.observe('FCGI_GET_VALUES queries so far', queries.length);
    if (queries.length > 0) ctx.check.observe('names asked', [...new Set(queries.flatMap((q) => q.names))].join(', '));
    const others = management.filter((m) => m.type !== FCGI_GET_VALUES);
    if (others.length > 0) ctx.check.observe('other management records', others.map((m) => recordTypeName(m.type)).join(', '));
  },
});

export const multiplex = defineWebServerScenario({
  id: 'connection.multiplex',
  title: 'records whether two concurrent requests share a connection when FCGI_MPXS_CONNS=1; if they do, each gets its own answer when finished out of order',
  requirements: ['FCGI-B-multiplexed-web-server'],
  async run(ctx) {
    const bothBegun = (): Promise<readonly RequestTrace[]> => ctx.waitForRequests(2, ctx.timeouts.scale(1500));
    ctx.answer(async (ex) => {
      await ex.drainStdin();
      const traces = await bothBegun();
      const [a, b] = traces;
      const shared = a !== undefined && b !== undefined && a.conn === b.conn;
      // Out of order: the first request waits for the second to be answered.
      if (shared && ex.trace === a) await ctx.waitForEnding(b, ctx.timeouts.scale(3000));
      await ex.writeCgi({ headers: textHeaders, body: `answer ${ex.trace.tag?.n ?? 0}\n` });
    });
    const first = ctx.startHttp();
    await ctx.waitForRequests(1, ctx.timeouts.scale(2000));
    const second = ctx.startHttp();
    const [one, two] = await Promise.all([first.done, second.done]);
    const traces = ctx.requests();
    const shared = traces.length === 2 && traces[0]!.conn === traces[1]!.conn;
    ctx.check.observe('multiplexed', shared);
    if (!shared) return;
    expectResponse(ctx.check, one, 200, text(`answer ${traces[0]!.tag?.n ?? 0}\n`), 'FCGI-B-multiplexed-web-server', 'the first request, finished last');
    expectResponse(ctx.check, two, 200, text(`answer ${traces[1]!.tag?.n ?? 0}\n`), 'FCGI-B-multiplexed-web-server', 'the second request, finished first');
  },
});

export const abortOnClientClose = defineWebServerScenario({
  id: 'connection.abort-on-client-close',
  title: 'aborts a running request (FCGI_ABORT_REQUEST, or a close when it is alone on its connection) when the HTTP client goes away',
  requirements: [R.abort, 'FCGI-5.4-abort-record'],
  async run(ctx) {
    // The application keeps sending a little output, so that no read timeout of the server ends the request:
    // only the HTTP client's leaving can. A server that notices it only when it writes to the client gets
    // its chance with every byte.
    const tick = ctx.timeouts.scale(250);
    ctx.answer(async (ex) => {
      await ex.drainStdin();
      await ex.response.write('Content-Type: text/plain\r\n\r\n');
      const aborted = new Promise<void>((resolve) => ex.signal.addEventListener('abort', () => resolve(), { once: true }));
      while (!ex.signal.aborted) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([aborted, new Promise<void>((resolve) => (timer = setTimeout(resolve, tick)))]);
        clearTimeout(timer);
        if (!ex.signal.aborted) await ex.response.write('.');
      }
    });
    const handle = ctx.startHttp();
    const trace = await oneRequest(ctx, R.abort, 'a request the application holds');
    if (!trace) return;
    await ctx.sleep(ctx.timeouts.scale(200));
    const leftAt = performance.now();
    handle.abort();
    const bound = ctx.timeouts.scale(5000);
    await ctx.waitForEnding(trace, bound);
    const after = Math.round(performance.now() - leftAt);
    // How long the request had run when it ended: a close that comes at the server's own deadline for the
    // request, rather than soon after the client left, shows here.
    const ran = (atMs: number): string => `, ${Math.round(atMs - trace.beginAtMs)} ms into the request`;
    if (trace.abortAtMs !== undefined) {
      ctx.check.observe('aborted with', `FCGI_ABORT_REQUEST about ${after} ms after the HTTP client left${ran(trace.abortAtMs)}`);
      return;
    }
    const ending = trace.ending;
    if (ending?.kind === 'closed' && ending.by === 'web-server') {
      ctx.check.observe('aborted with', `a close of the backend connection about ${after} ms after the HTTP client left${ran(ending.atMs)}`);
      // §5.4 allows the close "when a Web server is not multiplexing requests over a transport connection".
      ctx.check.that(trace.activeOnConnection === 1, R.abort, 'a close only when the request is alone on its connection, else FCGI_ABORT_REQUEST', `the connection carried ${trace.activeOnConnection} requests`);
      return;
    }
    ctx.check.violation(R.abort, 'FCGI_ABORT_REQUEST, or a close of the connection, once the HTTP client has gone', `neither within ${bound} ms of the HTTP client closing its connection${ending ? ` (the request ended by ${ending.kind})` : ''}`);
  },
});

export const readsWhileSending = defineWebServerScenario({
  id: 'connection.reads-while-sending',
  title: 'reads 8 MiB of output written after the first STDIN record while it still sends an 8 MiB body',
  requirements: ['FCGI-6.1-web-server-reads-while-sending', R.stdin],
  timeoutMs: 25_000,
  async run(ctx) {
    const upload = patternBytes(8 << 20, 81);
    const output = patternBytes(8 << 20, 82);
    ctx.answer(async (ex) => {
      const stdin = ex.request.stdin;
      // Wait for the first STDIN bytes without reading them: the input stays unread while the output goes.
      if (ex.trace.stdinBytes === 0 && !ex.trace.stdinEnded) await once(stdin, 'readable', { signal: ex.signal }).catch(() => undefined);
      ctx.note(`first FCGI_STDIN bytes in (${ex.trace.stdinBytes} so far): writing 8 MiB before reading more`);
      await ex.response.write('Content-Type: application/octet-stream\r\n\r\n');
      await ex.response.write(output);
      await ex.drainStdin(ctx.timeouts.scale(10_000));
      ex.response.end();
    });
    const bound = ctx.timeouts.scale(10_000);
    const outcome = await ctx.http({ method: 'POST', body: upload, headers: { 'Content-Type': 'application/octet-stream' }, timeoutMs: bound });
    const res = responseOf(outcome);
    const [trace] = ctx.requests();
    const input = trace ? `; the backend had ${formatSize(trace.stdinBytes)} of the 8 MiB body on FCGI_STDIN${trace.stdinEnded ? ', ended' : ', not ended'}` : '';
    ctx.check.that(res !== undefined && res.complete && res.status === 200, 'FCGI-6.1-web-server-reads-while-sending', `the whole exchange within ${bound} ms`, `${describeHttp(outcome)}${input}`);
    if (res?.complete !== true || res.status !== 200) return;
    expectResponse(ctx.check, outcome, 200, output, R.streamValue, 'the 8 MiB of output');
    if (trace) expectStdin(ctx.check, trace, upload, 'the 8 MiB body');
  },
});

export const scenarios = [keepConn, getValues, multiplex, abortOnClientClose, readsWhileSending] as const;
