/**
 * Request plans: what the fuzzer sends, as data. A plan is a few connections, each a sequence of batches; a
 * batch is requests whose records are interleaved, plus extra records (management records, records of inactive
 * ids, undefined types), written as one byte stream cut into writes. Batches of a connection are sent one after
 * the other, each once the previous one was answered, so request ids can be reused (§3.3) and FCGI_KEEP_CONN
 * kept connections carry several requests (§5.1).
 *
 * The plan is what fast-check generates and shrinks and what a replay file stores; `buildWirePlan` turns it
 * into records and writes deterministically, normalising whatever a shrink or a hand-edited file left
 * inconsistent (duplicate ids in a batch, FCGI_KEEP_CONN clear before the end), so every plan is a valid one.
 * @see §3.3 §3.4 §4 §5
 */
import {
  FCGI_ABORT_REQUEST,
  FCGI_BEGIN_REQUEST,
  FCGI_DATA,
  FCGI_DATA_LAST_MOD,
  FCGI_DATA_LENGTH,
  FCGI_FILTER,
  FCGI_AUTHORIZER,
  FCGI_GET_VALUES,
  FCGI_KEEP_CONN,
  FCGI_MAX_CONTENT_LENGTH,
  FCGI_NULL_REQUEST_ID,
  FCGI_PARAMS,
  FCGI_STDIN,
} from '../../spec/constants.ts';
import { encodeBeginRequestBody } from '../../reference/codec/bodies.ts';
import { encodeLength, encodeNameValuePairs, toBytes, toText } from '../../reference/codec/name-value.ts';
import { concatBytes, encodeRecord, alignedPadding, type RecordInit } from '../../reference/codec/record.ts';
import { patternBytes } from '../kit.ts';

/** Version of the plan format; a replay file with another version is refused. */
export const FUZZ_PLAN_VERSION = 1;

/**
 * Bytes as a plan writes them: printable ASCII as a string, anything else as hex, and large bodies as a
 * pattern (`patternBytes(length, pattern)`), so a plan stays small and readable in a replay file.
 */
export type BytesSpec = string | { readonly hex: string } | { readonly pattern: number; readonly length: number };

/** Where a request is aborted (§5.4): the records before that point are sent, then FCGI_ABORT_REQUEST, nothing after. */
export const abortPoints = ['after-begin', 'in-params', 'after-params', 'in-stdin', 'after-input'] as const;
export type AbortPoint = (typeof abortPoints)[number];

/** One request of a batch. @see §5.1 §5.2 §5.3 §5.4 */
export interface RequestSpec {
  /** Request id, 1..65535; made unique within its batch by `buildWirePlan`. */
  readonly id: number;
  /** Role number: 1..3, or anything else (an unknown role). */
  readonly role: number;
  /** FCGI_KEEP_CONN; honoured only for the one request of a connection's last batch (else set). */
  readonly keepConn: boolean;
  /** The request's own params (probe control params and others), after the base params. */
  readonly params: readonly (readonly [string, BytesSpec])[];
  readonly stdin: BytesSpec;
  /** FCGI_DATA, sent for the Filter role only. */
  readonly data: BytesSpec;
  readonly abort: AbortPoint | null;
  /**
   * Content sizes of the first records of each of the request's streams; the rest of a stream goes in records
   * of 65535 bytes, unless `cycleChunks` repeats the sizes to its end. Empty: 65535 per record.
   */
  readonly chunks: readonly number[];
  readonly cycleChunks?: boolean;
  /** Encode every name and value length in the four-byte form, short ones included (§3.4). */
  readonly longLengths: boolean;
}

/** A record that is not part of a request's own streams. @see §3.3 §4 */
export type ExtraRecord =
  /** FCGI_GET_VALUES with these names (empty values). @see §4.1 */
  | { readonly kind: 'get-values'; readonly at: number; readonly names: readonly string[] }
  /** A management record of a type the application does not understand. @see §4.2 */
  | { readonly kind: 'management'; readonly at: number; readonly type: number; readonly content: BytesSpec }
  /** A record for a request id that is not active (§3.3: ignored). */
  | { readonly kind: 'inactive'; readonly at: number; readonly type: number; readonly id: number; readonly content: BytesSpec }
  /** A record of an undefined type on the id of one of the batch's requests, within its input. */
  | { readonly kind: 'unknown-type'; readonly at: number; readonly type: number; readonly request: number; readonly content: BytesSpec };

