/**
 * The scenario author's kit: byte and text helpers, request building, the probe contract's params, and checks
 * over what a target sent back. Everything here works through `ScenarioContext` / `ScenarioConnection` only,
 * so a scenario written with it runs against any target the runner can reach.
 *
 * Two kinds of checks live here, kept apart on purpose:
 * - "the target handled this input": `expectServed`, `expectProbeBody`, `expectProbeAnswer`,
 *   `expectCleanOutcome` (input and hostile scenarios use these, so one output bug does not fail every input
 *   scenario);
 * - "what the target sent is well formed": `checkResponseFraming` (= `checkRecordHeaders` +
 *   `checkOutputStreams` + `checkEndRequest`) and `expectQuietAfterEnd` (the output group, and anyone judging
 *   a response).
 * Request series (`runSeries`) and follow-up requests (`keptConnectionProblem`) keep keep-conn trouble out of
 * the verdicts of scenarios that test something else.
 */
import {
  FCGI_BEGIN_REQUEST,
  FCGI_DATA,
  FCGI_DATA_LAST_MOD,
  FCGI_DATA_LENGTH,
  FCGI_END_REQUEST,
  FCGI_FIXED_BODY_LEN,
  FCGI_GET_VALUES,
  FCGI_GET_VALUES_RESULT,
  FCGI_HEADER_LEN,
  FCGI_KEEP_CONN,
  FCGI_MAX_CONNS,
  FCGI_MAX_REQS,
  FCGI_MPXS_CONNS,
  FCGI_NULL_REQUEST_ID,
  FCGI_PARAMS,
  FCGI_REQUEST_COMPLETE,
  FCGI_RESPONDER,
  FCGI_STDERR,
  FCGI_STDIN,
  FCGI_STDOUT,
  FCGI_UNKNOWN_TYPE,
  FCGI_VERSION_1,
  protocolStatusName,
  propertiesOf,
  protocolStatusNames,
  recordTypeName,
  roleNames,
  type RoleName,
} from '../spec/constants.ts';
import type { RequirementId } from '../spec/requirements.ts';
import {
  concatBytes,
  decodeRecord,
  encodeRecord,
  encodeStream,
  type DecodedRecord,
  type EncodeOptions,
  type RecordInit,
  type StreamEncodeOptions,
} from '../reference/codec/record.ts';
import { decodeBeginRequestBody, decodeUnknownTypeBody, encodeBeginRequestBody } from '../reference/codec/bodies.ts';
import {
  decodeNameValuePairs,
  encodeNameValuePair,
  paramsToPairs,
  toBytes,
  toText,
  type NameValuePair,
  type PairEncodeOptions,
  type ParamsInit,
} from '../reference/codec/name-value.ts';
import type { PeerEvent } from '../reference/client/raw-connection.ts';
import { parseCgiResponse, type CgiParseError } from '../reference/cgi.ts';
import { bulkBytes, compareProbeResponse, expectedProbeResponse, type ProbeCapabilities } from '../reference/probe/model.ts';
import { encodeRequestPlan } from '../harness/context.ts';
import type { CgiResponse, Check, Needs, RequestPlan, ResponseObservation, ScenarioConnection, ScenarioContext } from './define.ts';

export { toBytes, toText };

// ───────────────────────────── requirement ids the kit's own checks cite ─────────────────────────────

/**
 * The requirements the kit's shared checks report against, in one place. Scenario files cite their own ids;
 * these are only for findings the kit makes on their behalf (framing of what the target sent).
 */
export const kitRequirements = {
  version: 'FCGI-3.3-version-1',
  reservedByte: 'FCGI-3.3-reserved-zero',
  alignment: 'FCGI-3.3-align-8',
  direction: 'FCGI-A-record-direction',
  outputTypes: 'FCGI-6.1-outputs-sequential',
  afterTerminator: 'FCGI-3.3-nothing-after-terminator',
  stdoutSent: 'FCGI-6.1-stdout-sent',
  stderrTerminated: 'FCGI-X-stderr-terminated',
  endAfterOutput: 'FCGI-6.2-end-after-output',
  endOnce: 'FCGI-5.5-end-request-once',
  endBody: 'FCGI-5.5-end-body',
  endReserved: 'FCGI-5.5-end-reserved-zero',
  afterEnd: 'FCGI-3.3-no-records-after-end',
  unknownType: 'FCGI-4.2-unknown-type-reply',
  unknownTypeBody: 'FCGI-4.2-unknown-type-body',
  unknownTypeReserved: 'FCGI-4.2-unknown-type-reserved-zero',
  getValuesAnswered: 'FCGI-4.1-get-values-answered',
} as const satisfies Record<string, RequirementId>;

// ───────────────────────────── bytes and text ─────────────────────────────

/** Text as UTF-8 bytes. */
export function utf8(text: string): Uint8Array {
  return toBytes(text);
}

/** Whether two byte arrays hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return firstDifference(a, b) === -1;
}

/** Offset of the first byte where `a` and `b` differ (a length difference counts), or -1 when equal. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Lowercase hex of at most `max` bytes, `…` when cut. */
export function hex(bytes: Uint8Array, max = 32): string {
  const shown = Array.from(bytes.subarray(0, max), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return bytes.length > max ? `${shown} …` : shown;
}

/**
 * A short, readable rendering: printable ASCII as a quoted string with C escapes, anything mostly binary as
 * hex. For `expected`/`actual` texts of findings.
 */
export function preview(bytes: Uint8Array, max = 48): string {
  if (bytes.length === 0) return '(empty)';
  const head = bytes.subarray(0, max);
  let printable = 0;
  for (const b of head) if ((b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09) printable++;
  const cut = bytes.length > max ? '…' : '';
  if (printable < head.length * 0.8) return `hex ${hex(head, max)}${cut}`;
  let out = '';
  for (const b of head) {
    if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x09) out += '\\t';
    else if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return `"${out}"${cut}`;
}

/** `1 byte`, `64 KiB`, `10 MiB`, `1000 bytes`: binary units when exact. */
export function formatSize(n: number): string {
  if (n === 1) return '1 byte';
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1 << 10 && n % (1 << 10) === 0) return `${n / (1 << 10)} KiB`;
  return `${n} bytes`;
}

/**
 * How `actual` differs from `expected`, for a finding's `actual` text; undefined when they are equal.
 * Names the lengths, the first differing offset and the bytes around it.
 */
export function describeMismatch(actual: Uint8Array, expected: Uint8Array): string | undefined {
  const at = firstDifference(actual, expected);
  if (at === -1) return undefined;
  const from = Math.max(0, at - 4);
  const got = at < actual.length ? `0x${actual[at]!.toString(16).padStart(2, '0')}` : 'end of data';
  const want = at < expected.length ? `0x${expected[at]!.toString(16).padStart(2, '0')}` : 'end of data';
  return (
    `${formatSize(actual.length)} (expected ${formatSize(expected.length)}); first difference at offset ${at}: ` +
    `got ${got}, expected ${want}; got ${preview(actual.subarray(from, at + 12), 16)} from offset ${from}`
  );
}

/**
 * Deterministic pseudo-random bytes (xorshift32 from `seed`). Large payloads use it rather than a repeating
 * pattern, so a dropped, repeated or reordered block shows as a difference at its offset.
 */
export function patternBytes(length: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
    out[i + 1] = (x >>> 8) & 0xff;
    out[i + 2] = (x >>> 16) & 0xff;
    out[i + 3] = x >>> 24;
  }
  for (; i < length; i++) out[i] = (i * 131 + 7) & 0xff;
  return out;
}

