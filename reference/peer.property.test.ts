// The reference peer against itself: random request plans go from the reference client through the
// reference responder running the probe app, in this process, over a Unix socket and over an in-memory
// Duplex, and every answer must be the one the probe model predicts. An abort may end a request either way:
// E_ABORTED after the application's FCGI_END_REQUEST, or a complete answer when the request finished first.
// Seeds are fixed and printed; FCGISPEC_SEED replays another.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, duplexPair } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FCGI_BEGIN_REQUEST, FCGI_MAX_REQS, FCGI_MPXS_CONNS, FCGI_NULL_REQUEST_ID, FCGI_REQUEST_COMPLETE, type RoleName } from '../spec/constants.ts';
import { RecordDecoder } from './codec/record.ts';
import type { ParamsInit } from './codec/name-value.ts';
import { Client, ClientConnection, ClientError, type BodyInit, type RequestEnd, type RequestOptions, type RequestResult, type TrafficEvent } from './client/index.ts';
import type { RecordPadding, RecordShape } from './client/types.ts';
import { createProbeHandler } from './probe/app.ts';
import { compareProbeResponse, expectedProbeResponse } from './probe/model.ts';
import { createResponder, type Responder } from './responder/index.ts';

const SEED = Number(process.env['FCGISPEC_SEED'] ?? 20_251_127);
const KiB = 1024;
const MiB = 1024 * KiB;
// A failing run must fail with its plan, not hang the file.
const RUN_DEADLINE_MS = 15_000;

// ---- plans ---------------------------------------------------------------------------------------------------

/** Bytes made from a seed, so a 4 MiB body costs the generator two numbers (and shrinks by its size). */
interface BytesSpec {
  readonly size: number;
  readonly seed: number;
}

/** A request body and how it is handed to the client: bytes, text, or chunks (cut at `cuts`). */
interface BodySpec extends BytesSpec {
  readonly form: 'bytes' | 'string' | 'chunks' | 'async';
  readonly cuts: readonly number[];
}

type ProbeAction =
  | { readonly kind: 'default' }
  | { readonly kind: 'echo-stdin' }
  | { readonly kind: 'echo-data' }
  | { readonly kind: 'echo-param'; readonly pick: number }
  | { readonly kind: 'echo-params'; readonly prefix: string | undefined }
  | { readonly kind: 'bulk'; readonly size: string }
  | { readonly kind: 'sleep'; readonly ms: string }
  | { readonly kind: 'stderr'; readonly text: Uint8Array }
  | { readonly kind: 'status'; readonly status: string }
  | { readonly kind: 'unknown'; readonly name: string };

type AbortPlan =
  | { readonly kind: 'none' }
  /** The signal is aborted before the request is made: nothing may reach the wire. */
  | { readonly kind: 'before' }
  /** Aborted in the same tick the request was made (it may still be waiting for a connection). */
  | { readonly kind: 'sync' }
  | { readonly kind: 'after'; readonly ms: number }
  /** Aborted by the stdin source itself after `chunks` chunks: stdin never ends, so only E_ABORTED can come. */
  | { readonly kind: 'mid-stdin'; readonly chunks: number };

interface RequestPlan {
  readonly role: RoleName;
  readonly pairs: readonly (readonly [string, string | Uint8Array])[];
  /** A param holding `big` (up to 1 MiB). */
  readonly big: BytesSpec | undefined;
  readonly paramsForm: 'object' | 'pairs';
  readonly action: ProbeAction;
  readonly auth: 'allow' | 'deny' | undefined;
  readonly exit: string | undefined;
  readonly stdin: BodySpec;
  readonly data: BodySpec | undefined;
  readonly api: 'request' | 'stream';
  readonly keepConn: boolean | undefined;
  readonly abort: AbortPlan;
}

interface RunPlan {
  readonly keepConn: boolean;
  readonly multiplex: boolean | 'auto';
  readonly maxConnections: number;
  readonly records: RecordShape;
  readonly requests: readonly RequestPlan[];
}

const sizeArb = (large: number): fc.Arbitrary<number> =>
  fc.oneof(
    { weight: 14, arbitrary: fc.nat(400) },
    { weight: 4, arbitrary: fc.integer({ min: 401, max: 70_000 }) }, // crosses the 65535-byte record limit
    { weight: 1, arbitrary: fc.integer({ min: 70_001, max: large }) },
  );

