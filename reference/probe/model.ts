/**
 * The probe contract, version 1, as a pure model: what a conforming probe app answers to a request.
 * The reference probe (`app.ts`) and the PHP probe implement it; the harness and the property tests compare
 * real answers with `expectedProbeResponse`. The contract itself is written up in README.md beside this file.
 * @see §6.1 (CGI response on FCGI_STDOUT), §6.2 Responder, §6.3 Authorizer, §6.4 Filter
 */
import type { RoleName } from '../../spec/constants.ts';
import { paramsToPairs, type NameValuePair, type ParamsInit } from '../codec/name-value.ts';

export const PROBE_CONTRACT_VERSION = 1;

export const probeActions = ['echo-stdin', 'echo-data', 'echo-param', 'echo-params', 'bulk', 'sleep', 'stderr', 'status'] as const;
export type ProbeAction = (typeof probeActions)[number];

/** Bounds of the arguments; past them (or malformed) the answer is 400. */
export const probeLimits = {
  /** PROBE_SIZE, bytes (1 GiB). */
  maxSize: 1024 * 1024 * 1024,
  /** PROBE_MS (10 minutes). */
  maxSleepMs: 600_000,
  /** PROBE_EXIT: any 32-bit appStatus. */
  maxExit: 0xffffffff,
} as const;

/** What the request asks for, once its params are read. */
export type ProbeCall =
  | { readonly kind: 'authorize'; readonly allow: boolean }
  | { readonly kind: 'echo-stdin' }
  | { readonly kind: 'echo-data' }
  | { readonly kind: 'echo-param'; readonly value: Uint8Array | undefined }
  | { readonly kind: 'echo-params'; readonly lines: Uint8Array }
  | { readonly kind: 'bulk'; readonly size: number }
  | { readonly kind: 'sleep'; readonly ms: number }
  | { readonly kind: 'stderr'; readonly text: Uint8Array }
  | { readonly kind: 'status'; readonly status: number }
  | { readonly kind: 'bad-request'; readonly reason: string };

/** A probe request, parsed: the call and the appStatus to end with. */
export interface ProbeRequest {
  readonly call: ProbeCall;
  /** PROBE_EXIT, or 0. */
  readonly appStatus: number;
  /** PROBE_ACTION as given (for logs), or `echo-stdin` when absent. */
  readonly action: string;
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
}

const PROBE = {
  ACTION: Buffer.from('PROBE_ACTION'),
  NAME: Buffer.from('PROBE_NAME'),
  PREFIX: Buffer.from('PROBE_PREFIX'),
  SIZE: Buffer.from('PROBE_SIZE'),
  MS: Buffer.from('PROBE_MS'),
  TEXT: Buffer.from('PROBE_TEXT'),
  STATUS: Buffer.from('PROBE_STATUS'),
  AUTH: Buffer.from('PROBE_AUTH'),
  EXIT: Buffer.from('PROBE_EXIT'),
} as const;
const EMPTY = new Uint8Array(0);

/** Params as the probe reads them; the reference responder's request is one (no copy of its params). */
export interface ParamSource {
  /** The value of the last param named `name` (bytes compared), or undefined. */
  paramBytes(name: Uint8Array): Uint8Array | undefined;
  readonly paramPairs: readonly NameValuePair[];
}

/** A list of pairs as a ParamSource; lookups scan from the end (the last value wins). */
class PairList implements ParamSource {
  readonly paramPairs: readonly NameValuePair[];
  constructor(pairs: readonly NameValuePair[]) {
    this.paramPairs = pairs;
  }
  paramBytes(name: Uint8Array): Uint8Array | undefined {
    const pairs = this.paramPairs;
    outer: for (let i = pairs.length - 1; i >= 0; i--) {
      const p = pairs[i]!;
      if (p.name.length !== name.length) continue;
      for (let j = 0; j < name.length; j++) if (p.name[j] !== name[j]) continue outer;
      return p.value;
    }
    return undefined;
  }
}