/** Printable ASCII of exactly `length` bytes (letters and digits cycling), for names and textual values. */
export function asciiBytes(length: number, prefix = ''): Uint8Array {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz';
  const out = new Uint8Array(length);
  const head = toBytes(prefix).subarray(0, length);
  out.set(head);
  for (let i = head.length; i < length; i++) out[i] = alphabet.charCodeAt(i % alphabet.length);
  return out;
}

/** The 256 byte values 0x00..0xFF, in order. */
export function allByteValues(): Uint8Array {
  return Uint8Array.from({ length: 256 }, (_, i) => i);
}

/** Cuts `bytes` at the given offsets (sorted, deduplicated, kept inside 1..length-1). */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of points) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  out.push(bytes.subarray(from));
  return out;
}

/** `count` distinct cut offsets in 1..length-1, drawn from the scenario's seeded random source, sorted. */
export function randomCuts(ctx: Pick<ScenarioContext, 'randomInt'>, length: number, count: number): number[] {
  const room = Math.max(0, length - 1);
  const want = Math.min(count, room);
  const cuts = new Set<number>();
  // Bounded: a source that keeps repeating itself cannot hang the scenario; the gaps are then filled in order.
  for (let tries = 0; cuts.size < want && tries < want * 20; tries++) cuts.add(ctx.randomInt(1, length - 1));
  for (let c = 1; cuts.size < want; c++) cuts.add(c);
  return [...cuts].sort((a, b) => a - b);
}

// ───────────────────────────── building requests ─────────────────────────────

/** A BEGIN_REQUEST record (role defaults to FCGI_RESPONDER, flags to 0). @see §5.1 */
export function beginRecord(
  requestId: number,
  options: { readonly role?: number; readonly flags?: number; readonly reserved?: Uint8Array } = {},
): RecordInit {
  return {
    type: FCGI_BEGIN_REQUEST,
    requestId,
    content: encodeBeginRequestBody({
      role: options.role ?? FCGI_RESPONDER,
      flags: options.flags ?? 0,
      ...(options.reserved ? { reserved: options.reserved } : {}),
    }),
  };
}

/** One empty record of a stream type: the terminator. @see §3.3 */
export function streamEnd(type: number, requestId: number, paddingLength = 0): RecordInit {
  return { type, requestId, paddingLength };
}

/** Encodes records back to back (each with its own padding; `paddingByte` fills all padding). */
export function encodeRecords(records: readonly RecordInit[], options: EncodeOptions = {}): Uint8Array {
  return concatBytes(records.map((r) => encodeRecord(r, options)));
}

/** Decodes a complete byte stream into its records; bytes of an unfinished last record are ignored. */
export function recordsOf(bytes: Uint8Array): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  let at = 0;
  while (at < bytes.length) {
    const d = decodeRecord(bytes.subarray(at), at);
    if (d.kind === 'incomplete') break;
    out.push(d.record);
    at += d.consumed;
  }
  return out;
}

/** What `mapRecords` may change in a record. */
export type RecordEdit = Partial<RecordInit> & { readonly paddingByte?: number };

/**
 * Re-encodes a byte stream of records with each record edited (header fields, content, padding): the way to
 * build "every record of this request has reserved 0xFF" or "version 2" from a valid request.
 */
export function mapRecords(bytes: Uint8Array, edit: (record: DecodedRecord, index: number) => RecordEdit): Uint8Array {
  return concatBytes(
    recordsOf(bytes).map((r, i) => {
      const { paddingByte, ...changes } = edit(r, i);
      const init: RecordInit = {
        version: r.version,
        type: r.type,
        requestId: r.requestId,
        content: r.content,
        paddingLength: r.paddingLength,
        reserved: r.reserved,
        ...changes,
      };
      return encodeRecord(init, paddingByte === undefined ? {} : { paddingByte });
    }),
  );
}

/**
 * The bytes of a planned request, exactly as `conn.encodeRequest(plan)` makes them (base params first, a plan
 * param of the same name replacing the base one), without needing a connection.
 */
export function encodePlan(ctx: Pick<ScenarioContext, 'baseParams'>, plan: RequestPlan): Uint8Array {
  return encodeRequestPlan(plan, ctx.baseParams);
}

/** The name-value pairs an encoded request carries in its FCGI_PARAMS stream (request id `requestId`), in order. */
export function paramsOf(bytes: Uint8Array, requestId = 1): NameValuePair[] {
  const stream = concatBytes(recordsOf(bytes).filter((r) => r.type === FCGI_PARAMS && r.requestId === requestId).map((r) => r.content));
  return decodeNameValuePairs(stream).pairs;
}

/** How `relayout` re-cuts and re-pads the records of an encoded request. */
export interface Layout {
  /** Per stream type, the content sizes (cycled) its non-empty records are re-cut into; other types keep their cuts. */
  readonly sizes?: Readonly<Partial<Record<number, readonly number[]>>>;
  /** paddingLength of the k-th record of the whole result (k from 0, across every type); default: aligned. */
  readonly padding?: (k: number, type: number, contentLength: number) => number;
  /** Byte that fills every padding (any value is legal, §3.3). */
  readonly paddingByte?: number;
}

/**
 * Re-cuts the stream records of an encoded request (e.g. `conn.encodeRequest(plan)`) and re-pads every record,
 * keeping types, ids, headers and stream values. The way to build "STDIN in 4-byte records, paddings cycling
 * 0..255" from a valid request without re-implementing request encoding.
 */
export function relayout(bytes: Uint8Array, layout: Layout): Uint8Array {
  const out: Uint8Array[] = [];
  let k = 0;
  const emit = (r: DecodedRecord, content: Uint8Array): void => {
    const paddingLength = (layout.padding ? layout.padding(k, r.type, content.length) : (8 - (content.length % 8)) % 8) & 0xff;
    k++;
    const init: RecordInit = { version: r.version, type: r.type, requestId: r.requestId, content, paddingLength, reserved: r.reserved };
    out.push(encodeRecord(init, layout.paddingByte === undefined ? {} : { paddingByte: layout.paddingByte }));
  };
  for (const r of recordsOf(bytes)) {
    const sizes = layout.sizes?.[r.type];
    if (!sizes || r.content.length === 0) {
      emit(r, r.content);
      continue;
    }
    let at = 0;
    for (let i = 0; at < r.content.length; i++) {
      const size = Math.max(1, Math.min(0xffff, sizes[i % sizes.length] ?? 0xffff));
      emit(r, r.content.subarray(at, at + size));
      at += size;
    }
  }
  return concatBytes(out);
}

/** Offsets where each record starts in an encoded stream, plus the end offset. */
export function recordBoundaries(bytes: Uint8Array): number[] {
  const records = recordsOf(bytes);
  const out = records.map((r) => r.offset);
  const last = records.at(-1);
  out.push(last ? last.offset + FCGI_HEADER_LEN + last.content.length + last.paddingLength : 0);
  return out;
}

/**
 * The target's base params, less those `params` names again, followed by `params`: the pairs `encodePlan`
 * sends, for scenarios that encode the PARAMS stream themselves.
 */
export function withBaseParams(ctx: Pick<ScenarioContext, 'baseParams'>, params: ParamsInit = []): NameValuePair[] {
  const own = paramsToPairs(params);
  const names = new Set(own.map((p) => toText(p.name)));
  return [...paramsToPairs(ctx.baseParams).filter((p) => !names.has(toText(p.name))), ...own];
}