const bodyArb = (large: number): fc.Arbitrary<BodySpec> =>
  fc.record({
    size: sizeArb(large),
    seed: fc.integer(),
    form: fc.constantFrom('bytes', 'string', 'chunks', 'async'),
    cuts: fc.array(fc.nat(), { maxLength: 6 }),
  });

const paramNameArb = fc.oneof(
  { weight: 8, arbitrary: fc.stringMatching(/^[A-Z][A-Z0-9_]{0,12}$/) },
  { weight: 1, arbitrary: fc.integer({ min: 120, max: 300 }).map((n) => `L${'N'.repeat(n)}`) }, // 1- and 4-byte lengths
);
const paramValueArb: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }) },
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.integer({ min: 120, max: 400 }).map((n) => 'v'.repeat(n)) },
);
// Arguments as the probe reads them: mostly valid, sometimes malformed (the answer is then a 400).
const decimalArb = (max: number): fc.Arbitrary<string> =>
  fc.oneof({ weight: 9, arbitrary: fc.nat(max).map(String) }, { weight: 1, arbitrary: fc.constantFrom('', 'x', '-1', '1e3', ' 7') });

const actionArb: fc.Arbitrary<ProbeAction> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'default' as const }) },
  { weight: 4, arbitrary: fc.constant({ kind: 'echo-stdin' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'echo-data' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('echo-param' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('echo-params' as const), prefix: fc.option(fc.constantFrom('', 'A', 'L', 'PROBE_', 'Z9'), { nil: undefined }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('bulk' as const), size: decimalArb(200_000) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('sleep' as const), ms: decimalArb(25) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('stderr' as const), text: fc.uint8Array({ maxLength: 200 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('status' as const), status: fc.oneof(fc.integer({ min: 100, max: 599 }).map(String), decimalArb(999)) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unknown' as const), name: fc.constantFrom('nope', 'ECHO-STDIN', '') }) },
);

const abortArb: fc.Arbitrary<AbortPlan> = fc.oneof(
  { weight: 12, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'before' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'sync' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('after' as const), ms: fc.nat(15) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('mid-stdin' as const), chunks: fc.nat(4) }) },
);

const requestArb: fc.Arbitrary<RequestPlan> = fc.record({
  role: fc.constantFrom<RoleName>('responder', 'responder', 'authorizer', 'filter'),
  pairs: fc.array(fc.tuple(paramNameArb, paramValueArb), { maxLength: 12 }),
  big: fc.oneof(
    { weight: 14, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.record({ size: fc.integer({ min: 0, max: MiB }), seed: fc.integer() }) },
  ),
  paramsForm: fc.constantFrom('object', 'pairs'),
  action: actionArb,
  auth: fc.constantFrom('allow', 'deny', undefined),
  exit: fc.option(fc.oneof(fc.constantFrom('0', '4294967295'), decimalArb(0xffffffff)), { freq: 3, nil: undefined }), // absent a third of the time
  stdin: bodyArb(4 * MiB),
  data: fc.option(bodyArb(MiB), { freq: 2, nil: undefined }), // absent half the time
  api: fc.constantFrom('request', 'stream'),
  keepConn: fc.constantFrom(undefined, undefined, undefined, true, false),
  abort: abortArb,
});

const paddingArb: fc.Arbitrary<RecordPadding> = fc.oneof(
  fc.constantFrom<RecordPadding>('align', 'none'),
  fc.integer({ min: 0, max: 255 }),
  fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 5 }),
);
const recordsArb: fc.Arbitrary<RecordShape> = fc.record({
  maxContent: fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 17, max: 4096 }), fc.integer({ min: 4097, max: 65_535 })),
  padding: paddingArb,
});

const runArb: fc.Arbitrary<RunPlan> = fc.record({
  keepConn: fc.boolean(),
  multiplex: fc.constantFrom<boolean | 'auto'>(true, false, 'auto'),
  maxConnections: fc.integer({ min: 1, max: 3 }),
  records: recordsArb,
  requests: fc.array(requestArb, { minLength: 1, maxLength: 6 }),
});

// ---- plan → request -----------------------------------------------------------------------------------------

function fill({ size, seed }: BytesSpec, ascii = false): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = ascii ? 0x20 + ((x >>> 0) % 95) : x & 0xff;
  }
  return out;
}

