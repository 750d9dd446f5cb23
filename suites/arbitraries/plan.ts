/**
 * The arbitrary of whole request plans (`FuzzPlan`): connections of batches of interleaved requests with every
 * role, FCGI_KEEP_CONN set or clear, params and bodies cut into records of any size, aborts at any point,
 * management records, records of inactive ids and of undefined types, padding, and writes from one byte to
 * coalesced. Everything shrinks towards one plain Responder request in one write, so a failure shrinks to the
 * few records that cause it.
 * @see §3.3 §3.4 §4 §5 §6
 */
import fc from 'fast-check';
import {
  FCGI_ABORT_REQUEST,
  FCGI_AUTHORIZER,
  FCGI_DATA,
  FCGI_FILTER,
  FCGI_MAX_CONNS,
  FCGI_MAX_REQS,
  FCGI_MPXS_CONNS,
  FCGI_PARAMS,
  FCGI_RESPONDER,
  FCGI_STDIN,
  roleNumbers,
  type RoleName,
} from '../../spec/constants.ts';
import { abortPoints, type BatchPlan, type BytesSpec, type ConnectionPlan, type Delivery, type ExtraRecord, type FuzzPlan, type RequestSpec } from '../fuzz/plan.ts';
import { specOf } from '../fuzz/plan.ts';
import { anyBytes, bodySpec, printableText } from './bytes.ts';
import { fuzzParams } from './name-value.ts';
import { writeSizes } from './records.ts';

/** What plans to generate. */
export interface PlanArbitraryOptions {
  /** Roles the target claims; requests use them mostly, other roles (known and unknown) now and then. */
  readonly roles: readonly RoleName[];
  /** The target honours FCGI_KEEP_CONN (else every connection carries one request). */
  readonly keepConn: boolean;
  /** Bytes of a request's own param values, at most. */
  readonly maxParams: number;
  /** Bytes of FCGI_STDIN (and FCGI_DATA) per request, at most. */
  readonly maxStdin: number;
  /** Connections per plan, at most (default 3). */
  readonly maxConnections?: number;
  /** Include records of undefined types on active request ids (default true). */
  readonly unknownTypes?: boolean;
}

/**
 * 1..`max` items. Not `minLength: 1`: fast-check shrinks the tail of an array with the length constraint of the
 * whole, so a minimum of one would keep a trailing item it could drop; the filter keeps generated arrays non-empty.
 */
export function nonEmpty<T>(arb: fc.Arbitrary<T>, max: number): fc.Arbitrary<T[]> {
  return fc.array(arb, { maxLength: max }).filter((a) => a.length > 0);
}

/** Statuses the probe is asked for: ones every CGI implementation passes through unchanged. */
const probeStatuses = [200, 201, 400, 404, 418, 500, 503] as const;

type Call =
  | { readonly action: 'echo-stdin' }
  | { readonly action: 'echo-param'; readonly name: number }
  | { readonly action: 'echo-params' }
  | { readonly action: 'status'; readonly status: number }
  | { readonly action: 'stderr'; readonly text: string }
  | { readonly action: 'bulk'; readonly size: number }
  | { readonly action: 'echo-data' }
  | { readonly action: 'authorize'; readonly allow: boolean };

function call(maxBody: number): fc.Arbitrary<Call> {
  return fc.oneof(
    { withCrossShrink: true },
    { arbitrary: fc.constant<Call>({ action: 'echo-stdin' }), weight: 8 },
    { arbitrary: fc.nat(7).map((name): Call => ({ action: 'echo-param', name })), weight: 2 },
    { arbitrary: fc.constant<Call>({ action: 'echo-params' }), weight: 2 },
    { arbitrary: fc.constantFrom(...probeStatuses).map((status): Call => ({ action: 'status', status })), weight: 1 },
    { arbitrary: printableText(1, 40).map((text): Call => ({ action: 'stderr', text })), weight: 1 },
    { arbitrary: fc.integer({ min: 0, max: Math.max(0, Math.min(maxBody, 140_000)) }).map((size): Call => ({ action: 'bulk', size })), weight: 1 },
    { arbitrary: fc.constant<Call>({ action: 'echo-data' }), weight: 2 },
  );
}

// The call a role can make: an Authorizer decides (allow when the drawn call is echo-stdin), echo-data is a
// Filter's, and a Filter echoes its data most of the time.
function callFor(role: number, c: Call, pick: number): Call {
  if (role === FCGI_AUTHORIZER) return { action: 'authorize', allow: c.action === 'echo-stdin' };
  if (c.action === 'echo-data' && role !== FCGI_FILTER) return { action: 'echo-stdin' };
  if (role === FCGI_FILTER && c.action === 'echo-stdin' && pick % 2 === 0) return { action: 'echo-data' };
  return c;
}

