/**
 * Helpers for the connection-flow groups (keep-conn, multiplexing, abort, request-ids, robustness, limits):
 * requests held open, records of several requests interleaved, waits for a close or for silence, claims read
 * from FCGI_GET_VALUES without judging the answer, and timelines of concurrent requests.
 *
 * Like `kit.ts`, everything goes through `ScenarioContext` / `ScenarioConnection` only.
 */
import { FCGI_ABORT_REQUEST, FCGI_END_REQUEST, FCGI_GET_VALUES_RESULT, FCGI_REQUEST_COMPLETE, protocolStatusName } from '../spec/constants.ts';
import type { RequirementId } from '../spec/requirements.ts';
import { concatBytes, type DecodedRecord, type RecordInit } from '../reference/codec/record.ts';
import { decodeNameValuePairs, toText } from '../reference/codec/name-value.ts';
import type { PeerEvent } from '../reference/client/raw-connection.ts';
import type { Check, RequestPlan, ResponseObservation, ScenarioConnection, ScenarioContext } from './define.ts';
import {
  bodyParams,
  describeEvent,
  describeObservation,
  encodePlan,
  getValuesRecord,
  outcomeOf,
  probe,
  recordsOf,
  sendAndRead,
  servedProblem,
  type Variant,
} from './kit.ts';

// ───────────────────────────── plans ─────────────────────────────

/**
 * A Responder request with `body` on FCGI_STDIN (CONTENT_LENGTH set), echoed by the probe in the `probe`
 * variant. Distinct bodies per request let a scenario tell responses apart.
 */
export function echoPlan(variant: Variant, requestId: number, body: Uint8Array, flags = 0): RequestPlan {
  return { requestId, flags, params: [...bodyParams(body.length), ...(variant === 'probe' ? probe.echoStdin() : [])], stdin: body };
}

// ───────────────────────────── requests held open, interleaved, aborted ─────────────────────────────

/** `{FCGI_ABORT_REQUEST, R}`: an empty record. @see §5.4 */
export function abortRecord(requestId: number): RecordInit {
  return { type: FCGI_ABORT_REQUEST, requestId };
}

/**
 * The bytes of a planned request up to, but not including, the empty STDIN record: the request is complete
 * except for the end of its input, so it stays active until `stdinEnd` is sent.
 */
export function heldRequest(ctx: Pick<ScenarioContext, 'baseParams'>, plan: RequestPlan): Uint8Array {
  return encodePlan(ctx, { ...plan, omit: { ...plan.omit, stdinEnd: true } });
}

/**
 * Merges the records of several encoded requests one record of each in turn (round robin), keeping each
 * request's own order: the finest interleaving a multiplexing web server can produce. @see Appendix B example 4
 */
export function interleaveRecords(requests: readonly Uint8Array[]): Uint8Array {
  const lists = requests.map((bytes) => splitRecords(bytes));
  const out: Uint8Array[] = [];
  for (let i = 0; lists.some((l) => i < l.length); i++) for (const l of lists) if (i < l.length) out.push(l[i]!);
  return concatBytes(out);
}

/** The encoded records of a byte stream, each as its own slice (header, content and padding). */
export function splitRecords(bytes: Uint8Array): Uint8Array[] {
  const records = recordsOf(bytes);
  return records.map((r, i) => bytes.subarray(r.offset, records[i + 1]?.offset ?? bytes.length));
}

/** Reads the responses of several ids on one connection at once (each read sees only its own records). */
export async function readResponses(conn: ScenarioConnection, ids: readonly number[], timeoutMs: number): Promise<ResponseObservation[]> {
  return Promise.all(ids.map((id) => conn.readResponse(id, timeoutMs)));
}

/**
 * Reads on where an earlier read of the same id stopped (its deadline), and returns both as one observation:
 * records, streams and the ending of the second read. @see §3.3
 */
export async function readMore(conn: ScenarioConnection, earlier: ResponseObservation, timeoutMs: number): Promise<ResponseObservation> {
  const later = await conn.readResponse(earlier.requestId, timeoutMs);
  if (earlier.records.length === 0) return later;
  const { cgi: _drop, ...rest } = later;
  return {
    ...rest,
    records: [...earlier.records, ...later.records],
    stdout: concatBytes([earlier.stdout, later.stdout]),
    stderr: concatBytes([earlier.stderr, later.stderr]),
    stdoutTerminated: earlier.stdoutTerminated || later.stdoutTerminated,
    stderrTerminated: earlier.stderrTerminated || later.stderrTerminated,
    elapsedMs: earlier.elapsedMs + later.elapsedMs,
  };
}

/**
 * Whether response `a` ended before response `b` on the same connection, by where their FCGI_END_REQUEST
 * records sat in the bytes received (exact, unlike timestamps). A response that never ended comes last.
 */
export function endedBefore(a: ResponseObservation, b: ResponseObservation): boolean {
  const at = (o: ResponseObservation): number => (o.ending === 'end-request' ? (o.records.at(-1)?.offset ?? Infinity) : Infinity);
  return at(a) < at(b);
}