function pieces(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const to of [...at, bytes.length]) {
    out.push(bytes.subarray(from, to)); // empty pieces too: the client must not end the stream on them
    from = to;
  }
  return out;
}

/** A body as the client takes it; `onChunk(i)` runs before the source yields piece i, and once at its end. */
function bodyInit(spec: BodySpec, bytes: Buffer, onChunk?: (i: number) => void): BodyInit {
  if (onChunk) {
    const parts = pieces(bytes, spec.cuts);
    return (async function* () {
      for (let i = 0; i < parts.length; i++) {
        onChunk(i);
        yield parts[i]!;
        await new Promise((r) => setImmediate(r));
      }
      onChunk(parts.length);
    })();
  }
  switch (spec.form) {
    case 'bytes':
      return bytes;
    case 'string':
      return bytes.toString('latin1'); // ASCII, so its UTF-8 is these bytes
    case 'chunks':
      return pieces(bytes, spec.cuts);
    case 'async':
      return (async function* () {
        for (const p of pieces(bytes, spec.cuts)) yield p;
      })();
  }
}

interface Materialized {
  readonly options: RequestOptions;
  readonly params: ParamsInit;
  readonly stdin: Buffer;
  readonly data: Buffer;
  readonly controller: AbortController;
}

function materialize(plan: RequestPlan, records: RecordShape): Materialized {
  const pairs: (readonly [string, string | Uint8Array])[] = [...plan.pairs];
  if (plan.big) pairs.push(['BIG', plan.paramsForm === 'object' ? fill(plan.big, true).toString('latin1') : fill(plan.big)]);
  const a = plan.action;
  const probe: [string, string | Uint8Array][] = [];
  if (a.kind !== 'default') probe.push(['PROBE_ACTION', a.kind === 'unknown' ? a.name : a.kind]);
  if (a.kind === 'echo-param') {
    const names = pairs.map(([n]) => n);
    probe.push(['PROBE_NAME', a.pick % (names.length + 1) === names.length ? 'NOT_SENT' : names[a.pick % (names.length + 1)]!]);
  }
  if (a.kind === 'echo-params' && a.prefix !== undefined) probe.push(['PROBE_PREFIX', a.prefix]);
  if (a.kind === 'bulk') probe.push(['PROBE_SIZE', a.size]);
  if (a.kind === 'sleep') probe.push(['PROBE_MS', a.ms]);
  if (a.kind === 'stderr') probe.push(['PROBE_TEXT', a.text]);
  if (a.kind === 'status') probe.push(['PROBE_STATUS', a.status]);
  if (plan.auth) probe.push(['PROBE_AUTH', plan.auth]);
  if (plan.exit !== undefined) probe.push(['PROBE_EXIT', plan.exit]);
  const all = [...pairs, ...probe];
  // The object form holds text only: binary values go as hex (the model reads the same object).
  const params: ParamsInit =
    plan.paramsForm === 'object' ? Object.fromEntries(all.map(([n, v]) => [n, typeof v === 'string' ? v : Buffer.from(v).toString('hex')])) : all;

  const ascii = plan.stdin.form === 'string';
  const stdin = fill(plan.stdin, ascii);
  const data = plan.data ? fill(plan.data, plan.data.form === 'string') : Buffer.alloc(0);
  const controller = new AbortController();
  if (plan.abort.kind === 'before') controller.abort(new Error('planned: before'));
  const abort = plan.abort;
  // Clamped to the pieces there are: the last call comes after the last piece, before the stream's end.
  const abortAt = abort.kind === 'mid-stdin' ? Math.min(abort.chunks, pieces(stdin, plan.stdin.cuts).length) : -1;
  const onChunk = abortAt < 0 ? undefined : (i: number): void => {
    if (i === abortAt) controller.abort(new Error('planned: mid-stdin'));
  };
  const options: RequestOptions = {
    role: plan.role,
    params,
    stdin: bodyInit(plan.stdin, stdin, onChunk),
    ...(plan.data ? { data: bodyInit(plan.data, data) } : {}),
    ...(plan.keepConn === undefined ? {} : { keepConn: plan.keepConn }),
    signal: controller.signal,
    records,
  };
  return { options, params, stdin, data, controller };
}

// ---- running and judging ------------------------------------------------------------------------------------