export interface BatchPlan {
  readonly requests: readonly RequestSpec[];
  readonly extras: readonly ExtraRecord[];
  /** Which request's next record goes next (index modulo the count), cycled; empty: one request after the other. */
  readonly order: readonly number[];
}

/** How a connection's records become bytes and writes. */
export interface Delivery {
  /** paddingLength per record, cycled (−1: pad to 8-byte alignment); empty: no padding. @see §3.3 */
  readonly padding: readonly number[];
  readonly paddingByte: number;
  /** Sizes of the writes each batch's bytes are cut into, cycled; empty: one write per batch. */
  readonly writes: readonly number[];
}

export interface ConnectionPlan {
  readonly batches: readonly BatchPlan[];
  readonly delivery: Delivery;
}

/** A whole plan: connections run side by side. */
export interface FuzzPlan {
  readonly connections: readonly ConnectionPlan[];
}

/** What building a plan needs beyond the plan. */
export interface BuildOptions {
  /** Params every request carries first (`--param`, the CGI defaults); a request's own params replace same-named ones. */
  readonly baseParams: Readonly<Record<string, string>>;
  /** The target honours FCGI_KEEP_CONN; without it, each connection carries one request. */
  readonly keepConn: boolean;
}

/** Bounds on plans: a replay file past them is refused, and builders never exceed them. */
export const planLimits = {
  connections: 4,
  batchesPerConnection: 4,
  requestsPerBatch: 4,
  requestsPerPlan: 12,
  extrasPerBatch: 8,
  pairsPerRequest: 64,
  /** Bytes of one BytesSpec (a pattern's length included). */
  bytes: 16 * 1024 * 1024,
  /** Entries of `chunks`, `padding`, `writes` and `order`. */
  listEntries: 1024,
  /** Writes per batch; past it the rest of the batch goes in the last write. */
  writesPerBatch: 1024,
} as const;

// ───────────────────────────── bytes ─────────────────────────────

const HEX = /^(?:[0-9a-f]{2})*$/i;

/** The bytes a spec stands for. */
export function bytesOf(spec: BytesSpec): Uint8Array {
  if (typeof spec === 'string') return toBytes(spec);
  if ('hex' in spec) return Uint8Array.from(Buffer.from(spec.hex, 'hex'));
  return patternBytes(spec.length, spec.pattern);
}

/** Length of the bytes a spec stands for, without building them. */
export function bytesLength(spec: BytesSpec): number {
  if (typeof spec === 'string') return Buffer.byteLength(spec, 'utf8');
  if ('hex' in spec) return spec.hex.length / 2;
  return spec.length;
}

/** The shortest readable spec of some bytes: a string when they are printable ASCII, else hex. */
export function specOf(bytes: Uint8Array): BytesSpec {
  for (const b of bytes) if (b < 0x20 || b > 0x7e) return { hex: Buffer.from(bytes).toString('hex') };
  return Buffer.from(bytes).toString('latin1');
}

// ───────────────────────────── wire plans ─────────────────────────────

/** A record as the plan sends it. */
export interface PlanRecord extends RecordInit {
  readonly content: Uint8Array;
  readonly paddingLength: number;
  readonly paddingByte: number;
}

export interface WireBatch {
  readonly records: readonly PlanRecord[];
  /** The batch's bytes cut into writes, in order. */
  readonly writes: readonly Uint8Array[];
  /** Requests begun in the batch, in begin order, with their (normalised) id, role and flags. */
  readonly requests: readonly { readonly id: number; readonly role: number; readonly keepConn: boolean; readonly abort: AbortPoint | null }[];
}

export interface WireConnection {
  readonly batches: readonly WireBatch[];
}