/** When an observation's END_REQUEST arrived, in ms since `startedAt` (a `performance.now()` reading). */
export interface Timed {
  readonly obs: ResponseObservation;
  /** ms from `startedAt` to the end of the read (END_REQUEST, close or deadline). */
  readonly atMs: number;
}

/** `readResponse` that also notes when the read ended, relative to `startedAt`. */
export async function readTimed(conn: ScenarioConnection, requestId: number, timeoutMs: number, startedAt: number): Promise<Timed> {
  const obs = await conn.readResponse(requestId, timeoutMs);
  return { obs, atMs: Math.round(performance.now() - startedAt) };
}

// ───────────────────────────── the connection: open, closed, quiet ─────────────────────────────

/** A short pause (half the quiet period) for the target to take in what was sent before the next step. */
export function settle(ctx: Pick<ScenarioContext, 'sleep' | 'timeouts'>): Promise<void> {
  return ctx.sleep(Math.max(1, Math.round(ctx.timeouts.quietMs / 2)));
}

/**
 * The connection is still open after `ms` (default: the quiet period): no close came. Records a violation of
 * `requirement` when it closed. Records received meanwhile are left for later reads.
 */
export async function expectOpen(
  ctx: Pick<ScenarioContext, 'check' | 'timeouts'>,
  conn: ScenarioConnection,
  requirement: RequirementId,
  what: string,
  ms: number = ctx.timeouts.quietMs,
): Promise<boolean> {
  const closed = await conn.waitClose(ms);
  return ctx.check.that(!closed.closed, requirement, `${what}: the connection stays open`, closed.closed ? `closed (${closed.how}) at ${Math.round(closed.atMs)} ms` : '');
}

/**
 * The application closes the connection within the close timeout (it was told to, with FCGI_KEEP_CONN
 * clear). Records a violation of `requirement` otherwise; observes the delay under `label`.
 */
export async function expectClosed(
  ctx: Pick<ScenarioContext, 'check' | 'timeouts'>,
  conn: ScenarioConnection,
  requirement: RequirementId,
  what: string,
  label?: string,
): Promise<boolean> {
  const started = performance.now();
  const closed = await conn.waitClose(ctx.timeouts.closeMs);
  if (closed.closed && label) ctx.check.observe(label, `${Math.round(performance.now() - started)} ms (${closed.how})`);
  return ctx.check.that(closed.closed, requirement, `${what}: the application closes the connection`, `still open ${ctx.timeouts.closeMs} ms later`);
}

/** What arrived during a quiet period: records of any id, and whether (and how) the connection closed. */
export interface QuietResult {
  readonly records: readonly DecodedRecord[];
  readonly closed?: Extract<PeerEvent, { kind: 'closed' }>;
}

/**
 * Takes every event for `ms`: records of any id (already queued ones included) and the close. For moments
 * where nothing at all should come, e.g. after records the application must ignore. @see §3.3
 */
export async function collectFor(conn: ScenarioConnection, ms: number): Promise<QuietResult> {
  const deadline = performance.now() + ms;
  const records: DecodedRecord[] = [];
  for (;;) {
    const left = Math.max(1, Math.round(deadline - performance.now()));
    const event = await conn.nextEvent(left);
    if (event.kind === 'record') records.push(event.record);
    else if (event.kind === 'closed') return { records, closed: event };
    if (event.kind === 'timeout' || performance.now() >= deadline) return { records };
  }
}

/** One line for a quiet period's findings. */
export function describeQuiet(q: QuietResult): string {
  const parts = q.records.slice(0, 4).map((r) => describeEvent({ kind: 'record', record: r, atMs: 0 }));
  if (q.records.length > 4) parts.push(`… ${q.records.length} records in all`);
  if (q.closed) parts.push(describeEvent(q.closed));
  return parts.length ? parts.join('; ') : 'nothing';
}

// ───────────────────────────── claims: FCGI_GET_VALUES and the profile ─────────────────────────────

/** A value the target claims, and where the claim came from. */
export interface Claim<T> {
  readonly value: T;
  readonly source: 'FCGI_GET_VALUES' | 'profile';
}

/**
 * Asks FCGI_GET_VALUES for `names` on a fresh connection and returns the values answered, without judging
 * the answer (the management group does). Empty when there is no well-formed answer within the reply time.
 * @see §4.1
 */
export async function askValues(ctx: Pick<ScenarioContext, 'connect' | 'timeouts'>, names: readonly string[]): Promise<Readonly<Record<string, string>>> {
  const conn = await ctx.connect();
  try {
    await conn.sendRecord(getValuesRecord(names));
    const event = await conn.nextManagement(ctx.timeouts.replyMs);
    if (event.kind !== 'record' || event.record.type !== FCGI_GET_VALUES_RESULT) return {};
    const { pairs } = decodeNameValuePairs(event.record.content, { maxPairs: 64, maxPairLength: 4096 });
    return Object.fromEntries(pairs.map((p) => [toText(p.name), toText(p.value)]));
  } finally {
    conn.close();
  }
}