/** Encodes pairs, each with its own length forms: for the forms encoders rarely choose. @see §3.4 */
export function encodePairsWithForms(
  pairs: readonly { readonly name: string | Uint8Array; readonly value: string | Uint8Array; readonly forms?: PairEncodeOptions }[],
): Uint8Array {
  return concatBytes(pairs.map((p) => encodeNameValuePair(p.name, p.value, p.forms ?? {})));
}

/** A FCGI_PARAMS stream (records and terminator) for `pairBytes`, cut where `cuts` say. @see §5.2 */
export function paramsStreamCut(requestId: number, pairBytes: Uint8Array, cuts: readonly number[], padding = 0): Uint8Array {
  const parts = splitAt(pairBytes, cuts).filter((p) => p.length > 0);
  return encodeRecords([
    ...parts.map((content) => ({ type: FCGI_PARAMS, requestId, content, paddingLength: padding })),
    streamEnd(FCGI_PARAMS, requestId, padding),
  ]);
}

/** A byte stream of `type` as records of the given content sizes (cycled), then the terminator. */
export function streamInSizes(
  type: number,
  requestId: number,
  data: Uint8Array,
  sizes: readonly number[],
  options: Omit<StreamEncodeOptions, 'maxContent'> = {},
): Uint8Array {
  const cuts: number[] = [];
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    at += Math.max(1, Math.min(0xffff, sizes[i % sizes.length] ?? 0xffff));
    cuts.push(at);
  }
  const parts = splitAt(data, cuts).filter((p) => p.length > 0);
  const padOf = (i: number, len: number): number => {
    const p = options.padding ?? 'align';
    if (p === 'align') return (8 - (len % 8)) % 8;
    return typeof p === 'number' ? p : p(i, len);
  };
  const records: RecordInit[] = parts.map((content, i) => ({ type, requestId, content, paddingLength: padOf(i, content.length) & 0xff }));
  if (options.terminate !== false) records.push(streamEnd(type, requestId, padOf(parts.length, 0) & 0xff));
  return encodeRecords(records, options.paddingByte === undefined ? {} : { paddingByte: options.paddingByte });
}

/** The default STDIN stream for a request that has no body: one empty record. */
export function emptyStdin(requestId: number): Uint8Array {
  return encodeStream(FCGI_STDIN, requestId, new Uint8Array(0));
}

/** CGI params announcing a request body of `length` bytes (a POST), as a web server sends them. @see §6.2 */
export function bodyParams(length: number): [string, string][] {
  return [
    ['REQUEST_METHOD', 'POST'],
    ['CONTENT_TYPE', 'application/octet-stream'],
    ['CONTENT_LENGTH', String(length)],
  ];
}

/** Filter-role params for a DATA stream of `length` bytes. @see §6.4 */
export function filterParams(length: number, lastMod = 1_000_000_000): [string, string][] {
  return [
    [FCGI_DATA_LENGTH, String(length)],
    [FCGI_DATA_LAST_MOD, String(lastMod)],
  ];
}

// ───────────────────────────── the probe contract ─────────────────────────────

/**
 * Params that select the probe application's behaviour (contract version 1, `reference/probe/README.md`; the
 * model in `reference/probe/model.ts` is the source of truth). Scenarios build probe requests only through
 * these, so the contract lives in one place.
 */
export const probe = {
  /** Names of the probe's control params. */
  names: {
    action: 'PROBE_ACTION',
    name: 'PROBE_NAME',
    prefix: 'PROBE_PREFIX',
    size: 'PROBE_SIZE',
    ms: 'PROBE_MS',
    text: 'PROBE_TEXT',
    status: 'PROBE_STATUS',
    auth: 'PROBE_AUTH',
    exit: 'PROBE_EXIT',
  },
  /** Echo FCGI_STDIN as the body (send CONTENT_LENGTH too, see `bodyParams`: PHP reads only that much). */
  echoStdin(): [string, string][] {
    return [[probe.names.action, 'echo-stdin']];
  },
  /** Echo the FCGI_DATA stream as the body (Filter). */
  echoData(): [string, string][] {
    return [[probe.names.action, 'echo-data']];
  },
  /** Echo the value of the param named `name` (bytes, binary-safe) as the body; 404 when absent. */
  echoParam(name: string | Uint8Array): [string | Uint8Array, string | Uint8Array][] {
    return [
      [probe.names.action, 'echo-param'],
      [probe.names.name, name],
    ];
  },
  /**
   * List the params whose names start with `prefix` as `NAME=VALUE\n` lines, sorted bytewise by name, the last
   * value of a repeated name only. Give a distinctive prefix: PHP's `$_SERVER` holds more than the params.
   */
  echoParams(prefix?: string): [string, string][] {
    return [[probe.names.action, 'echo-params'], ...(prefix === undefined ? [] : [[probe.names.prefix, prefix] as [string, string]])];
  },
  /** A body of `size` bytes of `0123456789` repeated (`probe.bulkBytes`). */
  bulk(size: number): [string, string][] {
    return [
      [probe.names.action, 'bulk'],
      [probe.names.size, String(size)],
    ];
  },
  /** Write `text` on FCGI_STDERR, then answer `ok\n`. PHP decorates the text: FCGI_STDERR then contains it. */
  stderr(text: string): [string, string][] {
    return [
      [probe.names.action, 'stderr'],
      [probe.names.text, text],
    ];
  },
  /** Answer with the CGI status `status` (100..599) and the body `status\n`. */
  status(status: number): [string, string][] {
    return [
      [probe.names.action, 'status'],
      [probe.names.status, String(status)],
    ];
  },
  /** Sleep `ms` before answering `slept\n` (less when the request is aborted). */
  sleep(ms: number): [string, string][] {
    return [
      [probe.names.action, 'sleep'],
      [probe.names.ms, String(ms)],
    ];
  },
  /** Authorizer role: `allow` answers 200 with `Variable-PROBE: ok`, anything else 403. */
  authorize(allow: boolean): [string, string][] {
    return [[probe.names.auth, allow ? 'allow' : 'deny']];
  },
  /** The variable an allowing Authorizer answer carries (`Variable-PROBE: ok`). */
  authorizeVariable: { name: 'PROBE', value: 'ok' },
  /** End with appStatus `code` (PHP probes cannot: they always send 0). */
  exit(code: number): [string, string][] {
    return [[probe.names.exit, String(code)]];
  },
  /** The bytes a `bulk` answer of `size` bytes carries. */
  bulkBytes(size: number): Uint8Array {
    return bulkBytes(size);
  },
} as const;

/**
 * What the probe may do where its implementations differ (`phpCapabilities`): the kit's checks accept both the
 * reference and the PHP probe, so FCGI_STDERR need only contain the text, and appStatus is not compared (the
 * scenarios that check appStatus do so themselves and skip when the probe cannot set it). `echo-data` is
 * expected to work: only targets that claim the Filter role are sent it.
 */
const lenientProbe: ProbeCapabilities = { data: true, appStatus: false, stderr: 'contains' };

/** The request parts a probe answer depends on, read back from the request's bytes. */
function requestParts(bytes: Uint8Array, requestId: number): { role: RoleName; pairs: NameValuePair[]; stdin: Uint8Array; data: Uint8Array } {
  const records = recordsOf(bytes).filter((r) => r.requestId === requestId);
  const stream = (type: number): Uint8Array => concatBytes(records.filter((r) => r.type === type).map((r) => r.content));
  const begin = records.find((r) => r.type === FCGI_BEGIN_REQUEST);
  const roleNumber = begin ? decodeBeginRequestBody(begin.content).role : FCGI_RESPONDER;
  const role = (roleNames as Record<number, RoleName | undefined>)[roleNumber] ?? 'responder';
  return { role, pairs: decodeNameValuePairs(stream(FCGI_PARAMS)).pairs, stdin: stream(FCGI_STDIN), data: stream(FCGI_DATA) };
}