export interface WirePlan {
  readonly connections: readonly WireConnection[];
}

/** The base params, less those a request sets itself, then the request's own (later pairs win). */
function requestPairs(base: Readonly<Record<string, string>>, own: readonly (readonly [string, Uint8Array])[]): [Uint8Array, Uint8Array][] {
  const names = new Set(own.map(([n]) => n));
  const out: [Uint8Array, Uint8Array][] = [];
  for (const [n, v] of Object.entries(base)) if (!names.has(n)) out.push([toBytes(n), toBytes(v)]);
  for (const [n, v] of own) out.push([toBytes(n), v]);
  return out;
}

/** Params as the request sends them: CGI body variables derived from its streams, then its own params. */
export function paramsOfRequest(request: RequestSpec, baseParams: Readonly<Record<string, string>>): [Uint8Array, Uint8Array][] {
  const stdinLength = bytesLength(request.stdin);
  const derived: [string, Uint8Array][] = [];
  if (request.role !== FCGI_AUTHORIZER) {
    // PHP reads exactly CONTENT_LENGTH bytes of FCGI_STDIN, as web servers tell it (probe contract).
    derived.push(['REQUEST_METHOD', toBytes(stdinLength > 0 ? 'POST' : 'GET')], ['CONTENT_LENGTH', toBytes(String(stdinLength))]);
    if (stdinLength > 0) derived.push(['CONTENT_TYPE', toBytes('application/octet-stream')]);
  }
  if (request.role === FCGI_FILTER) {
    derived.push([FCGI_DATA_LENGTH, toBytes(String(bytesLength(request.data)))], [FCGI_DATA_LAST_MOD, toBytes('1000000000')]);
  }
  const own = request.params.map(([n, v]) => [n, bytesOf(v)] as const);
  const ownNames = new Set(own.map(([n]) => n));
  return requestPairs(baseParams, [...derived.filter(([n]) => !ownNames.has(n)), ...own]);
}

function encodePairs(pairs: readonly [Uint8Array, Uint8Array][], long: boolean): Uint8Array {
  if (!long) return encodeNameValuePairs(pairs);
  return concatBytes(pairs.flatMap(([n, v]) => [encodeLength(n.length, 4), encodeLength(v.length, 4), n, v]));
}

// Cuts a stream into record contents of the given sizes (1..65535 each), then of 65535 bytes, or of the sizes
// again and again when `cycle`; empty data is no record.
function cut(data: Uint8Array, sizes: readonly number[], cycle: boolean): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const raw = sizes.length === 0 || (!cycle && i >= sizes.length) ? FCGI_MAX_CONTENT_LENGTH : sizes[i % sizes.length]!;
    const size = Math.max(1, Math.min(FCGI_MAX_CONTENT_LENGTH, Math.trunc(raw) || 1));
    pieces.push(data.subarray(at, at + size));
    at += size;
  }
  return pieces;
}

type Part = Omit<PlanRecord, 'paddingLength' | 'paddingByte'>;

/** A request's records in order: BEGIN, PARAMS, STDIN, DATA (Filter), cut at the abort point. */
function requestParts(request: RequestSpec, id: number, keepConn: boolean, baseParams: Readonly<Record<string, string>>): Part[] {
  const begin: Part = { type: FCGI_BEGIN_REQUEST, requestId: id, content: encodeBeginRequestBody({ role: request.role & 0xffff, flags: keepConn ? FCGI_KEEP_CONN : 0 }) };
  const stream = (type: number, data: Uint8Array): Part[] => [
    ...cut(data, request.chunks, request.cycleChunks === true).map((content) => ({ type, requestId: id, content })),
    { type, requestId: id, content: new Uint8Array(0) },
  ];
  const params = stream(FCGI_PARAMS, encodePairs(paramsOfRequest(request, baseParams), request.longLengths));
  const stdin = stream(FCGI_STDIN, bytesOf(request.stdin));
  const data = request.role === FCGI_FILTER ? stream(FCGI_DATA, bytesOf(request.data)) : [];
  const abort: Part = { type: FCGI_ABORT_REQUEST, requestId: id, content: new Uint8Array(0) };
  const half = (parts: Part[]): Part[] => parts.slice(0, Math.floor((parts.length - 1) / 2));
  switch (request.abort) {
    case null:
      return [begin, ...params, ...stdin, ...data];
    case 'after-begin':
      return [begin, abort];
    case 'in-params':
      return [begin, ...half(params), abort];
    case 'after-params':
      return [begin, ...params, abort];
    case 'in-stdin':
      return [begin, ...params, ...half(stdin), abort];
    case 'after-input':
      return [begin, ...params, ...stdin, ...data, abort];
  }
}