type Outcome =
  | { readonly kind: 'answer'; readonly end: RequestEnd; readonly stdout: Buffer; readonly stderr: Buffer }
  | { readonly kind: 'error'; readonly error: unknown };

async function send(target: Client | ClientConnection, api: RequestPlan['api'], options: RequestOptions): Promise<Outcome> {
  if (api === 'request') {
    return target.request(options).then(
      (r) => ({ kind: 'answer', end: r, stdout: r.stdout, stderr: r.stderr }),
      (error: unknown) => ({ kind: 'error', error }),
    );
  }
  const h = target.stream(options);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const ended = (s: NodeJS.ReadableStream): Promise<void> => new Promise((resolve) => s.once('end', resolve).once('close', resolve));
  h.stdout.on('data', (c: Buffer) => out.push(c));
  h.stderr.on('data', (c: Buffer) => err.push(c));
  const done = Promise.all([ended(h.stdout), ended(h.stderr)]);
  try {
    const end = await h.ended;
    await done;
    return { kind: 'answer', end, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
  } catch (error) {
    return { kind: 'error', error };
  }
}

/** What was sent, as the model needs it. */
interface Sent {
  readonly role: RoleName;
  readonly params: ParamsInit;
  readonly stdin: Uint8Array;
  readonly data: Uint8Array;
}

/** What is wrong with one outcome, in words; empty when it is right. */
function judge(sent: Sent, abort: AbortPlan['kind'], outcome: Outcome): string[] {
  // Only a Filter receives FCGI_DATA; the responder ignores it for the other roles.
  const expected = expectedProbeResponse(sent.role, sent.params, sent.stdin, sent.role === 'filter' ? sent.data : new Uint8Array(0));
  if (outcome.kind === 'answer') {
    if (abort === 'before' || abort === 'mid-stdin') return [`abort ${abort}: expected E_ABORTED, got a complete answer`];
    const problems = compareProbeResponse(expected, { stdout: outcome.stdout, stderr: outcome.stderr, appStatus: outcome.end.appStatus });
    if (outcome.end.protocolStatus !== FCGI_REQUEST_COMPLETE) problems.push(`protocolStatus ${outcome.end.protocolStatus}`);
    if (outcome.end.anomalies.length > 0) problems.push(`anomalies: ${outcome.end.anomalies.join('; ')}`);
    return problems;
  }
  const e = outcome.error;
  if (!ClientError.is(e, 'E_ABORTED') || abort === 'none') return [`unexpected ${ClientError.is(e) ? `${e.code}: ${e.message}` : String(e)}`];
  if (e.requestId === undefined) {
    // Aborted before it had a request id: it never reached the wire, so there is no FCGI_END_REQUEST.
    if (abort === 'mid-stdin') return ['aborted mid-stdin without a request id'];
    return e.end === undefined ? [] : ['an FCGI_END_REQUEST for a request that never started'];
  }
  if (abort === 'before') return ['aborted before it was made, yet it got a request id'];
  // §5.4: the application answers FCGI_ABORT_REQUEST with FCGI_END_REQUEST.
  if (!e.end) return ['E_ABORTED without FCGI_END_REQUEST'];
  if (e.end.protocolStatus !== FCGI_REQUEST_COMPLETE) return [`aborted request ended with protocolStatus ${e.end.protocolStatus}`];
  // The responder's abortAppStatus (0), or the handler's own status when it was already ending.
  const allowed = abort === 'mid-stdin' ? [0] : [0, expected.appStatus ?? 0];
  return allowed.includes(e.end.appStatus) ? [] : [`aborted request ended with appStatus ${e.end.appStatus}, expected one of ${allowed.join(', ')}`];
}

/** Checks that every record the client sent for a request has the shape asked for. */
function shapeChecker(shape: RecordShape): { onTraffic: (e: TrafficEvent) => void; problems: string[] } {
  const decoders = new Map<number, RecordDecoder>();
  const cycle = new Map<string, number>();
  const problems: string[] = [];
  const max = Math.max(1, Math.min(65_535, shape.maxContent ?? 65_535));
  const onTraffic = (e: TrafficEvent): void => {
    if (e.dir !== 'sent' || problems.length > 4) return;
    let d = decoders.get(e.conn);
    if (!d) decoders.set(e.conn, (d = new RecordDecoder()));
    for (const r of d.push(e.bytes)) {
      if (r.requestId === FCGI_NULL_REQUEST_ID) continue;
      const where = `conn ${e.conn} id ${r.requestId} type ${r.type}`;
      // FCGI_BEGIN_REQUEST has its fixed 8-byte body whatever the limit; stream records are cut to it.
      if (r.type !== FCGI_BEGIN_REQUEST && r.content.length > max) problems.push(`${where}: ${r.content.length} content bytes, max ${max}`);
      if (r.padding.some((b) => b !== 0)) problems.push(`${where}: padding bytes not zero`);
      const key = `${e.conn}/${r.requestId}`;
      if (r.type === FCGI_BEGIN_REQUEST) cycle.set(key, 0);
      const i = cycle.get(key) ?? 0;
      cycle.set(key, i + 1);
      const p = shape.padding ?? 'align';
      const want = p === 'align' ? (8 - (r.content.length % 8)) % 8 : p === 'none' ? 0 : typeof p === 'number' ? p : p[i % p.length]!;
      if (r.paddingLength !== want) problems.push(`${where}: padding ${r.paddingLength}, asked for ${want}`);
    }
  };
  return { onTraffic, problems };
}

function withDeadline<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled within ${RUN_DEADLINE_MS} ms`)), RUN_DEADLINE_MS);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

async function eventually(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!condition()) throw new Error(`${what}: not so after 2 s`);
}

type ConnectFactory = () => string | (() => Duplex);

// Tiny records are for small streams: a run's record limit is raised so that no stream takes more than
// this many records (a 4 MiB body in 1-byte records would take minutes, and test nothing more).
const MAX_RECORDS_PER_STREAM = 4096;

function effectiveShape(plan: RunPlan): RecordShape {
  let largest = 0;
  for (const r of plan.requests) largest = Math.max(largest, r.stdin.size, r.data?.size ?? 0, (r.big?.size ?? 0) + 16 * KiB);
  const floor = Math.ceil(largest / MAX_RECORDS_PER_STREAM);
  const asked = plan.records.maxContent ?? 65_535;
  return asked >= floor ? plan.records : { ...plan.records, maxContent: floor };
}

/** Runs one plan with a fresh client; throws with every problem found. */
async function runPlan(responder: Responder, connect: ConnectFactory, plan: RunPlan): Promise<void> {
  const records = effectiveShape(plan);
  const shape = shapeChecker(records);
  const client = new Client(connect(), {
    keepConn: plan.keepConn,
    multiplex: plan.multiplex,
    maxConnections: plan.maxConnections,
    timeoutMs: 10_000,
    onTraffic: shape.onTraffic,
  });
  const materialized = plan.requests.map((r) => materialize(r, records));
  const outcomes = plan.requests.map((r, i) => {
    const m = materialized[i]!;
    const outcome = send(client, r.api, m.options);
    if (r.abort.kind === 'sync') m.controller.abort(new Error('planned: sync'));
    if (r.abort.kind === 'after') setTimeout(() => m.controller.abort(new Error('planned: after')), r.abort.ms);
    return outcome;
  });
  const problems: string[] = [];
  try {
    const settled = await withDeadline(Promise.all(outcomes), 'requests');
    settled.forEach((o, i) => {
      const r = plan.requests[i]!;
      const m = materialized[i]!;
      for (const p of judge({ role: r.role, params: m.params, stdin: m.stdin, data: m.data }, r.abort.kind, o)) problems.push(`request ${i} (${r.role}, ${r.api}): ${p}`);
    });
    // Every request the responder took has ended by the time the client settled it.
    await eventually(() => responder.activeRequests === 0, 'responder idle');
  } finally {
    await withDeadline(client.close(), 'client.close()').catch((err: unknown) => {
      problems.push(String(err));
      client.destroy();
    });
  }
  problems.push(...shape.problems);
  if (problems.length > 0) throw new Error(problems.join('\n'));
}

// Plans that every run covers, whatever the seed draws: the largest bodies the issue names.
const bigBody = (size: number, form: BodySpec['form']): BodySpec => ({ size, seed: 7, form, cuts: [1, 65_535, 65_536, 1_000_000] });
const plain = (over: Partial<RequestPlan>): RequestPlan => ({
  role: 'responder',
  pairs: [['A', 'b']],
  big: undefined,
  paramsForm: 'pairs',
  action: { kind: 'default' },
  auth: undefined,
  exit: undefined,
  stdin: bigBody(0, 'bytes'),
  data: undefined,
  api: 'request',
  keepConn: undefined,
  abort: { kind: 'none' },
  ...over,
});
const examples: [RunPlan][] = [
  [{ keepConn: true, multiplex: true, maxConnections: 1, records: { maxContent: 65_535, padding: [0, 255, 7] }, requests: [
    plain({ stdin: bigBody(4 * MiB, 'async'), api: 'stream' }),
    plain({ big: { size: MiB, seed: 3 }, action: { kind: 'echo-param', pick: 1 } }),
    plain({ role: 'filter', action: { kind: 'echo-data' }, data: bigBody(MiB, 'chunks'), abort: { kind: 'after', ms: 1 } }),
  ] }],
  [{ keepConn: false, multiplex: 'auto', maxConnections: 2, records: { maxContent: 1, padding: 255 }, requests: [
    plain({ stdin: bigBody(3000, 'bytes'), abort: { kind: 'mid-stdin', chunks: 1 } }),
    plain({ role: 'authorizer', auth: 'allow', exit: '7' }),
  ] }],
];

// ---- the properties -----------------------------------------------------------------------------------------

const transports = {
  unix: async (): Promise<{ responder: Responder; connect: ConnectFactory; close: () => Promise<void> }> => {
    const dir = await mkdtemp(join(tmpdir(), 'fcgispec-peer-'));
    const responder = createResponder({ handler: createProbeHandler(), webServerAddrs: null });
    const { text } = await responder.listen(`unix:${join(dir, 'app.sock')}`);
    return {
      responder,
      connect: () => text,
      close: async () => {
        await responder.close({ graceMs: 0 });
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  duplex: async (): Promise<{ responder: Responder; connect: ConnectFactory; close: () => Promise<void> }> => {
    const responder = createResponder({ handler: createProbeHandler(), webServerAddrs: null });
    const connect = (): (() => Duplex) => () => {
      const [ours, theirs] = duplexPair();
      responder.serveConnection(theirs);
      return ours;
    };
    return { responder, connect, close: () => responder.close({ graceMs: 0 }) };
  },
} as const;

describe.each(Object.keys(transports) as (keyof typeof transports)[])('the reference client through the reference responder, over %s', (transport) => {
  let env: Awaited<ReturnType<(typeof transports)[typeof transport]>>;
  beforeAll(async () => {
    env = await transports[transport]();
  });
  afterAll(() => env.close());

  it('answers every random plan as the probe model predicts', async () => {
    console.log(`fast-check seed ${SEED} (${transport}); replay with FCGISPEC_SEED=${SEED}`);
    await fc.assert(
      fc.asyncProperty(runArb, (plan) => runPlan(env.responder, env.connect, plan)),
      { seed: SEED, numRuns: 100, examples, endOnFailure: true },
    );
  }, 120_000);

  it('multiplexes concurrent requests on one connection with the smallest free ids', async () => {
    const ends: { connectionId: number; requestId: number }[] = [];
    const responder = createResponder({ handler: createProbeHandler(), webServerAddrs: null, onRequestEnd: (e) => ends.push(e) });
    const [ours, theirs] = transport === 'duplex' ? duplexPair() : [undefined, undefined];
    let conn: ClientConnection;
    let dir: string | undefined;
    if (ours && theirs) {
      responder.serveConnection(theirs);
      conn = new ClientConnection(ours, { maxConcurrent: 8 });
    } else {
      dir = await mkdtemp(join(tmpdir(), 'fcgispec-peer-'));
      const { text } = await responder.listen(`unix:${join(dir, 'app.sock')}`);
      conn = await ClientConnection.connect(text, { maxConcurrent: 8 });
    }
    try {
      // Each request's stdin stays open until its gate opens, so none can finish before all four have ids.
      const gates = [0, 1, 2, 3].map(() => {
        let resolve!: () => void;
        return { promise: new Promise<void>((r) => (resolve = r)), resolve: () => resolve() };
      });
      const pending = gates.map((gate, i) =>
        conn.request({
          params: { PROBE_ACTION: 'echo-stdin', I: String(i) },
          stdin: (async function* () {
            yield `body ${i}`;
            await gate.promise;
          })(),
        }),
      );
      const order = [3, 1, 2, 0];
      const results: RequestResult[] = [];
      for (const i of order) {
        gates[i]!.resolve();
        results[i] = await pending[i]!;
      }
      expect(results.map((r) => r.requestId)).toEqual([1, 2, 3, 4]);
      expect(results.map((r) => r.cgi?.body.toString())).toEqual(['body 0', 'body 1', 'body 2', 'body 3']);
      expect(ends.map((e) => e.requestId)).toEqual(order.map((i) => i + 1));
      expect(new Set(ends.map((e) => e.connectionId)).size).toBe(1);
      // Ids are free again once answered: the next request takes 1.
      expect((await conn.request({ stdin: 'again' })).requestId).toBe(1);
    } finally {
      conn.destroy();
      await responder.close({ graceMs: 0 });
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  });
});

// ---- interleavings ------------------------------------------------------------------------------------------

/**
 * An in-memory connection whose every delivery is a task of the fast-check scheduler: bytes keep their
 * order in each direction (a stream transport), while the scheduler chooses when they arrive relative to the
 * other direction, to the client's calls, and to the application. Each write is cut in two at `cuts`.
 */
class ScheduledSide extends Duplex {
  peer!: ScheduledSide;
  readonly #s: fc.Scheduler;
  readonly #label: string;
  readonly #cuts: readonly number[];
  readonly #queue: (Buffer | null)[] = [];
  #writes = 0;
  #busy = false;

  constructor(s: fc.Scheduler, label: string, cuts: readonly number[]) {
    super();
    this.#s = s;
    this.#label = label;
    this.#cuts = cuts;
  }

  static pair(s: fc.Scheduler, cuts: readonly number[]): [ScheduledSide, ScheduledSide] {
    const a = new ScheduledSide(s, 'client→app', cuts);
    const b = new ScheduledSide(s, 'app→client', cuts);
    a.peer = b;
    b.peer = a;
    return [a, b];
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const cut = this.#cuts.length === 0 ? 0 : this.#cuts[this.#writes++ % this.#cuts.length]! % chunk.length;
    if (cut > 0) this.#queue.push(chunk.subarray(0, cut), chunk.subarray(cut));
    else this.#queue.push(chunk);
    this.#deliver();
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#queue.push(null);
    this.#deliver();
    callback();
  }

  override _read(): void {}

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.peer.destroyed) this.peer.destroy();
    callback(error);
  }

  #deliver(): void {
    if (this.#busy || this.#queue.length === 0) return;
    this.#busy = true;
    void this.#s.schedule(Promise.resolve(), this.#label).then(() => {
      const item = this.#queue.shift()!;
      this.#busy = false;
      if (this.destroyed || this.peer.destroyed) return;
      this.peer.push(item);
      this.#deliver();
    });
  }
}

interface MiniPlan {
  readonly role: RoleName;
  readonly action: 'echo-stdin' | 'echo-data' | 'echo-params' | 'sleep' | 'stderr';
  readonly stdin: readonly Uint8Array[];
  readonly data: Uint8Array;
  readonly api: 'request' | 'stream';
  readonly records: RecordShape;
}

interface Model {
  started: number;
}
interface Real {
  readonly s: fc.Scheduler;
  readonly conn: ClientConnection;
  readonly started: { readonly plan: MiniPlan; readonly params: ParamsInit; readonly controller: AbortController; aborted: boolean; readonly outcome: Promise<Outcome> }[];
  readonly queries: Promise<Map<string, string>>[];
}

const MAX_STARTED = 6;

class StartCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly plan: MiniPlan) {}
  check(m: Readonly<Model>): boolean {
    return m.started < MAX_STARTED;
  }
  async run(m: Model, r: Real): Promise<void> {
    const plan = this.plan;
    const index = m.started++;
    const params: ParamsInit = { PROBE_ACTION: plan.action, PROBE_MS: '3', PROBE_TEXT: `t${index}`, PROBE_PREFIX: 'I', I: String(index) };
    const controller = new AbortController();
    const s = r.s;
    // Each stdin chunk is handed over when the scheduler says so.
    const stdin = (async function* () {
      for (const c of plan.stdin) yield await s.schedule(Promise.resolve(c), `stdin chunk of ${index}`);
    })();
    const options: RequestOptions = { role: plan.role, params, stdin, data: plan.data, signal: controller.signal, records: plan.records };
    r.started.push({ plan, params, controller, aborted: false, outcome: send(r.conn, plan.api, options) });
  }
  toString(): string {
    return `start(${this.plan.role} ${this.plan.action} ${this.plan.api} stdin=${this.plan.stdin.map((c) => c.length).join('+')})`;
  }
}

class AbortCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check(m: Readonly<Model>): boolean {
    return m.started > 0;
  }
  async run(m: Model, r: Real): Promise<void> {
    const target = r.started[this.pick % m.started]!;
    target.aborted = true;
    target.controller.abort(new Error('planned'));
  }
  toString(): string {
    return `abort(${this.pick})`;
  }
}

class GetValuesCommand implements fc.AsyncCommand<Model, Real> {
  check(): boolean {
    return true;
  }
  async run(_m: Model, r: Real): Promise<void> {
    r.queries.push(r.conn.getValues([FCGI_MPXS_CONNS, 'NOT_A_VARIABLE', FCGI_MAX_REQS]));
  }
  toString(): string {
    return 'getValues';
  }
}

const miniPlanArb: fc.Arbitrary<MiniPlan> = fc.record({
  role: fc.constantFrom<RoleName>('responder', 'filter', 'authorizer'),
  action: fc.constantFrom('echo-stdin', 'echo-data', 'echo-params', 'sleep', 'stderr'),
  stdin: fc.array(fc.uint8Array({ maxLength: 70 }), { maxLength: 4 }),
  data: fc.uint8Array({ maxLength: 50 }),
  api: fc.constantFrom('request', 'stream'),
  records: fc.record({ maxContent: fc.integer({ min: 1, max: 64 }), padding: paddingArb }),
});

describe('interleavings chosen by the fast-check scheduler', () => {
  let responder: Responder;
  beforeAll(() => {
    responder = createResponder({ handler: createProbeHandler(), webServerAddrs: null });
  });
  afterAll(() => responder.close({ graceMs: 0 }));

  it('answers multiplexed requests, aborts and management queries on one connection, in any order of events', async () => {
    console.log(`fast-check seed ${SEED} (scheduler); replay with FCGISPEC_SEED=${SEED}`);
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.commands([miniPlanArb.map((p) => new StartCommand(p)), fc.nat().map((n) => new AbortCommand(n)), fc.constant(new GetValuesCommand())], { maxCommands: 12 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        async (s, commands, cuts) => {
          const [ours, theirs] = ScheduledSide.pair(s, cuts);
          responder.serveConnection(theirs);
          const conn = new ClientConnection(ours, { maxConcurrent: 4, timeoutMs: 10_000 });
          const real: Real = { s, conn, started: [], queries: [] };
          try {
            await withDeadline(
              fc.scheduledModelRun(s, () => ({ model: { started: 0 }, real }), commands),
              'commands',
            );
            const outcomes = await withDeadline(s.waitFor(Promise.all(real.started.map((x) => x.outcome))), 'requests');
            const answers = await withDeadline(s.waitFor(Promise.all(real.queries)), 'queries');
            const problems: string[] = [];
            outcomes.forEach((o, i) => {
              const x = real.started[i]!;
              const sent: Sent = { role: x.plan.role, params: x.params, stdin: Buffer.concat(x.plan.stdin), data: x.plan.data };
              // An abort may land before, during or after the request: either outcome is allowed then.
              for (const p of judge(sent, x.aborted ? 'after' : 'none', o)) problems.push(`request ${i}: ${p}`);
            });
            for (const values of answers) {
              if (values.get(FCGI_MPXS_CONNS) !== '1' || values.has('NOT_A_VARIABLE') || values.get(FCGI_MAX_REQS) === undefined) {
                problems.push(`FCGI_GET_VALUES answered ${JSON.stringify([...values])}`);
              }
            }
            if (problems.length > 0) throw new Error(`${problems.join('\n')}\nscheduler: ${s.report().length} tasks`);
          } finally {
            conn.destroy();
          }
        },
      ),
      { seed: SEED, numRuns: 200, endOnFailure: true },
    );
    await eventually(() => responder.connectionCount === 0 && responder.activeRequests === 0, 'responder idle');
  }, 120_000);
});
