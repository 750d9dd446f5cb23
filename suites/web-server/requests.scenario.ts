/**
 * What the web server sends for an HTTP request: the shape of the records (Appendix B examples 1 and 2), the
 * CGI/1.1 variables on FCGI_PARAMS, and long header and query values that need four-byte lengths.
 * (The record framing of every request in every scenario is judged by the validator in the backend.)
 * @see §5.1 §5.2 §6.2 Appendix B
 */
import { FCGI_RESPONDER } from '../../spec/constants.ts';
import { defineWebServerScenario, type HttpHandle, type RequestTrace, type WebServerContext } from './define.ts';
import {
  R,
  answerAfterStdin,
  checkInputs,
  checkNoNul,
  describeHttp,
  expectParam,
  expectResponse,
  expectStdin,
  httpVariable,
  oneRequest,
  text,
} from './kit.ts';

// The validator judges alignment on every record of the run, but a server that never pads can still send
// aligned records by chance (the lengths of its params vary with ports and headers). Eight requests whose
// FCGI_PARAMS and FCGI_STDIN lengths run through every residue modulo 8 leave nothing to chance, and run first
// so that the run's one framing finding about alignment lands here.
const ALIGN_REQUESTS = 8;

export const framingAligned = defineWebServerScenario({
  id: 'request.framing.aligned',
  title: 'pads its records to multiples of 8 bytes, over requests of every params and body length modulo 8',
  requirements: ['FCGI-3.3-align-8'],
  async run(ctx) {
    for (let n = 1; n <= ALIGN_REQUESTS; n++) {
      const outcome = await ctx.http({ method: 'POST', body: text('b'.repeat(n)), headers: { 'Content-Type': 'text/plain', 'X-Fcgispec-Pad': 'p'.repeat(n) } });
      expectResponse(ctx.check, outcome, 200, text(`fcgispec request.framing.aligned ${n}\n`), R.streamValue, `POST ${n} of ${ALIGN_REQUESTS} relayed`);
    }
    const traces = await ctx.waitForRequests(ALIGN_REQUESTS);
    if (traces.length < ALIGN_REQUESTS) {
      ctx.check.violation(R.inputs, `${ALIGN_REQUESTS} FastCGI requests for ${ALIGN_REQUESTS} POSTs`, `${traces.length} reached the backend`);
      if (traces.length === 0) return;
    }
    const records = traces.reduce((n, t) => n + t.records, 0);
    const unaligned = traces.reduce((n, t) => n + t.unalignedRecords, 0);
    ctx.check.that(unaligned === 0, 'FCGI-3.3-align-8', `every record of ${traces.length} requests 8-byte aligned`, `${unaligned} of ${records} records not a multiple of 8 bytes long`);
    ctx.check.observe('records', records);
  },
});

// Appendix B, example 1: the Responder's answer to a GET.
const example1Body = '<html>\n<head> ... ';

export const getSimple = defineWebServerScenario({
  id: 'request.get.simple',
  title: 'sends a GET as Appendix B example 1 (BEGIN_REQUEST Responder, PARAMS, empty PARAMS, empty STDIN) and relays its answer',
  requirements: ['FCGI-B-simple-request-web-server', 'FCGI-5.1-begin-request-starts', 'FCGI-5.1-role-values', 'FCGI-6.1-input-streams-sent'],
  async run(ctx) {
    ctx.answer(answerAfterStdin(() => ({ headers: [['Content-type', 'text/html']], body: example1Body })));
    const outcome = ctx.http();
    const trace = await oneRequest(ctx, 'FCGI-B-simple-request-web-server', 'a GET');
    expectResponse(ctx.check, await outcome, 200, text(example1Body), 'FCGI-B-simple-request-web-server', "example 1's answer relayed");
    if (!trace) return;
    ctx.check.equal(trace.role, FCGI_RESPONDER, 'FCGI-5.1-role-values', 'role of FCGI_BEGIN_REQUEST');
    checkInputs(ctx.check, trace, 'a GET');
    ctx.check.that(trace.stdinBytes === 0, R.stdin, 'no FCGI_STDIN data for a GET without a body', `${trace.stdinBytes} bytes of FCGI_STDIN`);
    ctx.check.observe('PARAMS records', trace.paramsRecords);
    ctx.check.observe('FCGI_KEEP_CONN', trace.keepConn);
  },
});