function clampInt(value: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, Math.trunc(Number.isFinite(value) ? value : min)));
}

/** The requests of each batch after normalisation: caps, unique ids, FCGI_KEEP_CONN only where it is safe to clear. */
export function normalizeConnection(connection: ConnectionPlan, keepConnProfile: boolean, budget: { requests: number }): BatchPlan[] {
  let batches = connection.batches.slice(0, planLimits.batchesPerConnection).map((b) => ({ ...b, requests: b.requests.slice(0, planLimits.requestsPerBatch) }));
  // A target that does not keep connections gets one request per connection.
  if (!keepConnProfile) batches = batches.slice(0, 1).map((b) => ({ ...b, requests: b.requests.slice(0, 1).map((r) => ({ ...r, keepConn: false })) }));
  const out: BatchPlan[] = [];
  for (const [bi, batch] of batches.entries()) {
    const room = Math.max(0, Math.min(batch.requests.length, budget.requests));
    budget.requests -= room;
    const used = new Set<number>();
    const requests = batch.requests.slice(0, room).map((r) => {
      let id = clampInt(r.id, 1, 0xffff);
      while (used.has(id)) id = (id % 0xffff) + 1;
      used.add(id);
      return { ...r, id };
    });
    // Clearing FCGI_KEEP_CONN lets the application close once it has answered (§5.1): only the one request of
    // the last batch may, so nothing else is in flight on the connection when it does.
    const last = bi === batches.length - 1 && requests.length === 1;
    out.push({ ...batch, requests: requests.map((r) => ({ ...r, keepConn: keepConnProfile ? r.keepConn || !last : false })) });
  }
  while (out.length > 0 && out[out.length - 1]!.requests.length === 0 && out[out.length - 1]!.extras.length === 0) out.pop();
  return out;
}

/** Turns a plan into records and writes. Deterministic: the same plan and options give the same bytes. */
export function buildWirePlan(plan: FuzzPlan, options: BuildOptions): WirePlan {
  const budget = { requests: planLimits.requestsPerPlan };
  return {
    connections: plan.connections.slice(0, planLimits.connections).map((connection) => {
      const batches = normalizeConnection(connection, options.keepConn, budget);
      let recordIndex = 0;
      const pad = (contentLength: number): number => {
        const list = connection.delivery.padding;
        if (list.length === 0) return 0;
        const p = list[recordIndex++ % list.length]!;
        return p < 0 ? alignedPadding(contentLength) : clampInt(p, 0, 255);
      };
      return {
        batches: batches.map((batch) => {
          const parts = batch.requests.map((r) => requestParts(r, r.id, r.keepConn, options.baseParams));
          const sequence = interleave(parts, batch.order);
          const closing = batch.requests.some((r) => !r.keepConn);
          const withExtras = placeExtras(sequence, batch, closing);
          const records: PlanRecord[] = withExtras.map((p) => ({ ...p, paddingLength: pad(p.content.length), paddingByte: connection.delivery.paddingByte & 0xff }));
          const bytes = concatBytes(records.map((r) => encodeRecord(r, { paddingByte: r.paddingByte })));
          return {
            records,
            writes: cutWrites(bytes, connection.delivery.writes),
            requests: batch.requests.map((r) => ({ id: r.id, role: r.role & 0xffff, keepConn: r.keepConn, abort: r.abort })),
          };
        }),
      };
    }),
  };
}