// ───────────────────────────── describing what came back ─────────────────────────────

/** One line: how a response ended and what it held, for findings' `actual`. */
export function describeObservation(obs: ResponseObservation): string {
  const streams =
    `${obs.records.length} record(s); stdout ${formatSize(obs.stdout.length)}${obs.stdoutTerminated ? ' terminated' : ''}` +
    `; stderr ${formatSize(obs.stderr.length)}${obs.stderrTerminated ? ' terminated' : ''}`;
  switch (obs.ending) {
    case 'end-request': {
      const end = obs.end;
      const status = end ? `{appStatus ${end.appStatus}, ${protocolStatusName(end.protocolStatus)}}` : '';
      return `FCGI_END_REQUEST ${status} after ${obs.elapsedMs.toFixed(0)} ms; ${streams}`;
    }
    case 'closed':
      return `connection closed (${obs.closeHow ?? 'end'}) without FCGI_END_REQUEST after ${obs.elapsedMs.toFixed(0)} ms; ${streams}`;
    case 'timeout':
      return `no FCGI_END_REQUEST within ${obs.elapsedMs.toFixed(0)} ms; ${streams}`;
  }
}

/**
 * Records that arrived on a connection and that no read took, summarised (a response sent on the wrong request
 * id shows here), or '' when there are none. For findings' `actual`.
 */
export function describeUnclaimed(conn: ScenarioConnection): string {
  const left = conn.unclaimed();
  const first = left[0];
  if (!first) return '';
  const ids = [...new Set(left.map((r) => r.requestId))].join(', ');
  return `; meanwhile ${left.length} other record(s) on request id(s) ${ids}, first {${recordTypeName(first.type)}, ${first.requestId}, ${first.content.length} bytes}`;
}

/** Describes a management-side event (record, close, timeout). */
export function describeEvent(event: PeerEvent): string {
  switch (event.kind) {
    case 'record': {
      const r = event.record;
      return `{${recordTypeName(r.type)}, ${r.requestId}, ${preview(r.content, 40)}} (${r.content.length} content bytes)`;
    }
    case 'closed':
      return `connection closed (${event.how}${event.detail ? `: ${event.detail}` : ''})`;
    case 'timeout':
      return `nothing within ${event.afterMs} ms`;
  }
}

/** How a request ended, in the terms hostile scenarios judge by. */
export type ResponseOutcome =
  /** FCGI_END_REQUEST with FCGI_REQUEST_COMPLETE. */
  | 'complete'
  /** FCGI_END_REQUEST with another protocolStatus (a clean refusal). */
  | 'rejected'
  /** The connection closed before any record for the request (a clean refusal). */
  | 'closed-silently'
  /** Output, then a close without FCGI_END_REQUEST (partial output: not clean). */
  | 'closed-partial'
  /** Nothing at all within the deadline. */
  | 'timeout-silent'
  /** Output, then nothing within the deadline. */
  | 'timeout-partial';

/** Classifies an observation. */
export function outcomeOf(obs: ResponseObservation): ResponseOutcome {
  if (obs.ending === 'end-request') return obs.end?.protocolStatus === FCGI_REQUEST_COMPLETE ? 'complete' : 'rejected';
  const silent = obs.records.length === 0;
  if (obs.ending === 'closed') return silent ? 'closed-silently' : 'closed-partial';
  return silent ? 'timeout-silent' : 'timeout-partial';
}

/** Outcomes that end a request cleanly: served, refused with a protocolStatus, or refused by a close before any output. */
export const cleanOutcomes: readonly ResponseOutcome[] = ['complete', 'rejected', 'closed-silently'];

const outcomeWords: Readonly<Record<ResponseOutcome, string>> = {
  complete: 'served (FCGI_REQUEST_COMPLETE)',
  rejected: 'refused with FCGI_END_REQUEST',
  'closed-silently': 'refused by closing before any output',
  'closed-partial': 'closed after partial output',
  'timeout-silent': 'no answer',
  'timeout-partial': 'partial output, then nothing',
};

/** A few words for an outcome, for observations and findings. */
export function describeOutcome(outcome: ResponseOutcome, obs?: ResponseObservation): string {
  if (outcome === 'rejected' && obs?.end) return `refused with ${protocolStatusName(obs.end.protocolStatus)}`;
  return outcomeWords[outcome];
}

/**
 * For hostile input: the request must end in one of `accept` (default `cleanOutcomes`): a crash shows as a
 * close after partial output or as silence, a hang as silence. Records a violation of `requirement` otherwise
 * and returns the outcome (the runner's liveness check then sees whether the target survived).
 */
export function expectCleanOutcome(
  check: Check,
  obs: ResponseObservation,
  requirement: RequirementId,
  what: string,
  accept: readonly ResponseOutcome[] = cleanOutcomes,
): ResponseOutcome {
  const outcome = outcomeOf(obs);
  check.that(
    accept.includes(outcome),
    requirement,
    `${what}: ${accept.map((o) => outcomeWords[o]).join(', or ')}`,
    `${describeOutcome(outcome, obs)}: ${describeObservation(obs)}`,
  );
  return outcome;
}

// ───────────────────────────── checks: was the request served? ─────────────────────────────

/** Why a request does not count as served (FCGI_END_REQUEST with FCGI_REQUEST_COMPLETE), or undefined. */
export function servedProblem(obs: ResponseObservation): string | undefined {
  return outcomeOf(obs) === 'complete' ? undefined : describeObservation(obs);
}

/**
 * The request ended with FCGI_END_REQUEST and FCGI_REQUEST_COMPLETE: the target handled the input. Records a
 * violation of `requirement` otherwise and returns false. Says nothing about output framing.
 */
export function expectServed(check: Check, obs: ResponseObservation, requirement: RequirementId, what: string): boolean {
  const problem = servedProblem(obs);
  return check.that(problem === undefined, requirement, `${what}: FCGI_END_REQUEST with FCGI_REQUEST_COMPLETE`, problem ?? '');
}

/** A parsed CGI response (§6.1): the runner's parse, or `reference/cgi.ts`'s. */
export type CgiView = CgiResponse;

/** The CGI response in an observation's stdout, or why stdout is not one. @see §6.1 */
export function parseCgi(stdout: Uint8Array): { readonly response: CgiView } | { readonly error: CgiParseError } {
  const parsed = parseCgiResponse(stdout);
  return parsed.kind === 'response' ? { response: parsed.response } : { error: parsed.error };
}

/** The CGI response in an observation: the runner's parse if it made one, else ours; undefined if none. */
export function cgiOf(obs: ResponseObservation): CgiView | undefined {
  if (obs.cgi) return obs.cgi;
  const parsed = parseCgi(obs.stdout);
  return 'response' in parsed ? parsed.response : undefined;
}

/** A header's value (case-insensitive name), or undefined. */
export function headerValue(cgi: CgiView, name: string): string | undefined {
  const lower = name.toLowerCase();
  return cgi.headers.find(([n]) => n.toLowerCase() === lower)?.[1];
}