/** A decimal param: undefined when absent, NaN when malformed or above `max`. */
function numberParam(params: ParamSource, name: Uint8Array, max: number, maxDigits: number): number | undefined {
  const raw = params.paramBytes(name);
  if (raw === undefined) return undefined;
  if (raw.length === 0 || raw.length > maxDigits) return NaN;
  let n = 0;
  for (const b of raw) {
    if (b < 0x30 || b > 0x39) return NaN;
    n = n * 10 + (b - 0x30);
  }
  return n <= max ? n : NaN;
}

function badRequest(reason: string, action: string): ProbeRequest {
  return { call: { kind: 'bad-request', reason }, appStatus: 0, action };
}

/** Reads the probe params of a request. Pure. */
export function parseProbeRequest(role: RoleName, params: ParamsInit | readonly NameValuePair[] | ParamSource): ProbeRequest {
  const source = isSource(params) ? params : new PairList(isPairList(params) ? params : paramsToPairs(params));
  const actionBytes = source.paramBytes(PROBE.ACTION);
  const action = actionBytes === undefined ? 'echo-stdin' : latin1(actionBytes);
  const exit = numberParam(source, PROBE.EXIT, probeLimits.maxExit, 10);
  if (Number.isNaN(exit)) return badRequest('bad PROBE_EXIT', action);
  return { call: probeCall(role, action, source), appStatus: exit ?? 0, action };
}

function isSource(params: ParamsInit | readonly NameValuePair[] | ParamSource): params is ParamSource {
  return typeof (params as Partial<ParamSource>).paramBytes === 'function';
}

function isPairList(params: ParamsInit | readonly NameValuePair[]): params is readonly NameValuePair[] {
  if (!Array.isArray(params)) return false;
  const first: unknown = params[0];
  return first !== undefined && typeof first === 'object' && first !== null && 'name' in first && 'value' in first;
}

function probeCall(role: RoleName, action: string, params: ParamSource): ProbeCall {
  if (role === 'authorizer') {
    const auth = params.paramBytes(PROBE.AUTH);
    return { kind: 'authorize', allow: auth !== undefined && latin1(auth) === 'allow' };
  }
  switch (action) {
    case 'echo-stdin':
    case 'echo-data':
      return { kind: action };
    case 'echo-param': {
      const name = params.paramBytes(PROBE.NAME);
      if (name === undefined) return { kind: 'bad-request', reason: 'bad PROBE_NAME' };
      return { kind: 'echo-param', value: params.paramBytes(name) };
    }
    case 'echo-params':
      return { kind: 'echo-params', lines: paramLines(params, latin1(params.paramBytes(PROBE.PREFIX) ?? EMPTY)) };
    case 'bulk': {
      const size = numberParam(params, PROBE.SIZE, probeLimits.maxSize, 10);
      return size === undefined || Number.isNaN(size) ? { kind: 'bad-request', reason: 'bad PROBE_SIZE' } : { kind: 'bulk', size };
    }
    case 'sleep': {
      const ms = numberParam(params, PROBE.MS, probeLimits.maxSleepMs, 6);
      return ms === undefined || Number.isNaN(ms) ? { kind: 'bad-request', reason: 'bad PROBE_MS' } : { kind: 'sleep', ms };
    }
    case 'stderr':
      return { kind: 'stderr', text: params.paramBytes(PROBE.TEXT) ?? EMPTY };
    case 'status': {
      const status = numberParam(params, PROBE.STATUS, 599, 3);
      return status !== undefined && status >= 100 ? { kind: 'status', status } : { kind: 'bad-request', reason: 'bad PROBE_STATUS' };
    }
    default:
      return { kind: 'bad-request', reason: 'unknown action' };
  }
}