function interleave(parts: readonly Part[][], order: readonly number[]): Part[] {
  const queues = parts.map((p) => [...p]);
  const out: Part[] = [];
  let k = 0;
  const left = (): number => queues.reduce((n, q) => n + q.length, 0);
  while (left() > 0) {
    let i = order.length === 0 ? queues.findIndex((q) => q.length > 0) : clampInt(order[k++ % order.length]!, 0, 0xffff) % queues.length;
    for (let tries = 0; queues[i]!.length === 0 && tries < queues.length; tries++) i = (i + 1) % queues.length;
    out.push(queues[i]!.shift()!);
  }
  return out;
}

// Extras go where the plan says, with two exceptions that keep the verdict free of races: in a batch whose request
// lets the application close, before anything else; an undefined type on a request's id, inside that request's input.
function placeExtras(sequence: Part[], batch: BatchPlan, closing: boolean): Part[] {
  const out = [...sequence];
  const batchIds = new Set(batch.requests.map((r) => r.id));
  const extras = batch.extras.slice(0, planLimits.extrasPerBatch);
  for (const extra of [...extras].reverse()) {
    const content = extra.kind === 'get-values' ? encodeNameValuePairs(extra.names.map((n) => [n, ''] as const)) : bytesOf(extra.content).subarray(0, FCGI_MAX_CONTENT_LENGTH);
    let at = clampInt(extra.at, 0, out.length);
    let record: Part;
    switch (extra.kind) {
      case 'get-values':
        record = { type: FCGI_GET_VALUES, requestId: FCGI_NULL_REQUEST_ID, content };
        break;
      case 'management':
        record = { type: managementType(extra.type), requestId: FCGI_NULL_REQUEST_ID, content };
        break;
      case 'inactive': {
        let id = clampInt(extra.id, 1, 0xffff);
        while (batchIds.has(id)) id = ((id + 0xff) % 0xffff) + 1;
        record = { type: inactiveType(extra.type), requestId: id, content: extra.type === FCGI_ABORT_REQUEST ? new Uint8Array(0) : content };
        break;
      }
      case 'unknown-type': {
        const target = batch.requests[clampInt(extra.request, 0, 0xffff) % Math.max(1, batch.requests.length)];
        if (target === undefined) continue;
        const positions = out.flatMap((p, i) => (p.requestId === target.id && p.type !== FCGI_ABORT_REQUEST ? [i] : []));
        const first = positions[0];
        const lastInput = positions.at(-1);
        if (first === undefined || lastInput === undefined) continue;
        at = clampInt(at, first + 1, lastInput);
        record = { type: undefinedType(extra.type), requestId: target.id, content };
        break;
      }
    }
    if (closing && extra.kind !== 'unknown-type') at = 0;
    out.splice(at, 0, record);
  }
  return out;
}

/** A management type the application cannot understand: 0 or 12..255. @see §4.2 */
export function managementType(type: number): number {
  const t = clampInt(type, 0, 255);
  return t === 0 || t > 11 ? t : 12 + (t % 244);
}

/** A type for a record of an inactive id: one the web server sends on request ids (PARAMS, STDIN, DATA, ABORT). */
export function inactiveType(type: number): number {
  return [FCGI_PARAMS, FCGI_STDIN, FCGI_DATA, FCGI_ABORT_REQUEST].includes(type) ? type : FCGI_STDIN;
}

/** An undefined record type, 12..255. */
export function undefinedType(type: number): number {
  const t = clampInt(type, 0, 255);
  return t > 11 ? t : 12 + t;
}

function cutWrites(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  if (sizes.length === 0 || bytes.length === 0) return [bytes];
  const out: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    if (out.length === planLimits.writesPerBatch - 1) {
      out.push(bytes.subarray(at));
      break;
    }
    const size = clampInt(sizes[i % sizes.length]!, 1, bytes.length);
    out.push(bytes.subarray(at, at + size));
    at += size;
  }
  return out;
}

/** Records of a wire plan, all connections and batches. */
export function wireRecordCount(wire: WirePlan): number {
  return wire.connections.reduce((n, c) => n + c.batches.reduce((m, b) => m + b.records.length, 0), 0);
}