/**
 * Why a probe answer is not exactly `expected`, or undefined: not served, no CGI response, a status other than
 * 200, or a body that differs (first differing offset named).
 */
export function echoProblem(obs: ResponseObservation, expected: Uint8Array): string | undefined {
  const notServed = servedProblem(obs);
  if (notServed) return notServed;
  const cgi = cgiOf(obs);
  if (!cgi) return `no CGI response (header block, empty line): stdout ${preview(obs.stdout)}`;
  if (cgi.status !== 200) return `probe status ${cgi.status}; body ${preview(cgi.body)}`;
  return describeMismatch(cgi.body, expected);
}

/**
 * The probe served the request and its body is exactly `expected`: served, a CGI response with status 200, and
 * the bytes equal. Records one violation of `requirement` naming the first thing wrong.
 */
export function expectProbeBody(
  check: Check,
  obs: ResponseObservation,
  expected: Uint8Array,
  requirement: RequirementId,
  what: string,
): boolean {
  const problem = echoProblem(obs, expected);
  return check.that(problem === undefined, requirement, `${what}: served, probe status 200, body equal to the ${formatSize(expected.length)} sent`, problem ?? '');
}

/**
 * Why a probe answer differs from what the probe contract predicts for the request `requestBytes` (its role,
 * params, STDIN and DATA are read back from those bytes), or undefined when it conforms. Not served at all
 * is a problem too.
 */
export function probeAnswerProblem(obs: ResponseObservation, requestBytes: Uint8Array): string | undefined {
  const notServed = servedProblem(obs);
  if (notServed) return notServed;
  const { role, pairs, stdin, data } = requestParts(requestBytes, obs.requestId);
  const expected = expectedProbeResponse(role, pairs, stdin, data, lenientProbe);
  // FCGI_STDERR is compared only when the probe was told to write there: §6.1 lets an application (a library
  // warning, a PHP notice) write error text at any time.
  const problems = compareProbeResponse(expected, { stdout: obs.stdout, ...(expected.stderr.length > 0 ? { stderr: obs.stderr } : {}) });
  return problems.length ? problems.join('; ') : undefined;
}

/**
 * The probe's answer to `requestBytes` is what the contract predicts (status, headers, body, FCGI_STDERR):
 * records one violation of `requirement` otherwise.
 */
export function expectProbeAnswer(check: Check, obs: ResponseObservation, requestBytes: Uint8Array, requirement: RequirementId, what: string): boolean {
  const problem = probeAnswerProblem(obs, requestBytes);
  return check.that(problem === undefined, requirement, `${what}: served, the probe's answer as the contract predicts`, problem ?? '');
}

// ───────────────────────────── input scenarios in two variants ─────────────────────────────

/**
 * Input scenarios come in two variants: `probe` checks the bytes the probe application reports back
 * (`needs: { probe: true }`); `framing` runs against any target and checks only that the request was served.
 * Both exist so a target without the probe is still tested, and a pass never claims a check that did not run.
 */
export type Variant = 'probe' | 'framing';
/** Both variants, probe first. */
export const variants: readonly Variant[] = ['probe', 'framing'];

/** The scenario id of a variant: the base id for `probe`, `<base>.framing` for `framing`. */
export function variantId<const B extends `${string}.${string}`>(base: B, variant: Variant): B | `${B}.framing` {
  return variant === 'probe' ? base : `${base}.framing`;
}

/** What a variant needs: the probe for `probe`, nothing for `framing`. */
export function variantNeeds(variant: Variant, more: Needs = {}): Needs {
  return variant === 'probe' ? { ...more, probe: true } : more;
}

/** A title suffix naming what a variant checks. */
export function variantTitle(title: string, variant: Variant): string {
  return variant === 'probe' ? `${title} (probe echo compared)` : `${title} (framing: served)`;
}

/**
 * The verdict of an input scenario's request, by variant: for `probe`, `expectProbeBody` against `expected`;
 * for `framing`, `expectServed`.
 */
export function expectEchoOrServed(
  check: Check,
  variant: Variant,
  obs: ResponseObservation,
  expected: Uint8Array,
  requirement: RequirementId,
  what: string,
): boolean {
  return variant === 'probe' ? expectProbeBody(check, obs, expected, requirement, what) : expectServed(check, obs, requirement, what);
}

/** `echoProblem` for the `probe` variant, `servedProblem` for `framing`. */
export function variantProblem(variant: Variant, obs: ResponseObservation, expected: Uint8Array): string | undefined {
  return variant === 'probe' ? echoProblem(obs, expected) : servedProblem(obs);
}

// ───────────────────────────── checks: is the output well formed? ─────────────────────────────

/** What `checkResponseFraming` counted, for scenarios that go on to check more. */
export interface FramingSummary {
  readonly endRequests: number;
  readonly stdoutTerminators: number;
  readonly stderrTerminators: number;
  readonly misaligned: number;
}

function describeRecord(r: DecodedRecord): string {
  return (
    `{${recordTypeName(r.type)}, id ${r.requestId}, version ${r.version}, contentLength ${r.content.length}, ` +
    `paddingLength ${r.paddingLength}, reserved ${r.reserved}} at stream offset ${r.offset}`
  );
}

function firstOf(list: readonly DecodedRecord[], total: number): string {
  return `${list.length} of ${total} record(s); first ${describeRecord(list[0]!)}`;
}

/**
 * Checks the header of every record a target sent for a request: version 1, reserved byte 0, a type the
 * application may send on a request (STDOUT, STDERR, END_REQUEST), and 8-byte alignment (a recommendation:
 * its level makes it a warning). One finding per kind of fault, naming the first record and the count.
 * Returns the number of misaligned records.
 */
export function checkRecordHeaders(check: Check, records: readonly DecodedRecord[]): number {
  const badVersion = records.filter((r) => r.version !== FCGI_VERSION_1);
  const badReserved = records.filter((r) => r.reserved !== 0);
  const foreign = records.filter((r) => r.type !== FCGI_STDOUT && r.type !== FCGI_STDERR && r.type !== FCGI_END_REQUEST);
  const wrongDirection = foreign.filter((r) => propertiesOf(r.type)?.sender === 'web-server');
  const otherTypes = foreign.filter((r) => propertiesOf(r.type)?.sender !== 'web-server');
  const misaligned = records.filter((r) => (FCGI_HEADER_LEN + r.content.length + r.paddingLength) % 8 !== 0);
  // §3.3: "version: Identifies the FastCGI protocol version. This specification documents FCGI_VERSION_1."
  if (badVersion.length) check.violation(kitRequirements.version, 'version 1 in every record', firstOf(badVersion, records.length));
  // §3.3 FCGI_Header: `unsigned char reserved;`: a sender leaves it 0.
  if (badReserved.length) {
    check.violation(kitRequirements.reservedByte, 'reserved header byte 0 in every record', firstOf(badReserved, records.length));
  }
  // Appendix A: "WS->App: records of this type can only be sent by the Web server to the application."
  if (wrongDirection.length) {
    check.violation(kitRequirements.direction, 'no record of a web-server-to-application type', firstOf(wrongDirection, records.length));
  }
  // §6.1: outputs are STDOUT and STDERR, "allow these two streams to be interleaved", then FCGI_END_REQUEST.
  if (otherTypes.length) {
    check.violation(
      kitRequirements.outputTypes,
      'only FCGI_STDOUT, FCGI_STDERR and FCGI_END_REQUEST on a request id',
      firstOf(otherTypes, records.length),
    );
  }
  // §3.3: "We recommend that records be placed on boundaries that are multiples of eight bytes."
  if (misaligned.length) {
    check.violation(
      kitRequirements.alignment,
      'every record a multiple of 8 bytes long (8 + contentLength + paddingLength)',
      firstOf(misaligned, records.length),
    );
  }
  return misaligned.length;
}

