/**
 * The HTTP trigger: sends one HTTP/1.1 request to the web server under test and reports what came back as a
 * value (a response, whole or cut short; an error; a timeout; our own abort), never a rejection. Each request
 * has its own keep-alive connection, so that a server delimits its response (Content-Length or chunked)
 * instead of closing, and a response cut short can be told from a whole one.
 */
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import type { HttpOutcome, HttpRequestPlan, HttpResponse } from '../../suites/web-server/define.ts';

/** Bytes of a response body kept; more is read and counted but not kept. */
export const MAX_RESPONSE_BODY = 32 * 1024 * 1024;

/** Options of `sendHttp` beyond the plan. */
export interface SendOptions {
  /** The full URL, path and query included. */
  readonly url: URL;
  /** Used when the plan has no `timeoutMs`. */
  readonly defaultTimeoutMs: number;
  /** Called once the request head and body have been handed to the socket. */
  readonly onSent?: () => void;
}

/** Joins the trigger URL and a path below it: `http://h/app/` + `fcgispec/x/1` → `http://h/app/fcgispec/x/1`. */
export function urlUnder(trigger: URL, path: string, query?: string): URL {
  const base = trigger.pathname.endsWith('/') ? trigger.pathname : `${trigger.pathname}/`;
  const url = new URL(trigger.href);
  url.pathname = `${base}${path.replace(/^\/+/, '')}`;
  url.search = query === undefined || query === '' ? '' : `?${query}`;
  url.hash = '';
  return url;
}

function joinHeaders(message: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Sends one request as planned. `abort()` closes its connection (the HTTP client goes away). */
export function sendHttp(plan: HttpRequestPlan, options: SendOptions): { readonly done: Promise<HttpOutcome>; readonly head: Promise<number | undefined>; abort(): void } {
  const started = performance.now();
  const elapsed = (): number => Math.round((performance.now() - started) * 10) / 10;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const body = plan.body;
  const headers: Record<string, string> = { ...plan.headers };
  const chunked = plan.chunks !== undefined && plan.chunks.length > 0 && body !== undefined;
  if (body !== undefined && !chunked && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) headers['Content-Length'] = String(body.length);
  const url = options.url;
  let settled = false;
  let resolveDone!: (o: HttpOutcome) => void;
  const done = new Promise<HttpOutcome>((resolve) => (resolveDone = resolve));
  let resolveHead!: (status: number | undefined) => void;
  const head = new Promise<number | undefined>((resolve) => (resolveHead = resolve));
  let response: IncomingMessage | undefined;
  const parts: Buffer[] = [];
  let kept = 0;
  let aborted = false;
  let timer: NodeJS.Timeout | undefined;

  const partial = (): HttpResponse | undefined =>
    response ? { status: response.statusCode ?? 0, headers: joinHeaders(response), body: Buffer.concat(parts), complete: false } : undefined;
  const settle = (outcome: HttpOutcome): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    req.destroy();
    agent.destroy();
    resolveHead(undefined);
    resolveDone(outcome);
  };

  const req = httpRequest({
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? 80 : Number(url.port),
    path: `${url.pathname}${url.search}`,
    method: plan.method ?? 'GET',
    headers,
    agent,
    // Long header values are part of what is tested: no limit of ours may refuse them first.
    maxHeaderSize: 1024 * 1024,
  });
  req.on('response', (res) => {
    response = res;
    resolveHead(res.statusCode ?? 0);
    res.on('data', (chunk: Buffer) => {
      if (kept + chunk.length <= MAX_RESPONSE_BODY) {
        parts.push(chunk);
        kept += chunk.length;
      }
    });
    res.on('end', () => {
      settle({ kind: 'response', elapsedMs: elapsed(), status: res.statusCode ?? 0, headers: joinHeaders(res), body: Buffer.concat(parts), complete: res.complete });
    });
    // A response cut short: 'close' without 'end'.
    res.on('close', () => {
      if (aborted) return settle({ kind: 'aborted', elapsedMs: elapsed() });
      settle({ kind: 'response', elapsedMs: elapsed(), status: res.statusCode ?? 0, headers: joinHeaders(res), body: Buffer.concat(parts), complete: res.complete });
    });
  });
  req.on('error', (err: NodeJS.ErrnoException) => {
    if (aborted) return settle({ kind: 'aborted', elapsedMs: elapsed() });
    const p = partial();
    if (p) return settle({ kind: 'response', elapsedMs: elapsed(), ...p });
    settle({ kind: 'error', message: `${err.code ?? 'error'}: ${err.message}`, elapsedMs: elapsed() });
  });
  req.on('close', () => {
    if (response) return; // the response's own events settle it
    if (aborted) return settle({ kind: 'aborted', elapsedMs: elapsed() });
    settle({ kind: 'error', message: 'the connection closed before a response', elapsedMs: elapsed() });
  });
  const timeoutMs = plan.timeoutMs ?? options.defaultTimeoutMs;
  timer = setTimeout(() => {
    const p = partial();
    settle({ kind: 'timeout', elapsedMs: elapsed(), ...(p ? { partial: p } : {}) });
  }, timeoutMs);

  const abort = (): void => {
    if (settled) return;
    aborted = true;
    req.destroy();
    settle({ kind: 'aborted', elapsedMs: elapsed() });
  };

  void (async () => {
    try {
      if (body === undefined) req.end();
      else if (plan.stopAfter !== undefined) {
        req.write(body.subarray(0, plan.stopAfter));
        // The request is left unfinished; the scenario aborts it when it has seen what it waits for.
      } else if (chunked) {
        const sizes = plan.chunks!.filter((n) => n > 0);
        for (let at = 0, i = 0; at < body.length && !settled; i++) {
          const size = sizes[i % sizes.length] ?? body.length;
          if (!req.write(body.subarray(at, at + size))) await new Promise((r) => req.once('drain', r));
          at += size;
          // Give each chunk its own write, so the server sees the pieces as sent.
          await new Promise((r) => setImmediate(r));
        }
        req.end();
      } else req.end(body);
      options.onSent?.();
    } catch {
      // The request's 'error' event settles it.
    }
  })();
  return { done, head, abort };
}