/** A positive decimal integer, or undefined. */
export function positiveInt(text: string | undefined): number | undefined {
  if (text === undefined || !/^[0-9]+$/.test(text.trim())) return undefined;
  const n = Number(text.trim());
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * A numeric limit the target claims: FCGI_GET_VALUES first (what the target says of itself now), else the
 * profile's value (`--profile`, or the answer read before the run). Undefined when neither gives one.
 */
export async function claimedLimit(
  ctx: Pick<ScenarioContext, 'connect' | 'timeouts' | 'profile'>,
  name: 'FCGI_MAX_CONNS' | 'FCGI_MAX_REQS',
): Promise<Claim<number> | undefined> {
  const answered = positiveInt((await askValues(ctx, [name]))[name]);
  if (answered !== undefined) return { value: answered, source: 'FCGI_GET_VALUES' };
  const fromProfile = name === 'FCGI_MAX_CONNS' ? ctx.profile.maxConns : ctx.profile.maxReqs;
  return fromProfile === undefined ? undefined : { value: fromProfile, source: 'profile' };
}

// ───────────────────────────── checks ─────────────────────────────

/**
 * For a request a scenario builds on rather than tests (the first of a series, the one before an abort):
 * served → true. Refused with a protocolStatus (e.g. FCGI_OVERLOADED, which §5.5 allows at any time) → the
 * scenario has nothing to test and is skipped. No FCGI_END_REQUEST at all → a violation of
 * FCGI-5.5-end-request-once, and false.
 */
export function expectBaseline(ctx: Pick<ScenarioContext, 'check' | 'skip'>, obs: ResponseObservation, what: string): boolean {
  if (obs.ending === 'end-request') {
    const status = obs.end?.protocolStatus;
    if (status === FCGI_REQUEST_COMPLETE) return true;
    ctx.skip(`${what} was refused with ${protocolStatusName(status ?? -1)}; the scenario needs it served`);
  }
  // §5.5: "The application sends a FCGI_END_REQUEST record to terminate a request, either because the
  // application has processed the request or because the application has rejected the request."
  ctx.check.violation('FCGI-5.5-end-request-once', `${what}: FCGI_END_REQUEST`, describeObservation(obs));
  return false;
}

/**
 * A fresh connection serves a plain request: the application goes on accepting after what the scenario did
 * (the runner checks this too for hostile scenarios; here it is part of the scenario's own verdict). @see §3.5
 */
export async function expectFreshServed(
  ctx: Pick<ScenarioContext, 'connect' | 'check' | 'timeouts'>,
  requirement: RequirementId,
  what: string,
): Promise<boolean> {
  const conn = await ctx.connect();
  try {
    const { obs } = await sendAndRead(conn, { requestId: 1 }, { timeoutMs: ctx.timeouts.replyMs });
    const problem = servedProblem(obs);
    return ctx.check.that(problem === undefined, requirement, `${what}: a plain request on a new connection is served`, problem ?? '');
  } finally {
    conn.close();
  }
}

/**
 * Exactly one FCGI_END_REQUEST for the request, then nothing more for its id during the quiet period.
 * Records violations of `once` (a second END_REQUEST) and `after` (anything else after it). @see §3.3 §5.5
 */
export async function expectNothingAfterEnd(
  ctx: Pick<ScenarioContext, 'check' | 'timeouts'>,
  conn: ScenarioConnection,
  obs: ResponseObservation,
  requirements: { readonly once: RequirementId; readonly after: RequirementId },
): Promise<boolean> {
  if (obs.ending !== 'end-request') return true;
  const more = await conn.readResponse(obs.requestId, ctx.timeouts.quietMs);
  const ends = more.records.filter((r) => r.type === FCGI_END_REQUEST).length;
  const first = more.records[0];
  // §5.4: "This is truly a response from the application, not a low-level acknowledgement from the FastCGI
  // library": one FCGI_END_REQUEST, not an acknowledgement followed by the handler's own.
  const once = ctx.check.that(ends === 0, requirements.once, `one FCGI_END_REQUEST for request ${obs.requestId}`, `${ends + 1} FCGI_END_REQUEST records`);
  // §3.3: the id "becomes inactive when the application sends a record {FCGI_END_REQUEST, R, ...}".
  const quiet = ctx.check.that(
    first === undefined,
    requirements.after,
    `no record for request ${obs.requestId} after its FCGI_END_REQUEST`,
    first ? `${more.records.length} record(s), first ${describeEvent({ kind: 'record', record: first, atMs: 0 })}` : '',
  );
  return once && quiet;
}

/** A short word for how a response ended, for observations. */
export function endingWord(obs: ResponseObservation): string {
  if (obs.ending === 'end-request') return protocolStatusName(obs.end?.protocolStatus ?? -1);
  return outcomeOf(obs);
}

/** Observes under `prefix` how often each word occurs, e.g. `FCGI_REQUEST_COMPLETE ×30, FCGI_OVERLOADED ×2`. */
export function observeCounts(check: Check, prefix: string, words: readonly string[]): void {
  const counts = new Map<string, number>();
  for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  check.observe(prefix, [...counts].map(([w, n]) => `${w} ×${n}`).join(', ') || 'none');
}