/**
 * The output streams of one response: nothing of a stream after its empty record; for a completed request,
 * STDOUT ended by its empty record before FCGI_END_REQUEST; STDERR ended if it carried data (an empty STDERR
 * stream, or none at all, are both fine, and STDERR may interleave with STDOUT anywhere).
 */
export function checkOutputStreams(check: Check, obs: ResponseObservation): Pick<FramingSummary, 'stdoutTerminators' | 'stderrTerminators'> {
  const ended = new Set<number>();
  const afterTerminator: DecodedRecord[] = [];
  let stdoutTerminators = 0;
  let stderrTerminators = 0;
  for (const r of obs.records) {
    if (r.type !== FCGI_STDOUT && r.type !== FCGI_STDERR) continue;
    if (ended.has(r.type)) afterTerminator.push(r);
    if (r.content.length === 0) {
      ended.add(r.type);
      if (r.type === FCGI_STDOUT) stdoutTerminators++;
      else stderrTerminators++;
    }
  }
  // §3.3: a stream is "a series of zero or more non-empty records (length != 0) of the stream type, followed by
  // an empty record (length == 0) of the stream type."
  if (afterTerminator.length) {
    check.violation(kitRequirements.afterTerminator, 'no record of a stream after its empty (terminating) record', firstOf(afterTerminator, obs.records.length));
  }
  if (obs.ending === 'end-request' && obs.end?.protocolStatus === FCGI_REQUEST_COMPLETE) {
    // §6.1: "When a role protocol calls for transmitting a stream other than FCGI_STDERR, at least one record of
    // the stream type is always transmitted, even if the stream is empty." §6.2: "After sending all its stdout
    // and stderr data, the Responder application sends a FCGI_END_REQUEST record."
    check.that(
      obs.stdoutTerminated,
      kitRequirements.stdoutSent,
      'FCGI_STDOUT ended by an empty FCGI_STDOUT record before FCGI_END_REQUEST',
      `no empty FCGI_STDOUT record before FCGI_END_REQUEST (stdout ${formatSize(obs.stdout.length)})`,
    );
  }
  // §6.1: "If an application has no errors to report, it sends either no FCGI_STDERR records or one zero-length
  // FCGI_STDERR record." A stream that carried data ends like any stream (§3.3).
  if (obs.ending === 'end-request' && obs.stderr.length > 0) {
    check.that(
      obs.stderrTerminated,
      kitRequirements.stderrTerminated,
      'FCGI_STDERR, having carried data, ended by an empty FCGI_STDERR record before FCGI_END_REQUEST',
      `stderr ${formatSize(obs.stderr.length)} and no empty FCGI_STDERR record`,
    );
  }
  return { stdoutTerminators, stderrTerminators };
}

/**
 * The FCGI_END_REQUEST of one response: it came (the response did not end by a close or a timeout), with an
 * 8-byte body, a defined protocolStatus and zero reserved bytes. Returns whether it came.
 */
export function checkEndRequest(check: Check, obs: ResponseObservation): boolean {
  // §5.5: "The application sends a FCGI_END_REQUEST record to terminate a request, either because the
  // application has processed the request or because the application has rejected the request."
  if (!check.that(obs.ending === 'end-request' && obs.end !== undefined, kitRequirements.endOnce, `FCGI_END_REQUEST for request ${obs.requestId}`, describeObservation(obs))) {
    return false;
  }
  const end = obs.end!;
  // §5.5 FCGI_EndRequestBody: appStatusB3..B0, protocolStatus, reserved[3]; protocolStatus one of the four defined.
  check.that(end.length === FCGI_FIXED_BODY_LEN, kitRequirements.endBody, 'an 8-byte FCGI_EndRequestBody', `${end.length}-byte body`);
  check.that(
    end.protocolStatus in protocolStatusNames,
    kitRequirements.endBody,
    'protocolStatus FCGI_REQUEST_COMPLETE, FCGI_CANT_MPX_CONN, FCGI_OVERLOADED or FCGI_UNKNOWN_ROLE',
    `protocolStatus ${end.protocolStatus}`,
  );
  check.that(end.reserved.every((b) => b === 0), kitRequirements.endReserved, 'FCGI_EndRequestBody reserved bytes 0', `reserved ${hex(end.reserved)}`);
  return true;
}

/**
 * Full framing of one response, for scenarios that judge what a target sent: `checkRecordHeaders`,
 * `checkOutputStreams` and `checkEndRequest` together. Pair it with `expectQuietAfterEnd` for the records
 * that come after FCGI_END_REQUEST.
 */
export function checkResponseFraming(check: Check, obs: ResponseObservation): FramingSummary {
  const misaligned = checkRecordHeaders(check, obs.records);
  const streams = checkOutputStreams(check, obs);
  checkEndRequest(check, obs);
  const endRequests = obs.records.filter((r) => r.type === FCGI_END_REQUEST).length;
  return { ...streams, endRequests, misaligned };
}

/**
 * Waits the quiet period after FCGI_END_REQUEST and checks no record arrived for `requestId` (§3.3: the id
 * became inactive when the application sent FCGI_END_REQUEST). A close ends the wait early and is fine.
 * Returns the extra records.
 */
export async function expectQuietAfterEnd(
  ctx: Pick<ScenarioContext, 'timeouts' | 'check'>,
  conn: ScenarioConnection,
  requestId: number,
): Promise<readonly DecodedRecord[]> {
  const more = await conn.readResponse(requestId, ctx.timeouts.quietMs);
  const extra = more.records;
  // §3.3: "A request ID R becomes active when the application receives a record {FCGI_BEGIN_REQUEST, R, ...} and
  // becomes inactive when the application sends a record {FCGI_END_REQUEST, R, ...} to the Web server."
  if (extra.length) reportAfterEnd(ctx.check, extra, requestId);
  return extra;
}

function reportAfterEnd(c: Check, extra: readonly DecodedRecord[], requestId: number): void {
  c.violation(kitRequirements.afterEnd, `no record for request ${requestId} after its FCGI_END_REQUEST`, firstOf(extra, extra.length));
  if (extra.some((r) => r.type === FCGI_END_REQUEST)) {
    c.violation(kitRequirements.endOnce, `exactly one FCGI_END_REQUEST for request ${requestId}`, 'a second FCGI_END_REQUEST');
  }
  // §6.2: "After sending all its stdout and stderr data, the Responder application sends a FCGI_END_REQUEST record."
  const output = extra.filter((r) => r.type === FCGI_STDOUT || r.type === FCGI_STDERR);
  if (output.length) c.violation(kitRequirements.endAfterOutput, 'FCGI_END_REQUEST after all FCGI_STDOUT and FCGI_STDERR records', firstOf(output, extra.length));
}

// ───────────────────────────── running requests ─────────────────────────────

/** One request and its response. */
export interface Exchange {
  readonly conn: ScenarioConnection;
  readonly obs: ResponseObservation;
  /** Whether every byte was handed to the socket before the response ended (false: the target stopped reading). */
  readonly sent: boolean;
}

/** Options of `sendAndRead` and `exchange`. */
export interface ExchangeOptions {
  /** The request id to read (default: the plan's, or 1 for bytes). */
  readonly requestId?: number;
  /** Deadline of the read (default: the reply timeout). */
  readonly timeoutMs?: number;
  /** For bytes: write them in pieces of these sizes (cycled), each its own write. */
  readonly writes?: readonly number[];
}