/** Requests of a plan, after normalisation. */
export function wireRequestCount(wire: WirePlan): number {
  return wire.connections.reduce((n, c) => n + c.batches.reduce((m, b) => m + b.requests.length, 0), 0);
}

// ───────────────────────────── reading plans (replay files) ─────────────────────────────

/** Thrown for a plan that is not well formed; the message is one line naming the path. */
export class PlanError extends Error {
  override readonly name = 'PlanError';
}

type Json = unknown;

function fail(path: string, what: string): never {
  throw new PlanError(`${path}: ${what}`);
}

function object(v: Json, path: string): Record<string, Json> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'expected an object');
  return v as Record<string, Json>;
}

function array(v: Json, path: string, max: number): Json[] {
  if (!Array.isArray(v)) fail(path, 'expected an array');
  if (v.length > max) fail(path, `more than ${max} entries`);
  return v;
}

function int(v: Json, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(path, `expected an integer in ${min}..${max}`);
  return v;
}

function bool(v: Json, path: string): boolean {
  if (typeof v !== 'boolean') fail(path, 'expected true or false');
  return v;
}

function text(v: Json, path: string, max: number): string {
  if (typeof v !== 'string') fail(path, 'expected a string');
  if (v.length > max) fail(path, `longer than ${max} characters`);
  return v;
}

/** Reads a BytesSpec from JSON, bounded. */
export function parseBytesSpec(v: Json, path: string): BytesSpec {
  if (typeof v === 'string') {
    if (Buffer.byteLength(v, 'utf8') > planLimits.bytes) fail(path, `more than ${planLimits.bytes} bytes`);
    return v;
  }
  const o = object(v, path);
  if ('hex' in o) {
    const hex = text(o['hex'], `${path}.hex`, planLimits.bytes * 2);
    if (!HEX.test(hex)) fail(`${path}.hex`, 'expected an even number of hex digits');
    return { hex };
  }
  return { pattern: int(o['pattern'], `${path}.pattern`, 0, 0xffffffff), length: int(o['length'], `${path}.length`, 0, planLimits.bytes) };
}

function intList(v: Json, path: string, min: number, max: number): number[] {
  return array(v, path, planLimits.listEntries).map((x, i) => int(x, `${path}[${i}]`, min, max));
}

function parseRequest(v: Json, path: string): RequestSpec {
  const o = object(v, path);
  const abort = o['abort'] ?? null;
  if (abort !== null && !(abortPoints as readonly unknown[]).includes(abort)) fail(`${path}.abort`, `expected null or one of ${abortPoints.join(', ')}`);
  return {
    id: int(o['id'], `${path}.id`, 1, 0xffff),
    role: int(o['role'], `${path}.role`, 0, 0xffff),
    keepConn: bool(o['keepConn'], `${path}.keepConn`),
    params: array(o['params'] ?? [], `${path}.params`, planLimits.pairsPerRequest).map((p, i) => {
      const pair = array(p, `${path}.params[${i}]`, 2);
      if (pair.length !== 2) fail(`${path}.params[${i}]`, 'expected [name, value]');
      return [text(pair[0], `${path}.params[${i}][0]`, 65536), parseBytesSpec(pair[1], `${path}.params[${i}][1]`)] as const;
    }),
    stdin: parseBytesSpec(o['stdin'] ?? '', `${path}.stdin`),
    data: parseBytesSpec(o['data'] ?? '', `${path}.data`),
    abort: abort as AbortPoint | null,
    chunks: intList(o['chunks'] ?? [], `${path}.chunks`, 1, FCGI_MAX_CONTENT_LENGTH),
    ...(o['cycleChunks'] === undefined ? {} : { cycleChunks: bool(o['cycleChunks'], `${path}.cycleChunks`) }),
    longLengths: o['longLengths'] === undefined ? false : bool(o['longLengths'], `${path}.longLengths`),
  };
}