// The probe's control params for a call; `names` are the request's own param names (echo-param picks one).
function callParams(c: Call, names: readonly string[]): [string, BytesSpec][] {
  switch (c.action) {
    case 'echo-stdin':
      return [['PROBE_ACTION', 'echo-stdin']];
    case 'echo-param':
      return [['PROBE_ACTION', 'echo-param'], ['PROBE_NAME', names.length > 0 ? names[c.name % names.length]! : 'FZ_ABSENT']];
    case 'echo-params':
      return [['PROBE_ACTION', 'echo-params'], ['PROBE_PREFIX', 'FZ_']];
    case 'status':
      return [['PROBE_ACTION', 'status'], ['PROBE_STATUS', String(c.status)]];
    case 'stderr':
      return [['PROBE_ACTION', 'stderr'], ['PROBE_TEXT', c.text]];
    case 'bulk':
      return [['PROBE_ACTION', 'bulk'], ['PROBE_SIZE', String(c.size)]];
    case 'echo-data':
      return [['PROBE_ACTION', 'echo-data']];
    case 'authorize':
      return [['PROBE_AUTH', c.allow ? 'allow' : 'deny']];
  }
}

/** Role numbers: the claimed ones mostly, then the other defined ones, then unknown ones (0, 4..65535). */
export function roleNumber(claimed: readonly RoleName[]): fc.Arbitrary<number> {
  const mine = claimed.length > 0 ? claimed.map((r) => roleNumbers[r]) : [FCGI_RESPONDER];
  const ordered = [...new Set([FCGI_RESPONDER, ...mine])].filter((r) => mine.includes(r));
  return fc.oneof(
    { withCrossShrink: true },
    { arbitrary: fc.constantFrom(...ordered), weight: 16 },
    { arbitrary: fc.constantFrom(FCGI_RESPONDER, FCGI_AUTHORIZER, FCGI_FILTER), weight: 2 },
    { arbitrary: fc.oneof(fc.constant(0), fc.integer({ min: 4, max: 0xffff })), weight: 1 },
  );
}

/** Content sizes of a stream's first records: none (one record per 65535 bytes), or a mix of tiny, medium and maximal. */
export function chunkSizes(): fc.Arbitrary<number[]> {
  const size = fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 17, max: 2048 }), fc.constant(65535), fc.integer({ min: 65_000, max: 65_535 }));
  return fc.oneof({ withCrossShrink: true }, { arbitrary: fc.constant<number[]>([]), weight: 5 }, { arbitrary: nonEmpty(size, 6), weight: 3 });
}

/** A value one time in `outOf`, else undefined (what shrinking goes for). */
function sometimes<T>(arb: fc.Arbitrary<T>, outOf: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ withCrossShrink: true }, { arbitrary: fc.constant(undefined), weight: outOf - 1 }, { arbitrary: arb, weight: 1 });
}

/** A flag that is false mostly and shrinks to false. */
function rarely(outOf: number): fc.Arbitrary<boolean> {
  return fc.integer({ min: 0, max: outOf - 1 }).map((n) => n === outOf - 1);
}

/** One request. */
export function requestSpec(options: PlanArbitraryOptions): fc.Arbitrary<RequestSpec> {
  return fc
    .record({
      id: fc.oneof({ withCrossShrink: true }, { arbitrary: fc.constantFrom(1, 2, 3), weight: 8 }, { arbitrary: fc.integer({ min: 1, max: 0xffff }), weight: 2 }),
      role: roleNumber(options.roles),
      keepConn: fc.boolean(),
      call: call(options.maxStdin),
      pick: fc.nat(1),
      exit: sometimes(fc.oneof(fc.constantFrom(1, 255), fc.integer({ min: 0, max: 0xffffffff })), 6),
      own: fuzzParams(options.maxParams),
      stdin: bodySpec(options.maxStdin),
      data: bodySpec(options.maxStdin),
      abort: sometimes(fc.constantFrom(...abortPoints), 7).map((a) => a ?? null),
      chunks: chunkSizes(),
      cycleChunks: rarely(3),
      longLengths: rarely(10),
    })
    .map((r): RequestSpec => {
      const names = r.own.map(([n]) => n);
      const control = callParams(callFor(r.role, r.call, r.pick), names);
      const exit: [string, BytesSpec][] = r.exit === undefined ? [] : [['PROBE_EXIT', String(r.exit)]];
      return {
        id: r.id,
        role: r.role,
        keepConn: r.keepConn,
        params: [...control, ...exit, ...r.own],
        // An Authorizer gets an empty FCGI_STDIN (§6.3); FCGI_DATA goes to a Filter only (§6.4).
        stdin: r.role === FCGI_AUTHORIZER ? '' : r.stdin,
        data: r.role === FCGI_FILTER ? r.data : '',
        abort: r.abort,
        chunks: r.chunks,
        ...(r.cycleChunks ? { cycleChunks: true } : {}),
        longLengths: r.longLengths,
      };
    });
}