/**
 * Sends bytes (or a planned request) on `conn` while reading the response of `requestId`, so a target that
 * answers before reading all input, or stops reading, cannot stall the scenario. `timeoutMs` bounds the read
 * (default: the reply timeout).
 */
export async function sendAndRead(
  conn: ScenarioConnection,
  request: Uint8Array | RequestPlan,
  options: ExchangeOptions = {},
): Promise<Exchange> {
  const requestId = options.requestId ?? (request instanceof Uint8Array ? 1 : request.requestId);
  let sent = false;
  const write = (): Promise<void> => {
    if (!(request instanceof Uint8Array)) return conn.sendRequest(request);
    return options.writes ? conn.raw.sendSplit(request, options.writes) : conn.send(request);
  };
  const sending = write().then(() => {
    sent = true;
  });
  const obs = await conn.readResponse(requestId, options.timeoutMs);
  // Writes that were accepted but are still draining finish on their own; give them one turn.
  await Promise.race([sending, new Promise<void>((r) => setImmediate(r))]);
  return { conn, obs, sent };
}

/** Connects, sends one request (a plan or raw bytes) and reads its response. */
export async function exchange(
  ctx: Pick<ScenarioContext, 'connect'>,
  request: Uint8Array | RequestPlan,
  options: ExchangeOptions = {},
): Promise<Exchange> {
  const conn = await ctx.connect();
  return sendAndRead(conn, request, options);
}

/**
 * Whether a connection can carry the next request after one sent with FCGI_KEEP_CONN: undefined when it can,
 * else why not (the target closed it within the quiet period, or sent records for `requestId` after its
 * FCGI_END_REQUEST). Scenarios that send a follow-up request use it so that keep-conn or output faults,
 * judged by their own groups, are not blamed on what the scenario tests; the reason is recorded as an
 * observation.
 */
export async function keptConnectionProblem(
  ctx: Pick<ScenarioContext, 'timeouts' | 'check'>,
  conn: ScenarioConnection,
  requestId: number,
): Promise<string | undefined> {
  const strays = conn.unclaimed().filter((r) => r.requestId === requestId);
  const closed = strays.length === 0 ? await conn.waitClose(ctx.timeouts.quietMs) : { closed: false as const };
  const why = strays.length
    ? `${strays.length} record(s) for request ${requestId} after its FCGI_END_REQUEST`
    : closed.closed
      ? 'the target closed the connection after a request with FCGI_KEEP_CONN'
      : undefined;
  if (why) ctx.check.observe('follow-up request not sent', why);
  return why;
}

/** What `runSeries` did. */
export interface SeriesResult {
  /** Observations of the attempts that ran, in order. */
  readonly results: readonly ResponseObservation[];
  /** The judge's verdict on each attempt that ran: undefined when fine, else what was wrong. */
  readonly problems: readonly (string | undefined)[];
  /** How many attempts were planned. */
  readonly count: number;
  /** Why the series stopped before `count`, if it did. */
  readonly stoppedEarly?: string;
}

/**
 * Runs `count` attempts of a request one after the other and judges each: on one connection with
 * FCGI_KEEP_CONN when the profile claims keep-conn (cheap), otherwise on a fresh connection each.
 * `attempt(conn, index, flags)` sends attempt `index` with the given BEGIN_REQUEST flags and returns its
 * observation; `judge(obs, index)` says what is wrong with it (undefined: nothing).
 *
 * Keep-conn trouble is not blamed on the attempt: when the target closes a kept connection between requests,
 * or sends records for the request after its FCGI_END_REQUEST, the series notes it (the keep-conn and output
 * groups judge those) and goes on with fresh connections, retrying the attempt that met the close. A response
 * without FCGI_END_REQUEST also moves to a fresh connection. Stops when the watchdog fires, and after
 * `maxTimeouts` attempts in a row without any answer (default 3), so one hang cannot eat the run.
 */
export async function runSeries(
  ctx: ScenarioContext,
  count: number,
  attempt: (conn: ScenarioConnection, index: number, flags: number) => Promise<ResponseObservation>,
  judge: (obs: ResponseObservation, index: number) => string | undefined,
  options: { readonly maxTimeouts?: number } = {},
): Promise<SeriesResult> {
  let keep = ctx.profile.keepConn;
  const maxTimeouts = options.maxTimeouts ?? 3;
  const results: ResponseObservation[] = [];
  const problems: (string | undefined)[] = [];
  let conn: ScenarioConnection | undefined;
  let reused = false;
  let timeouts = 0;
  let stoppedEarly: string | undefined;
  const fresh = (why: string): void => {
    if (keep) ctx.check.observe('series: kept connection given up', why);
    keep = false;
    conn?.close();
    conn = undefined;
  };
  for (let i = 0; i < count; i++) {
    if (ctx.signal.aborted) {
      stoppedEarly = `watchdog fired after ${i} of ${count} attempts`;
      break;
    }
    if (!conn) {
      conn = await ctx.connect();
      reused = false;
    }
    let obs = await attempt(conn, i, keep ? FCGI_KEEP_CONN : 0);
    if (reused && obs.ending === 'closed' && obs.records.length === 0) {
      // The target closed the kept connection after the previous request: retry this one afresh.
      fresh(`the target closed the connection after a request with FCGI_KEEP_CONN (before attempt ${i + 1})`);
      conn = await ctx.connect();
      obs = await attempt(conn, i, 0);
    }
    results.push(obs);
    problems.push(judge(obs, i));
    timeouts = obs.ending === 'timeout' ? timeouts + 1 : 0;
    if (keep && conn.unclaimed().some((r) => r.requestId === obs.requestId)) {
      fresh(`records for request ${obs.requestId} after its FCGI_END_REQUEST (attempt ${i + 1})`);
    } else if (!keep || obs.ending !== 'end-request') {
      conn.close();
      conn = undefined;
    } else {
      reused = true;
    }
    if (timeouts >= maxTimeouts) {
      stoppedEarly = `stopped after ${timeouts} attempts in a row without an answer (${i + 1} of ${count} run)`;
      break;
    }
  }
  conn?.close();
  return stoppedEarly === undefined ? { results, problems, count } : { results, problems, count, stoppedEarly };
}

/**
 * Records one finding for a series: every attempt must be fine. `labels[i]` names attempt i (e.g. "offset
 * 17"). Names the failing labels and the first problem; an early stop is a finding too.
 */
export function expectSeries(
  check: Check,
  series: SeriesResult,
  labels: readonly (string | number)[],
  requirement: RequirementId,
  what: string,
): boolean {
  const failed = series.problems.flatMap((p, i) => (p === undefined ? [] : [i]));
  const first = failed[0];
  const ok = failed.length === 0 && series.stoppedEarly === undefined;
  const parts: string[] = [];
  if (first !== undefined) {
    parts.push(`${summarizeFailures(failed.map((i) => labels[i] ?? i), series.problems.length)}; first (${labels[first] ?? first}): ${series.problems[first]}`);
  }
  if (series.stoppedEarly) parts.push(series.stoppedEarly);
  return check.that(ok, requirement, `${what}: all ${series.count} as expected`, parts.join('; '));
}

/**
 * The CGI status a target gives a plain request (base params, no body) on a fresh connection, or undefined
 * when that request is not served with a CGI response. Framing variants that re-encode the params compare
 * against it: a target that misread SCRIPT_FILENAME answers 404 where the plain request got 200.
 */