function parseExtra(v: Json, path: string): ExtraRecord {
  const o = object(v, path);
  const at = int(o['at'] ?? 0, `${path}.at`, 0, 1_000_000);
  switch (o['kind']) {
    case 'get-values':
      return { kind: 'get-values', at, names: array(o['names'] ?? [], `${path}.names`, 64).map((n, i) => text(n, `${path}.names[${i}]`, 1024)) };
    case 'management':
      return { kind: 'management', at, type: int(o['type'], `${path}.type`, 0, 255), content: parseBytesSpec(o['content'] ?? '', `${path}.content`) };
    case 'inactive':
      return { kind: 'inactive', at, type: int(o['type'], `${path}.type`, 0, 255), id: int(o['id'], `${path}.id`, 1, 0xffff), content: parseBytesSpec(o['content'] ?? '', `${path}.content`) };
    case 'unknown-type':
      return {
        kind: 'unknown-type',
        at,
        type: int(o['type'], `${path}.type`, 0, 255),
        request: int(o['request'] ?? 0, `${path}.request`, 0, 0xffff),
        content: parseBytesSpec(o['content'] ?? '', `${path}.content`),
      };
    default:
      return fail(`${path}.kind`, 'expected get-values, management, inactive or unknown-type');
  }
}

/** Reads a plan from parsed JSON, checking every field and bound. Throws `PlanError`. */
export function parsePlan(v: Json, path = 'plan'): FuzzPlan {
  const o = object(v, path);
  return {
    connections: array(o['connections'], `${path}.connections`, planLimits.connections).map((c, ci) => {
      const cp = `${path}.connections[${ci}]`;
      const co = object(c, cp);
      const d = object(co['delivery'] ?? {}, `${cp}.delivery`);
      return {
        batches: array(co['batches'], `${cp}.batches`, planLimits.batchesPerConnection).map((b, bi) => {
          const bp = `${cp}.batches[${bi}]`;
          const bo = object(b, bp);
          return {
            requests: array(bo['requests'] ?? [], `${bp}.requests`, planLimits.requestsPerBatch).map((r, ri) => parseRequest(r, `${bp}.requests[${ri}]`)),
            extras: array(bo['extras'] ?? [], `${bp}.extras`, planLimits.extrasPerBatch).map((x, xi) => parseExtra(x, `${bp}.extras[${xi}]`)),
            order: intList(bo['order'] ?? [], `${bp}.order`, 0, 0xffff),
          };
        }),
        delivery: {
          padding: intList(d['padding'] ?? [], `${cp}.delivery.padding`, -1, 255),
          paddingByte: int(d['paddingByte'] ?? 0, `${cp}.delivery.paddingByte`, 0, 255),
          writes: intList(d['writes'] ?? [], `${cp}.delivery.writes`, 1, 16 * 1024 * 1024),
        },
      };
    }),
  };
}

/** One line per request and extra record, for the console and replay files. */
export function describePlan(plan: FuzzPlan, options: BuildOptions): string[] {
  const wire = buildWirePlan(plan, options);
  const out: string[] = [];
  wire.connections.forEach((c, ci) => {
    const d = plan.connections[ci]!.delivery;
    const how = [
      d.padding.length ? `padding ${d.padding.map((p) => (p < 0 ? 'align' : String(p))).join(',')}` : 'no padding',
      d.writes.length ? `writes of ${d.writes.slice(0, 8).join(',')}${d.writes.length > 8 ? ',…' : ''} bytes` : 'one write per batch',
    ].join(', ');
    out.push(`connection ${ci}: ${c.batches.length} batch(es), ${how}`);
    c.batches.forEach((b, bi) => {
      out.push(`  batch ${bi}: ${b.records.length} records in ${b.writes.length} write(s)`);
      for (const r of b.requests) out.push(`    request ${r.id}: role ${r.role}, ${r.keepConn ? 'FCGI_KEEP_CONN' : 'flags 0'}${r.abort ? `, aborted ${r.abort}` : ''}`);
    });
  });
  return out;
}

/** Names in a plan's params, as text, for tests and descriptions. */
export function paramNames(request: RequestSpec): string[] {
  return request.params.map(([n]) => toText(toBytes(n)));
}