/** `NAME=VALUE\n` for each param whose name starts with `prefix`, sorted bytewise, last value per name. */
function paramLines(params: ParamSource, prefix: string): Uint8Array {
  // latin1 strings hold one char per byte, so they compare as the bytes do
  const table = new Map<string, Uint8Array>();
  for (const p of params.paramPairs) {
    const name = latin1(p.name);
    if (name.startsWith(prefix)) table.set(name, p.value);
  }
  const names = [...table.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const parts: Uint8Array[] = [];
  for (const n of names) parts.push(Buffer.from(`${n}=`, 'latin1'), table.get(n)!, NEWLINE);
  return Buffer.concat(parts);
}
const NEWLINE = Buffer.from('\n');

/** The repeating ASCII sequence of `bulk`. */
export const BULK_PATTERN = '0123456789';

/** `size` bytes of `0123456789` repeated, starting at `offset` into the pattern. */
export function bulkBytes(size: number, offset = 0): Uint8Array {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = 0x30 + ((offset + i) % 10);
  return out;
}

/** Reason phrases the probes write after the status code. */
export const probeReasons: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  501: 'Not Implemented',
};

/** What an implementation of the contract can do; the reference can do everything. */
export interface ProbeCapabilities {
  /** Reads FCGI_DATA (`echo-data`); without it the answer is 501. PHP cannot. */
  readonly data: boolean;
  /** Sets appStatus from PROBE_EXIT. PHP cannot (php-fpm and php-cgi always send 0). */
  readonly appStatus: boolean;
  /**
   * How FCGI_STDERR relates to PROBE_TEXT: `exact`, or `contains` (PHP's error_log decorates it: php-cgi
   * appends "\n", php-fpm prefixes "PHP message: ").
   */
  readonly stderr: 'exact' | 'contains';
}

export const referenceCapabilities: ProbeCapabilities = { data: true, appStatus: true, stderr: 'exact' };
export const phpCapabilities: ProbeCapabilities = { data: false, appStatus: false, stderr: 'contains' };

/** The expected answer. `headers` is a subset: the real answer may carry more (PHP adds X-Powered-By). */
export interface ProbeExpectation {
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array;
  /** Expected FCGI_STDERR bytes: all of it (`exact`), or bytes it must contain (`contains`, never empty then). */
  readonly stderr: Uint8Array;
  readonly stderrMatch: 'exact' | 'contains';
  /** Expected appStatus, or undefined when the implementation cannot set it. */
  readonly appStatus: number | undefined;
}

const text = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const CONTENT_TYPE = ['Content-Type', 'application/octet-stream'] as const;

/** The answer body and status of a parsed call. Pure. */
export function answerOf(call: ProbeCall, stdin: Uint8Array, data: Uint8Array, capabilities: ProbeCapabilities = referenceCapabilities): {
  readonly status: number;
  readonly body: Uint8Array;
  readonly headers: readonly (readonly [string, string])[];
} {
  const plain = (status: number, body: Uint8Array | string): { status: number; body: Uint8Array; headers: readonly (readonly [string, string])[] } => ({
    status,
    body: typeof body === 'string' ? text(body) : body,
    headers: [CONTENT_TYPE],
  });
  switch (call.kind) {
    case 'authorize':
      return call.allow
        ? { status: 200, body: text('authorized\n'), headers: [CONTENT_TYPE, ['Variable-PROBE', 'ok']] }
        : plain(403, 'forbidden\n');
    case 'echo-stdin':
      return plain(200, stdin);
    case 'echo-data':
      return capabilities.data ? plain(200, data) : plain(501, 'not implemented\n');
    case 'echo-param':
      return call.value === undefined ? plain(404, 'no such param\n') : plain(200, call.value);
    case 'echo-params':
      return plain(200, call.lines);
    case 'bulk':
      return plain(200, bulkBytes(call.size));
    case 'sleep':
      return plain(200, 'slept\n');
    case 'stderr':
      return plain(200, 'ok\n');
    case 'status':
      return plain(call.status, 'status\n');
    case 'bad-request':
      return plain(400, `${call.reason}\n`);
  }
}