export async function plainStatus(ctx: Pick<ScenarioContext, 'connect'>): Promise<number | undefined> {
  const { conn, obs } = await exchange(ctx, { requestId: 1 });
  conn.close();
  return outcomeOf(obs) === 'complete' ? cgiOf(obs)?.status : undefined;
}

/**
 * Served (`expectServed`) and, when `plain` is known, with the same CGI status as the plain request: the
 * framing-variant check for requests whose params were re-encoded or re-cut.
 */
export function expectServedLikePlain(
  check: Check,
  obs: ResponseObservation,
  plain: number | undefined,
  requirement: RequirementId,
  what: string,
): boolean {
  if (!expectServed(check, obs, requirement, what)) return false;
  if (plain === undefined) return true;
  const status = cgiOf(obs)?.status;
  return check.that(
    status === plain,
    requirement,
    `${what}: the CGI status of the same request sent plainly (${plain})`,
    status === undefined ? `no CGI response: stdout ${preview(obs.stdout)}` : `status ${status}`,
  );
}

/** Summarises which variants failed: `"3 of 120 failed: offsets 5, 17, 40 …"`. */
export function summarizeFailures(labels: readonly (string | number)[], total: number, max = 12): string {
  const shown = labels.slice(0, max).join(', ');
  return `${labels.length} of ${total} failed: ${shown}${labels.length > max ? ' …' : ''}`;
}

// ───────────────────────────── management records ─────────────────────────────

/** A GET_VALUES query: names with empty values. @see §4.1 */
export function getValuesRecord(names: readonly (string | Uint8Array)[]): RecordInit {
  return {
    type: FCGI_GET_VALUES,
    requestId: FCGI_NULL_REQUEST_ID,
    content: concatBytes(names.map((n) => encodeNameValuePair(n, ''))),
  };
}

/** The outcome of one GET_VALUES exchange. */
export type GetValuesAnswer =
  | { readonly kind: 'result'; readonly record: DecodedRecord; readonly pairs: readonly NameValuePair[]; readonly error?: string }
  | { readonly kind: 'other'; readonly event: PeerEvent };

/** Reads the next management record and interprets it as a GET_VALUES_RESULT. */
export async function readGetValuesResult(conn: ScenarioConnection, timeoutMs?: number): Promise<GetValuesAnswer> {
  const event = await conn.nextManagement(timeoutMs);
  if (event.kind !== 'record' || event.record.type !== FCGI_GET_VALUES_RESULT) return { kind: 'other', event };
  const { pairs, error } = decodeNameValuePairs(event.record.content);
  return error
    ? { kind: 'result', record: event.record, pairs, error: `${error.kind} at offset ${error.offset}` }
    : { kind: 'result', record: event.record, pairs };
}

/**
 * Sends FCGI_GET_VALUES for `names` and reads the answer. Records a violation of FCGI-4.1 (one
 * GET_VALUES_RESULT on request id 0, well-formed pairs) when there is none; returns the pairs (empty then).
 */
export async function queryValues(
  ctx: Pick<ScenarioContext, 'check' | 'timeouts'>,
  conn: ScenarioConnection,
  names: readonly (string | Uint8Array)[],
): Promise<{ readonly answered: boolean; readonly pairs: readonly NameValuePair[] }> {
  await conn.sendRecord(getValuesRecord(names));
  const answer = await readGetValuesResult(conn, ctx.timeouts.replyMs);
  const asked = names.length ? names.map((n) => (typeof n === 'string' ? n : preview(n))).join(', ') : 'no names';
  // §4.1: "The application responds by sending a record {FCGI_GET_VALUES_RESULT, 0, ...} with the values supplied."
  if (answer.kind === 'other') {
    ctx.check.violation(kitRequirements.getValuesAnswered, `{FCGI_GET_VALUES_RESULT, 0, …} answering ${asked}`, describeEvent(answer.event));
    return { answered: false, pairs: [] };
  }
  ctx.check.that(
    answer.error === undefined,
    kitRequirements.getValuesAnswered,
    'FCGI_GET_VALUES_RESULT content: well-formed name-value pairs',
    `${answer.error ?? ''}; content ${preview(answer.record.content)}`,
  );
  return { answered: true, pairs: answer.pairs };
}

/** The three variables §4.1 defines. */
export const getValuesNames = [FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS] as const;

/**
 * Checks the format of answered variables and records each as an observation: FCGI_MAX_CONNS and
 * FCGI_MAX_REQS decimal (positive) integers, FCGI_MPXS_CONNS "0" or "1". Names §4.1 does not define are
 * observed as they are.
 */
export function checkValueFormats(
  check: Check,
  pairs: readonly NameValuePair[],
  requirements: { readonly maxConns: RequirementId; readonly maxReqs: RequirementId; readonly mpxsConns: RequirementId },
): void {
  for (const { name, value } of pairs) {
    const n = toText(name);
    const v = toText(value);
    check.observe(n, v);
    // §4.1: FCGI_MAX_CONNS: "The maximum number of concurrent transport connections this application will accept,
    // e.g. "1" or "10"." FCGI_MAX_REQS: likewise, e.g. "1" or "50".
    if (n === FCGI_MAX_CONNS || n === FCGI_MAX_REQS) {
      check.that(
        /^[1-9][0-9]*$/.test(v),
        n === FCGI_MAX_CONNS ? requirements.maxConns : requirements.maxReqs,
        `${n}: a positive decimal integer, e.g. "1" or "10"`,
        `"${preview(value).replace(/^"|"$/g, '')}"`,
      );
    }
    // §4.1: FCGI_MPXS_CONNS: ""0" if this application does not multiplex connections … "1" otherwise."
    if (n === FCGI_MPXS_CONNS) {
      check.that(v === '0' || v === '1', requirements.mpxsConns, `${n}: "0" or "1"`, `"${preview(value).replace(/^"|"$/g, '')}"`);
    }
  }
}

/**
 * Checks that an event is `{FCGI_UNKNOWN_TYPE, 0, {T}}`: type 11 on request id 0, an 8-byte body whose first
 * byte is T and whose seven reserved bytes are 0. @see §4.2
 */
export function expectUnknownType(check: Check, event: PeerEvent, type: number, requirement: RequirementId = kitRequirements.unknownType): boolean {
  const want = `{FCGI_UNKNOWN_TYPE, 0, {${type}}}`;
  if (event.kind !== 'record' || event.record.type !== FCGI_UNKNOWN_TYPE || event.record.requestId !== FCGI_NULL_REQUEST_ID) {
    check.violation(requirement, want, describeEvent(event));
    return false;
  }
  const body = decodeUnknownTypeBody(event.record.content);
  const ok = check.that(body.type === type, requirement, want, `{FCGI_UNKNOWN_TYPE, 0, {${body.type}}}`);
  // §4.2 FCGI_UnknownTypeBody: `unsigned char type; unsigned char reserved[7];`: eight bytes.
  check.that(body.length === FCGI_FIXED_BODY_LEN, kitRequirements.unknownTypeBody, 'an 8-byte FCGI_UnknownTypeBody', `${body.length}-byte body`);
  // §4.2 FCGI_UnknownTypeBody: `unsigned char reserved[7];`
  check.that(body.reserved.every((b) => b === 0), kitRequirements.unknownTypeReserved, 'FCGI_UnknownTypeBody reserved bytes 0', `reserved ${hex(body.reserved)}`);
  return ok;
}