const probeHeader = 'X-Fcgispec-Probe';
const query = 'alpha=1&beta=two%20words&gamma=%C3%A9';

export const paramsCgi = defineWebServerScenario({
  id: 'request.params.cgi',
  title: 'passes the CGI/1.1 variables of a GET with a query string and headers',
  requirements: [R.params, R.noNul],
  async run(ctx) {
    const outcome = ctx.http({ query, headers: { [probeHeader]: 'hello world', 'Accept-Language': 'en' } });
    const trace = await oneRequest(ctx, R.params, 'a GET with a query');
    await outcome;
    if (!trace?.params) return;
    expectParam(ctx.check, trace, 'REQUEST_METHOD', 'GET');
    expectParam(ctx.check, trace, 'QUERY_STRING', query);
    expectParam(ctx.check, trace, 'SERVER_PROTOCOL', 'HTTP/1.1');
    expectScript(ctx, trace);
    expectParam(ctx.check, trace, httpVariable(probeHeader), 'hello world');
    expectParam(ctx.check, trace, httpVariable('Accept-Language'), 'en');
    checkNoNul(ctx.check, trace);
    observeParams(ctx, trace, ['GATEWAY_INTERFACE', 'SERVER_NAME', 'SERVER_PORT', 'REMOTE_ADDR', 'REQUEST_URI', 'SCRIPT_NAME', 'SCRIPT_FILENAME', 'PATH_INFO', 'CONTENT_LENGTH']);
    ctx.check.observe('params', trace.params.length);
  },
});

// Appendix B, example 2: the body of a POST.
const example2Body = 'quantity=100&item=3047936';