/** One extra record: FCGI_GET_VALUES, an unknown management type, a record of an inactive id, an undefined type. */
export function extraRecord(options: PlanArbitraryOptions): fc.Arbitrary<ExtraRecord> {
  const at = fc.nat(64);
  const content = anyBytes(16).map(specOf);
  const arbs: fc.WeightedArbitrary<ExtraRecord>[] = [
    {
      arbitrary: fc.record({ at, names: fc.subarray([FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS, 'FZ_UNKNOWN']) }).map((x) => ({ kind: 'get-values' as const, ...x })),
      weight: 3,
    },
    {
      arbitrary: fc.record({ at, type: fc.oneof(fc.constant(0), fc.integer({ min: 12, max: 255 })), content }).map((x) => ({ kind: 'management' as const, ...x })),
      weight: 2,
    },
    {
      arbitrary: fc
        .record({ at, type: fc.constantFrom(FCGI_STDIN, FCGI_PARAMS, FCGI_DATA, FCGI_ABORT_REQUEST), id: fc.oneof(fc.constantFrom(1, 2, 3), fc.integer({ min: 1, max: 0xffff })), content })
        .map((x) => ({ kind: 'inactive' as const, ...x })),
      weight: 2,
    },
  ];
  if (options.unknownTypes !== false) {
    arbs.push({
      arbitrary: fc.record({ at, type: fc.integer({ min: 12, max: 255 }), request: fc.nat(3), content }).map((x) => ({ kind: 'unknown-type' as const, ...x })),
      weight: 1,
    });
  }
  return fc.oneof(...arbs);
}

/** One batch: 1..3 requests, maybe extra records, maybe an interleaving order. */
export function batchPlan(options: PlanArbitraryOptions): fc.Arbitrary<BatchPlan> {
  return fc.record({
    requests: nonEmpty(requestSpec(options), 3),
    extras: fc.oneof({ withCrossShrink: true }, { arbitrary: fc.constant<ExtraRecord[]>([]), weight: 3 }, { arbitrary: nonEmpty(extraRecord(options), 3), weight: 2 }),
    order: fc.oneof({ withCrossShrink: true }, { arbitrary: fc.constant<number[]>([]), weight: 3 }, { arbitrary: nonEmpty(fc.nat(3), 12), weight: 2 }),
  });
}

/** Padding per record, cycled: none, aligned, or a mix including the maximum. */
export function paddingList(): fc.Arbitrary<number[]> {
  const one = fc.oneof(fc.constant(-1), fc.constant(255), fc.integer({ min: 0, max: 255 }));
  return fc.oneof(
    { withCrossShrink: true },
    { arbitrary: fc.constant<number[]>([]), weight: 4 },
    { arbitrary: fc.constant<number[]>([-1]), weight: 2 },
    { arbitrary: nonEmpty(one, 6), weight: 3 },
  );
}

/** How a connection's bytes go out. */
export function delivery(): fc.Arbitrary<Delivery> {
  return fc.record({
    padding: paddingList(),
    paddingByte: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })),
    writes: writeSizes(),
  });
}

/** One connection: 1..3 batches (one when the target does not keep connections). */
export function connectionPlan(options: PlanArbitraryOptions): fc.Arbitrary<ConnectionPlan> {
  return fc.record({
    batches: nonEmpty(batchPlan(options), options.keepConn ? 3 : 1),
    delivery: delivery(),
  });
}

/** Whole plans: 1..`maxConnections` connections, one mostly. */
export function fuzzPlan(options: PlanArbitraryOptions): fc.Arbitrary<FuzzPlan> {
  const max = Math.max(1, options.maxConnections ?? 3);
  const connection = connectionPlan(options);
  return fc
    .oneof(
      { withCrossShrink: true },
      { arbitrary: nonEmpty(connection, 1), weight: 6 },
      { arbitrary: nonEmpty(connection, max), weight: 2 },
    )
    .map((connections) => ({ connections }));
}