/**
 * The answer a conforming probe gives. `bulk` bodies are generated, so keep PROBE_SIZE modest when calling
 * this (or compare bulk answers with `bulkBytes` piecewise).
 */
export function expectedProbeResponse(
  role: RoleName,
  params: ParamsInit | readonly NameValuePair[] | ParamSource,
  stdin: Uint8Array = new Uint8Array(0),
  data: Uint8Array = new Uint8Array(0),
  capabilities: ProbeCapabilities = referenceCapabilities,
): ProbeExpectation {
  const { call, appStatus } = parseProbeRequest(role, params);
  const answer = answerOf(call, stdin, data, capabilities);
  const stderr = call.kind === 'stderr' ? call.text : new Uint8Array(0);
  const stderrMatch = capabilities.stderr === 'contains' && stderr.length > 0 ? 'contains' : 'exact';
  return { ...answer, stderr, stderrMatch, appStatus: capabilities.appStatus ? appStatus : undefined };
}

/** A CGI response as found on FCGI_STDOUT. @see §6.1 */
export interface CgiResponse {
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array;
}

/**
 * Parses a CGI response: header lines (CRLF or LF) up to the first empty line, then the body. The status is
 * the `Status:` header's code, else 200. Undefined when there is no complete header block.
 */
export function parseCgiResponse(stdout: Uint8Array): CgiResponse | undefined {
  const bytes = Buffer.from(stdout.buffer, stdout.byteOffset, stdout.length);
  const headers: [string, string][] = [];
  let at = 0;
  for (;;) {
    const nl = bytes.indexOf(0x0a, at);
    if (nl < 0) return undefined;
    const line = bytes.toString('latin1', at, nl > at && bytes[nl - 1] === 0x0d ? nl - 1 : nl);
    at = nl + 1;
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  const statusHeader = headers.find(([n]) => n.toLowerCase() === 'status')?.[1];
  const m = statusHeader === undefined ? undefined : /^([0-9]{3})/.exec(statusHeader);
  if (statusHeader !== undefined && !m) return undefined;
  return { status: m ? Number(m[1]) : 200, headers, body: bytes.subarray(at) };
}

/** What was observed for one probe request. */
export interface ProbeObservation {
  readonly stdout: Uint8Array;
  readonly stderr?: Uint8Array;
  readonly appStatus?: number;
}

/** Differences between an answer and the expectation, in words; empty when it conforms. */
export function compareProbeResponse(expected: ProbeExpectation, observed: ProbeObservation): string[] {
  const problems: string[] = [];
  const cgi = parseCgiResponse(observed.stdout);
  if (!cgi) return ['FCGI_STDOUT does not hold a CGI response (header lines, an empty line, a body)'];
  if (cgi.status !== expected.status) problems.push(`status ${cgi.status}, expected ${expected.status}`);
  for (const [name, value] of expected.headers) {
    const got = cgi.headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
    if (!got.includes(value)) problems.push(`header ${name}: ${got.length ? got.join(', ') : '(absent)'}, expected ${value}`);
  }
  if (!Buffer.from(cgi.body).equals(Buffer.from(expected.body))) problems.push(`body differs: ${describeDiff(cgi.body, expected.body)}`);
  if (observed.stderr !== undefined) {
    const got = Buffer.from(observed.stderr);
    if (expected.stderrMatch === 'contains' ? !got.includes(Buffer.from(expected.stderr)) : !got.equals(Buffer.from(expected.stderr))) {
      problems.push(`FCGI_STDERR differs (${expected.stderrMatch}): ${describeDiff(observed.stderr, expected.stderr)}`);
    }
  }
  if (observed.appStatus !== undefined && expected.appStatus !== undefined && observed.appStatus !== expected.appStatus) {
    problems.push(`appStatus ${observed.appStatus}, expected ${expected.appStatus}`);
  }
  return problems;
}

function describeDiff(actual: Uint8Array, expected: Uint8Array): string {
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  return `${actual.length} bytes, expected ${expected.length}; first difference at byte ${i}`;
}