export const paramsPost = defineWebServerScenario({
  id: 'request.params.post',
  title: 'sends a POST as Appendix B example 2: CONTENT_LENGTH, CONTENT_TYPE, the body on STDIN, then an empty STDIN',
  requirements: ['FCGI-B-body-web-server', R.params, R.stdin],
  async run(ctx) {
    const body = text(example2Body);
    const outcome = ctx.http({ method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    const trace = await oneRequest(ctx, 'FCGI-B-body-web-server', 'a POST');
    expectResponse(ctx.check, await outcome, 200, text(`fcgispec request.params.post 1\n`), R.streamValue, 'the answer relayed');
    if (!trace?.params) return;
    expectParam(ctx.check, trace, 'REQUEST_METHOD', 'POST');
    expectParam(ctx.check, trace, 'CONTENT_TYPE', 'application/x-www-form-urlencoded');
    expectStdin(ctx.check, trace, body, 'the POST body');
    checkInputs(ctx.check, trace, 'a POST');
    expectScript(ctx, trace);
    checkNoNul(ctx.check, trace);
  },
});

/** Printable text of exactly `length` characters. */
function filler(length: number, seed: string): string {
  let s = '';
  while (s.length < length) s += `${seed}-${s.length.toString(36)}.`;
  return s.slice(0, length);
}

export const longValues = defineWebServerScenario({
  id: 'request.params.long-values',
  title: 'passes header and query values longer than 127 bytes whole, with four-byte lengths',
  requirements: ['FCGI-3.4-four-byte-length', 'FCGI-5.2-large-params-web-server', R.params],
  async run(ctx) {
    const values = { 'X-Fcgispec-Long': filler(200, 'long'), 'X-Fcgispec-Longer': filler(4000, 'longer') };
    const q = `q=${filler(2000, 'query')}`;
    const outcome = await passedOrRefused(ctx, ctx.startHttp({ query: q, headers: values }));
    if (outcome === 'refused') return;
    const [trace] = ctx.requests();
    if (!trace) return;
    if (!ctx.check.that(trace.paramsError === undefined, 'FCGI-3.4-four-byte-length', 'FCGI_PARAMS that decodes (lengths above 127 in the four-byte form)', trace.paramsError ?? '')) return;
    for (const [name, value] of Object.entries(values)) expectParam(ctx.check, trace, httpVariable(name), value, 'FCGI-5.2-large-params-web-server');
    expectParam(ctx.check, trace, 'QUERY_STRING', q, 'FCGI-5.2-large-params-web-server');
  },
});

export const hugeValues = defineWebServerScenario({
  id: 'request.params.huge-values',
  title: 'passes a 20 KiB header and a 70 KiB query whole, or refuses the HTTP request itself; never truncates them',
  requirements: ['FCGI-5.2-large-params-web-server'],
  async run(ctx) {
    const header = filler(20 * 1024, 'huge');
    const first = await passedOrRefused(ctx, ctx.startHttp({ headers: { 'X-Fcgispec-Huge': header } }));
    const q = `q=${filler(70 * 1024, 'query')}`;
    const second = await passedOrRefused(ctx, ctx.startHttp({ query: q }));
    const traces = ctx.requests();
    const byN = (n: number): RequestTrace | undefined => traces.find((t) => t.tag?.n === n);
    const a = first === 'passed' ? byN(1) : undefined;
    if (a) expectParam(ctx.check, a, httpVariable('X-Fcgispec-Huge'), header, 'FCGI-5.2-large-params-web-server');
    const b = second === 'passed' ? byN(2) : undefined;
    if (b) expectParam(ctx.check, b, 'QUERY_STRING', q, 'FCGI-5.2-large-params-web-server');
    ctx.check.observe('20 KiB header', first);
    ctx.check.observe('70 KiB query', second);
  },
});

// A 4xx from the server with no FastCGI request is a refusal (allowed); anything else should have reached us.
async function passedOrRefused(ctx: WebServerContext, handle: HttpHandle): Promise<'passed' | 'refused'> {
  const outcome = await handle.done;
  const reached = ctx.requests().some((t) => t.tag?.n === handle.n && t.params !== undefined);
  if (!reached && outcome.kind === 'response' && outcome.status >= 400 && outcome.status < 500) {
    ctx.check.observe(`#${handle.n} refused with HTTP ${outcome.status}`, true);
    return 'refused';
  }
  ctx.check.that(reached, 'FCGI-5.2-large-params-web-server', 'the request passed to the application, or refused with a 4xx', `no FastCGI request; ${describeHttp(outcome)}`);
  return 'passed';
}

function expectScript(ctx: WebServerContext, trace: RequestTrace): void {
  const name = trace.param('SCRIPT_NAME');
  const file = trace.param('SCRIPT_FILENAME');
  // RFC 3875 §4.1.13 lets SCRIPT_NAME be empty (a script mounted at the root, the path in PATH_INFO).
  ctx.check.that(name !== undefined || (file ?? '') !== '', R.params, 'SCRIPT_NAME (possibly empty) or SCRIPT_FILENAME', `SCRIPT_NAME=${JSON.stringify(name ?? null)}, SCRIPT_FILENAME=${JSON.stringify(file ?? null)}`);
}

function observeParams(ctx: WebServerContext, trace: RequestTrace, names: readonly string[]): void {
  for (const name of names) {
    const value = trace.param(name);
    ctx.check.observe(name, value === undefined ? '(absent)' : value.length > 120 ? `${value.slice(0, 120)}…` : value);
  }
}

export const scenarios = [framingAligned, getSimple, paramsCgi, paramsPost, longValues, hugeValues] as const;
