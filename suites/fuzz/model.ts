/**
 * The model of what a conformant application answers to a request plan, and the judge that holds an
 * observation to it. The model reads the records the plan sent the way a conformant application reads them
 * (§3.3: requests become active at FCGI_BEGIN_REQUEST, records of inactive ids are ignored), and for each
 * request allows every outcome the spec allows:
 *
 * - FCGI_REQUEST_COMPLETE for a role the application plays (with `probe`, the answer the probe contract
 *   predicts, unless the request was aborted); FCGI_UNKNOWN_ROLE for a role it does not (an unknown role
 *   number must get it); FCGI_OVERLOADED at any time; FCGI_CANT_MPX_CONN for a request begun while another was
 *   active, or serial service instead (§5.5);
 * - the connection closed once a request without FCGI_KEEP_CONN has been answered, and only then (§5.1);
 * - every management record answered (§4.1, §4.2), records of inactive ids without effect (§3.3).
 *
 * What the application sends is also checked record by record (`StreamValidator`). Records the spec leaves
 * undefined (an undefined type on an active id) make the rest of their connection lenient: after one, the
 * application may do anything but crash or frame its output wrongly. Time order comes from the log: a record
 * counts as sent when the write that completed it was made, as received when its bytes arrived.
 * @see §3.3 §4 §5 §6
 */
import {
  FCGI_ABORT_REQUEST,
  FCGI_BEGIN_REQUEST,
  FCGI_CANT_MPX_CONN,
  FCGI_DATA,
  FCGI_END_REQUEST,
  FCGI_FILTER,
  FCGI_GET_VALUES,
  FCGI_GET_VALUES_RESULT,
  FCGI_KEEP_CONN,
  FCGI_OVERLOADED,
  FCGI_PARAMS,
  FCGI_REQUEST_COMPLETE,
  FCGI_STDERR,
  FCGI_STDIN,
  FCGI_STDOUT,
  FCGI_UNKNOWN_ROLE,
  FCGI_UNKNOWN_TYPE,
  protocolStatusName,
  recordTypeName,
  roleNames,
  type RoleName,
} from '../../spec/constants.ts';
import { requirements, type RequirementId } from '../../spec/requirements.ts';
import type { Finding } from '../../reports/model.ts';
import { decodeBeginRequestBody, decodeEndRequestBody, decodeUnknownTypeBody, type EndRequestBody, type Lenient } from '../../reference/codec/bodies.ts';
import { concatBytes, readHeader, type DecodedRecord, type RecordHeader } from '../../reference/codec/record.ts';
import { decodeNameValuePairs, toText, type NameValuePair } from '../../reference/codec/name-value.ts';
import { StreamValidator } from '../../reference/codec/validate.ts';
import type { CloseKind } from '../../reference/client/raw-connection.ts';
import { compareProbeResponse, expectedProbeResponse, type ProbeCapabilities } from '../../reference/probe/model.ts';
import { verdictForLevel } from '../../harness/context.ts';
import type { Profile } from '../define.ts';
import type { WireConnection, WirePlan } from './plan.ts';

/** The requirements the judge cites, by situation; one table so that aligning with the catalog is one edit. */
export const fuzzRequirements = {
  /** A request was not answered with FCGI_END_REQUEST (or answered twice: the validator). */
  endRequest: 'FCGI-5.5-end-request-once',
  abortEnds: 'FCGI-5.4-abort-ends-request',
  unknownRole: 'FCGI-5.1-unknown-role',
  cantMpx: 'FCGI-5.5-cant-mpx-conn',
  mpxsClaim: 'FCGI-4.1-mpxs-conns',
  keepOpen: 'FCGI-5.1-keep-conn-set-stays-open',
  keepClearCloses: 'FCGI-5.1-keep-conn-clear-closes',
  getValues: 'FCGI-4.1-get-values-any-time',
  onlyNamesAsked: 'FCGI-4.1-only-names-asked',
  unknownType: 'FCGI-4.2-unknown-type-reply',
  unknownTypeBody: 'FCGI-4.2-unknown-type-body',
  probeAnswer: 'FCGI-3.3-stream-value-app',
  appStatus: 'FCGI-6.2-app-status-exit',
  paramsBeforeOutput: 'FCGI-6.2-params-before-output',
  stdinBeforeOutput: 'FCGI-6.4-stdin-before-output',
  filterOrUnknownRole: 'FCGI-6.4-filter-or-unknown-role',
  liveness: 'FCGI-3.5-accept-after-close',
} as const satisfies Record<string, RequirementId>;

/** What the judge needs to know about the target and the run. */
export interface ModelOptions {
  readonly profile: Profile;
  /** FCGI_MPXS_CONNS as the target answered it ("0", "1"), undefined when it did not. @see §4.1 */
  readonly mpxsConns?: string;
  /**
   * appStatus checks with the probe: `exact` (the reference probe sets PROBE_EXIT), or `lenient` (0 is
   * accepted: PHP cannot set it).
   */
  readonly appStatus: 'exact' | 'lenient';
  readonly strict: boolean;
}

/** One entry of a connection's log: what was written, received, or happened, stamped in ms since it opened. */
export type LogItem =
  | { readonly kind: 'send'; readonly atMs: number; readonly batch: number; readonly bytes: Uint8Array; readonly barrier?: boolean }
  | { readonly kind: 'record'; readonly atMs: number; readonly record: DecodedRecord }
  | { readonly kind: 'closed'; readonly atMs: number; readonly how: CloseKind; readonly detail?: string }
  | { readonly kind: 'mark'; readonly atMs: number; readonly text: string };

/** How observing a connection ended. */
export type ObservedUntil = 'closed' | 'barrier' | 'quiet' | 'close-wait' | 'batch-timeout' | 'write-timeout' | 'barrier-timeout' | 'connect-failed' | 'stopped';

/** Everything observed on one connection of a case. */
export interface ConnectionObservation {
  readonly log: readonly LogItem[];
  /** Bytes received that do not complete a record. */
  readonly pendingBytes: number;
  readonly observedUntil: ObservedUntil;
  /** The error when the connection could not be opened. */
  readonly connectError?: string;
  /** When the connection opened, ms since the case started. */
  readonly openedAtMs: number;
}

/** What the judge concluded about a case. */
export interface Judgement {
  readonly findings: readonly Finding[];
  readonly observations: Readonly<Record<string, string | number | boolean>>;
}

const levelOf = (id: RequirementId): 'must' | 'should' | 'may' | 'info' => (requirements as Record<string, { level: 'must' | 'should' | 'may' | 'info' } | undefined>)[id]?.level ?? 'must';

/** Capabilities the probe answers are compared with: FCGI_STDERR need only contain the text (PHP decorates it). */
const probeCapabilities: ProbeCapabilities = { data: true, appStatus: false, stderr: 'contains' };

interface Incarnation {
  readonly id: number;
  readonly batch: number;
  readonly role: number;
  readonly keepConn: boolean;
  readonly lenient: boolean;
  /** Sequence number of the BEGIN_REQUEST send. */
  readonly begunAt: number;
  /** Requests of the connection not known to have ended when this one began. */
  readonly concurrentWith: Incarnation[];
  readonly params: Uint8Array[];
  readonly stdin: Uint8Array[];
  readonly data: Uint8Array[];
  paramsEnded: boolean;
  stdinEnded: boolean;
  dataEnded: boolean;
  aborted: boolean;
  /** Set once a record the spec leaves undefined was sent for it. */
  tainted: boolean;
  readonly stdout: Uint8Array[];
  readonly stderr: Uint8Array[];
  endAt: number | undefined;
  end: Lenient<EndRequestBody> | undefined;
  outputEarly: boolean;
  /** Requests with records sent on the connection while this one's input was still coming. */
  interleaved: number[];
}

type Query = { readonly kind: 'get-values'; readonly names: readonly string[] } | { readonly kind: 'unknown-type'; readonly type: number } | { readonly kind: 'barrier' };

/** Judges a whole case: each connection against the model, with the plan that was sent. */
export function judgeCase(wire: WirePlan, observations: readonly ConnectionObservation[], options: ModelOptions): Judgement {
  const findings: Finding[] = [];
  const notes: Record<string, string | number | boolean> = {};
  observations.forEach((obs, i) => {
    const c = wire.connections[i];
    if (c === undefined) return;
    const j = judgeConnection(c, obs, options, i);
    findings.push(...j.findings);
    Object.assign(notes, j.observations);
  });
  return { findings: dedupe(findings), observations: notes };
}

function dedupe(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.requirement}\u0000${f.expected}\u0000${f.actual}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Log items in time order; at equal times a write comes before what was received. */
export function orderedLog(log: readonly LogItem[]): LogItem[] {
  const rank = (i: LogItem): number => (i.kind === 'send' ? 0 : i.kind === 'mark' ? 1 : 2);
  return log.map((item, index) => ({ item, index })).sort((a, b) => a.item.atMs - b.item.atMs || rank(a.item) - rank(b.item) || a.index - b.index).map((x) => x.item);
}

/** Whether a close ends the observation of a connection with the peer's doing (not ours). */
function peerClose(item: LogItem): item is Extract<LogItem, { kind: 'closed' }> {
  return item.kind === 'closed' && item.how !== 'local';
}

/**
 * The records of our own byte stream, each handed out as soon as its content is complete: a receiver can act on
 * a record before its padding arrives, so that is when it counts as sent.
 */
export class SentRecords {
  readonly #header = new Uint8Array(8);
  #headerFill = 0;
  #head: RecordHeader | undefined;
  #content: Uint8Array[] = [];
  #contentFill = 0;
  #padLeft = 0;
  #offset = 0;
  #start = 0;

  /**
   * Feeds bytes; returns the records whose content they completed. `onHeader` and `onRecord` see each header and
   * record as it completes, in stream order.
   */
  push(bytes: Uint8Array, onHeader?: (header: RecordHeader) => void, onRecord?: (record: DecodedRecord) => void): DecodedRecord[] {
    const out: DecodedRecord[] = [];
    let at = 0;
    while (at < bytes.length) {
      if (this.#padLeft > 0) {
        const n = Math.min(this.#padLeft, bytes.length - at);
        this.#padLeft -= n;
        at += n;
        continue;
      }
      if (this.#head === undefined) {
        const n = Math.min(8 - this.#headerFill, bytes.length - at);
        if (this.#headerFill === 0) this.#start = this.#offset + at;
        this.#header.set(bytes.subarray(at, at + n), this.#headerFill);
        this.#headerFill += n;
        at += n;
        if (this.#headerFill < 8) continue;
        this.#head = readHeader(this.#header);
        this.#content = [];
        this.#contentFill = 0;
        onHeader?.(this.#head);
      }
      const head = this.#head;
      const n = Math.min(head.contentLength - this.#contentFill, bytes.length - at);
      if (n > 0) this.#content.push(bytes.subarray(at, at + n));
      this.#contentFill += n;
      at += n;
      if (this.#contentFill < head.contentLength) continue;
      const record: DecodedRecord = {
        version: head.version,
        type: head.type,
        requestId: head.requestId,
        content: concatBytes(this.#content),
        paddingLength: head.paddingLength,
        reserved: head.reserved,
        padding: new Uint8Array(0),
        offset: this.#start,
      };
      out.push(record);
      onRecord?.(record);
      this.#head = undefined;
      this.#headerFill = 0;
      this.#padLeft = head.paddingLength;
    }
    this.#offset += bytes.length;
    return out;
  }
}

/** Judges one connection. */
export function judgeConnection(wire: WireConnection, obs: ConnectionObservation, options: ModelOptions, index: number): Judgement {
  const out: Finding[] = [];
  const notes: Record<string, string | number | boolean> = {};
  const conn = `connection ${index}`;
  const add = (requirement: RequirementId, expected: string, actual: string): void => {
    out.push({ requirement, verdict: verdictForLevel(levelOf(requirement), options.strict), expected, actual: `${conn}: ${actual}` });
  };
  if (obs.connectError !== undefined) {
    add(fuzzRequirements.liveness, 'the target accepts the connection', `cannot connect: ${obs.connectError}`);
    return { findings: out, observations: notes };
  }

  const { profile } = options;
  const validator = new StreamValidator('application', { peerObserved: true });
  const sent = new SentRecords();
  const incs: Incarnation[] = [];
  const current = new Map<number, Incarnation>();
  const queries: Query[] = [];
  let taint: string | undefined;
  let closed: Extract<LogItem, { kind: 'closed' }> | undefined;
  let barrierAnswered = false;
  let seq = 0;
  // Whether a request with FCGI_KEEP_CONN clear, and one with it set, had been answered (when the peer closed).
  let clearAnswered = false;
  let setAnswered = false;
  let closeAfter: { clear: boolean; set: boolean } | undefined;
  // Writes of the plan the peer's close kept from it.
  let cutShort = 0;
  // The requests active when each BEGIN_REQUEST's header was sent: the application may act on the header alone.
  const begunWith = new Map<number, Incarnation[]>();

  // After a record the spec leaves undefined, every request not yet answered may have been disturbed by it.
  const markTaint = (why: string, inc?: Incarnation): void => {
    if (inc) inc.tainted = true;
    for (const x of incs) if (x.endAt === undefined) x.tainted = true;
    if (taint === undefined) {
      taint = why;
      notes[`${conn} lenient after`] = why;
    }
  };

  const onSent = (r: DecodedRecord, batch: number, barrier: boolean): void => {
    seq++;
    validator.observePeer(r);
    if (r.requestId === 0) {
      if (barrier) queries.push({ kind: 'barrier' });
      else if (r.type === FCGI_GET_VALUES) {
        queries.push({ kind: 'get-values', names: decodeNameValuePairs(r.content, { maxPairs: 1000 }).pairs.map((p) => toText(p.name)) });
      } else queries.push({ kind: 'unknown-type', type: r.type });
      return;
    }
    const inc = current.get(r.requestId);
    const active = inc !== undefined && inc.endAt === undefined;
    if (r.type === FCGI_BEGIN_REQUEST) {
      if (active) markTaint(`FCGI_BEGIN_REQUEST for active request ${r.requestId}`, inc);
      const body = decodeBeginRequestBody(r.content);
      const next: Incarnation = {
        id: r.requestId,
        batch,
        role: body.role,
        keepConn: (body.flags & FCGI_KEEP_CONN) !== 0,
        lenient: taint !== undefined || r.content.length !== 8,
        begunAt: seq,
        concurrentWith: begunWith.get(r.requestId) ?? incs.filter((x) => x.endAt === undefined && !x.lenient),
        params: [],
        stdin: [],
        data: [],
        paramsEnded: false,
        stdinEnded: false,
        dataEnded: false,
        aborted: false,
        tainted: false,
        stdout: [],
        stderr: [],
        endAt: undefined,
        end: undefined,
        outputEarly: false,
        interleaved: [],
      };
      incs.push(next);
      current.set(r.requestId, next);
      return;
    }
    // §3.3: records of an inactive id are ignored: nothing to expect of them, except that they change nothing.
    if (!active) return;
    const empty = r.content.length === 0;
    switch (r.type) {
      case FCGI_ABORT_REQUEST:
        inc.aborted = true;
        return;
      case FCGI_PARAMS:
        if (inc.paramsEnded) return markTaint(`FCGI_PARAMS after its end for request ${r.requestId}`, inc);
        if (empty) inc.paramsEnded = true;
        else inc.params.push(r.content);
        return;
      case FCGI_STDIN:
        if (!inc.paramsEnded || inc.stdinEnded) return markTaint(`FCGI_STDIN out of order for request ${r.requestId}`, inc);
        if (empty) inc.stdinEnded = true;
        else inc.stdin.push(r.content);
        return;
      case FCGI_DATA:
        if (inc.role !== FCGI_FILTER || !inc.stdinEnded || inc.dataEnded) return markTaint(`FCGI_DATA out of order for request ${r.requestId}`, inc);
        if (empty) inc.dataEnded = true;
        else inc.data.push(r.content);
        return;
      default:
        return markTaint(`${recordTypeName(r.type)} on active request ${r.requestId}`, inc);
    }
  };

  // An application may act on a record's header before its content arrives (take a BEGIN_REQUEST header as the end
  // of the params before it, say): what a record may disturb, it may disturb from its header on.
  const onHeader = (h: RecordHeader, barrier: boolean): void => {
    if (barrier || h.requestId === 0) return;
    const inc = current.get(h.requestId);
    const active = inc !== undefined && inc.endAt === undefined;
    // A record of another active request amid a request's input interleaves the two (what FCGI_MPXS_CONNS "0"
    // refuses); a record of an inactive id must simply change nothing.
    if (active || h.type === FCGI_BEGIN_REQUEST) {
      for (const other of incs) {
        if (other.endAt === undefined && !inputComplete(other) && other.id !== h.requestId && !other.interleaved.includes(h.requestId)) other.interleaved.push(h.requestId);
      }
    }
    if (h.type === FCGI_BEGIN_REQUEST) {
      begunWith.set(h.requestId, incs.filter((x) => x.endAt === undefined && !x.lenient));
    } else if (active && h.type !== FCGI_ABORT_REQUEST && h.type !== FCGI_PARAMS && h.type !== FCGI_STDIN && h.type !== FCGI_DATA) {
      markTaint(`${recordTypeName(h.type)} on active request ${h.requestId}`, inc);
    }
  };

  const onReceived = (r: DecodedRecord): void => {
    for (const f of validator.push(r)) add(f.requirement, f.expected, f.actual);
    if (r.requestId === 0) {
      if (r.type === FCGI_GET_VALUES_RESULT) {
        const i = queries.findIndex((q) => q.kind === 'get-values' || q.kind === 'barrier');
        const q = queries[i];
        if (q === undefined) return add(fuzzRequirements.getValues, 'one FCGI_GET_VALUES_RESULT per FCGI_GET_VALUES', 'an FCGI_GET_VALUES_RESULT nobody asked for');
        queries.splice(i, 1);
        if (q.kind === 'barrier') {
          barrierAnswered = true;
          return;
        }
        if (q.kind === 'get-values') {
          const got = decodeNameValuePairs(r.content, { maxPairs: 1000 }).pairs.map((p) => toText(p.name));
          const extra = got.filter((n) => !q.names.includes(n));
          if (extra.length > 0) add(fuzzRequirements.onlyNamesAsked, `only the names asked (${q.names.join(', ') || 'none'})`, `FCGI_GET_VALUES_RESULT also names ${extra.join(', ')}`);
        }
      } else if (r.type === FCGI_UNKNOWN_TYPE) {
        const i = queries.findIndex((q) => q.kind === 'unknown-type');
        const q = queries[i];
        if (q === undefined || q.kind !== 'unknown-type') return add(fuzzRequirements.unknownType, 'FCGI_UNKNOWN_TYPE only in answer to a management record', 'an FCGI_UNKNOWN_TYPE nobody asked for');
        queries.splice(i, 1);
        const type = decodeUnknownTypeBody(r.content).type;
        if (type !== q.type) add(fuzzRequirements.unknownTypeBody, `{FCGI_UNKNOWN_TYPE, 0, {${q.type}}}`, `FCGI_UNKNOWN_TYPE names type ${type}`);
      }
      return;
    }
    const inc = current.get(r.requestId);
    if (inc === undefined || inc.endAt !== undefined) return; // the validator has reported it
    switch (r.type) {
      case FCGI_STDOUT:
      case FCGI_STDERR:
        (r.type === FCGI_STDOUT ? inc.stdout : inc.stderr).push(r.content);
        if (r.content.length > 0 && !inc.aborted && (inc.role === FCGI_FILTER ? !inc.stdinEnded : !inc.paramsEnded)) inc.outputEarly = true;
        return;
      case FCGI_END_REQUEST:
        inc.endAt = seq;
        inc.end = decodeEndRequestBody(r.content);
        if (inc.keepConn) setAnswered = true;
        else clearAnswered = true;
        return;
    }
  };

  for (const item of orderedLog(obs.log)) {
    if (barrierAnswered) break;
    if (item.kind === 'send') {
      // Writes after the peer closed never reached it.
      if (closed) {
        cutShort++;
        continue;
      }
      sent.push(
        item.bytes,
        (h) => onHeader(h, item.barrier === true),
        (r) => onSent(r, item.batch, item.barrier === true),
      );
    } else if (item.kind === 'record') {
      seq++;
      onReceived(item.record);
    } else if (peerClose(item) && closed === undefined) {
      closed = item;
      closeAfter = { clear: clearAnswered, set: setAnswered };
    }
  }

  // ── per request ──
  // A request whose input never completed has nothing to wait for, unless the application closed the connection
  // while the input was still being sent and no answer to a request without FCGI_KEEP_CONN allowed it to (§5.1):
  // then it abandoned its active requests.
  const closedMidInput = closed !== undefined && cutShort > 0 && closeAfter?.clear !== true;
  const claim = options.mpxsConns?.trim();
  for (const inc of incs) {
    const what = `request ${inc.id} (batch ${inc.batch}, role ${roleLabel(inc.role)}${inc.keepConn ? ', FCGI_KEEP_CONN' : ''}${inc.aborted ? ', aborted' : ''})`;
    const known = roleNames[inc.role as keyof typeof roleNames] as RoleName | undefined;
    const claimed = known !== undefined && profile.roles.includes(known);
    const lenient = inc.lenient || inc.tainted;
    // A target that does not multiplex and mixes up the records of a request that came amid another's input breaks
    // §5.5 (it should have refused the second with FCGI_CANT_MPX_CONN): what goes wrong with the first is reported
    // as that.
    const disturbed = !profile.multiplex && inc.interleaved.length > 0;
    const blame = (requirement: RequirementId, expected: string, actual: string): void => {
      if (disturbed) add(fuzzRequirements.cantMpx, `${expected}, or FCGI_CANT_MPX_CONN for request ${inc.interleaved.join(', ')}, whose records came amid its input`, actual);
      else add(requirement, expected, actual);
    };

    if (inc.outputEarly && !lenient) {
      if (inc.role === FCGI_FILTER) {
        // A Filter the profile does not claim may be refused (§5.5), not played as a Responder (§6.4).
        blame(claimed ? fuzzRequirements.stdinBeforeOutput : fuzzRequirements.filterOrUnknownRole, `no FCGI_STDOUT or FCGI_STDERR data for ${what} before its FCGI_STDIN ended`, 'output arrived before the empty FCGI_STDIN record was sent');
      } else blame(fuzzRequirements.paramsBeforeOutput, `no FCGI_STDOUT or FCGI_STDERR data for ${what} before its FCGI_PARAMS ended`, 'output arrived before the empty FCGI_PARAMS record was sent');
    }
    if (lenient) continue;
    const inputDone = inc.paramsEnded && inc.stdinEnded && (inc.role !== FCGI_FILTER || inc.dataEnded);
    const end = inc.end;
    if (end === undefined) {
      const inputCut = !inputDone && !inc.aborted;
      if (inputCut && !closedMidInput) continue;
      const ending = inputCut && closed
        ? `the connection closed (${closed.how}) while its input was still being sent (${cutShort} write(s) of the plan left unsent), with no FCGI_END_REQUEST`
        : closed
        ? `the connection closed (${closed.how}${closed.how === 'reset' ? ', so what was in flight may be lost' : ''}) before FCGI_END_REQUEST`
        : obs.observedUntil === 'write-timeout'
          ? 'no FCGI_END_REQUEST, and the application stopped reading its input (a write was not taken)'
          : 'no FCGI_END_REQUEST before the case gave up waiting';
      if (known === undefined) add(fuzzRequirements.unknownRole, `{FCGI_END_REQUEST, ${inc.id}, {0, FCGI_UNKNOWN_ROLE}} for ${what}`, ending);
      else if (inc.concurrentWith.length > 0 && !profile.multiplex) {
        add(fuzzRequirements.cantMpx, `FCGI_END_REQUEST for ${what}, begun while request ${inc.concurrentWith.map((c) => c.id).join(', ')} was active: served, or rejected with FCGI_CANT_MPX_CONN`, ending);
      } else if (inc.aborted) blame(fuzzRequirements.abortEnds, `{FCGI_END_REQUEST, ${inc.id}, {appStatus, FCGI_REQUEST_COMPLETE}} for ${what} after FCGI_ABORT_REQUEST`, ending);
      else blame(fuzzRequirements.endRequest, `FCGI_END_REQUEST for ${what}`, ending);
      continue;
    }
    const status = end.protocolStatus;
    const endedAfter = (other: Incarnation): boolean => other.endAt === undefined || other.endAt > (inc.endAt ?? 0);
    switch (status) {
      case FCGI_REQUEST_COMPLETE: {
        if (known === undefined) {
          add(fuzzRequirements.unknownRole, `{FCGI_END_REQUEST, ${inc.id}, {0, FCGI_UNKNOWN_ROLE}} for ${what}`, `FCGI_REQUEST_COMPLETE: the unknown role ${inc.role} was served`);
          break;
        }
        const overlapped = inc.concurrentWith.filter((o) => endedAfter(o) && o.end?.protocolStatus !== FCGI_UNKNOWN_ROLE);
        if (claim === '0' && overlapped.length > 0) {
          add(
            fuzzRequirements.mpxsClaim,
            `FCGI_MPXS_CONNS "0": ${what}, begun while request ${overlapped.map((o) => o.id).join(', ')} was active, rejected with FCGI_CANT_MPX_CONN or served after it`,
            `served while request ${overlapped.map((o) => o.id).join(', ')} was still active (its FCGI_END_REQUEST came later)`,
          );
        }
        if (profile.probe && claimed && !inc.aborted && inputDone) checkProbe(inc, what, options, blame);
        break;
      }
      case FCGI_CANT_MPX_CONN: {
        if (inc.concurrentWith.length === 0) {
          add(fuzzRequirements.cantMpx, `FCGI_CANT_MPX_CONN only for a request begun while another is active; ${what} was the only one`, 'FCGI_END_REQUEST with FCGI_CANT_MPX_CONN');
          break;
        }
        const still = inc.concurrentWith.filter(endedAfter);
        if (claim === '1' && still.length > 0) {
          add(fuzzRequirements.mpxsClaim, `FCGI_MPXS_CONNS "1": ${what} served alongside request ${still.map((o) => o.id).join(', ')}`, 'rejected with FCGI_CANT_MPX_CONN');
        }
        notes[`${conn} request ${inc.id}`] = 'FCGI_CANT_MPX_CONN';
        break;
      }
      case FCGI_OVERLOADED:
        notes[`${conn} request ${inc.id}`] = 'FCGI_OVERLOADED';
        break;
      case FCGI_UNKNOWN_ROLE:
        if (claimed) add(fuzzRequirements.unknownRole, `FCGI_REQUEST_COMPLETE for ${what}: the profile says the target plays the ${known} role`, 'rejected with FCGI_UNKNOWN_ROLE');
        break;
      default:
        break; // the validator reported the undefined protocolStatus
    }
  }

  // ── management records ──
  const unanswered = queries.filter((q) => q.kind !== 'barrier');
  if (taint === undefined) {
    for (const q of unanswered) {
      const ending = closed ? `the connection closed (${closed.how}) first` : 'no answer before the case gave up waiting';
      if (q.kind === 'get-values') add(fuzzRequirements.getValues, `FCGI_GET_VALUES_RESULT for FCGI_GET_VALUES (${q.names.join(', ') || 'no names'})`, ending);
      else if (q.kind === 'unknown-type') add(fuzzRequirements.unknownType, `{FCGI_UNKNOWN_TYPE, 0, {${q.type}}} for the management record of type ${q.type}`, ending);
    }
  }

  // ── the connection's lifetime (§5.1) ──
  const pendingIncs = incs.filter((inc) => !inc.lenient && !inc.tainted && inc.end === undefined && (inc.aborted || (inc.paramsEnded && inc.stdinEnded)));
  const pending = pendingIncs.length > 0;
  // A close is the application's to make only after answering a request without FCGI_KEEP_CONN: one that follows
  // the answer to a request with it, and none without it, breaks §5.1. (The requests it left unanswered are
  // reported above; the close is reported too, as the cause they share.)
  if (closed && closeAfter && taint === undefined && profile.keepConn && closeAfter.set && !closeAfter.clear) {
    const last = incs.filter((x) => x.endAt !== undefined).at(-1);
    const left = pending ? `, leaving request ${pendingIncs.map((x) => x.id).join(', ')} unanswered` : '';
    add(
      fuzzRequirements.keepOpen,
      'the connection left open after the answer to a request with FCGI_KEEP_CONN set (and none without it)',
      `the application closed it (${closed.how})${last ? ` after answering request ${last.id}` : ''}${left}`,
    );
  }
  const closeExpected = closingBatch(wire);
  if (!closed && obs.observedUntil === 'close-wait' && closeExpected && taint === undefined && !pending) {
    add(fuzzRequirements.keepClearCloses, 'the application closes the connection after answering the last request (flags 0)', 'the connection stayed open');
  }

  // ── leftover bytes ──
  // After a reset, bytes in flight may have been dropped by the transport: an unfinished record proves nothing.
  if (closed?.how !== 'reset') {
    for (const f of validator.end(obs.pendingBytes)) add(f.requirement, f.expected, `${f.actual}${closed ? ' at the close' : ' at the end of the case'}`);
  }
  return { findings: out, observations: notes };
}

function inputComplete(inc: Incarnation): boolean {
  return inc.aborted || (inc.paramsEnded && inc.stdinEnded && (inc.role !== FCGI_FILTER || inc.dataEnded));
}

/** Whether a connection's last batch lets the application close: one request with FCGI_KEEP_CONN clear. */
export function closingBatch(wire: WireConnection): boolean {
  const last = wire.batches.at(-1);
  return last !== undefined && last.requests.length === 1 && last.requests[0]!.keepConn === false;
}

function roleLabel(role: number): string {
  return (roleNames as Record<number, string | undefined>)[role] ?? `${role} (unknown)`;
}

function checkProbe(inc: Incarnation, what: string, options: ModelOptions, add: (r: RequirementId, e: string, a: string) => void): void {
  const role = roleNames[inc.role as keyof typeof roleNames] as RoleName;
  const { pairs, error } = decodeNameValuePairs(concatBytes(inc.params));
  if (error) return;
  const expected = expectedProbeResponse(role, pairs as NameValuePair[], concatBytes(inc.stdin), concatBytes(inc.data), probeCapabilities);
  const stdout = concatBytes(inc.stdout);
  const stderr = concatBytes(inc.stderr);
  const problems = compareProbeResponse(expected, { stdout, ...(expected.stderr.length > 0 ? { stderr } : {}) });
  if (problems.length > 0) add(fuzzRequirements.probeAnswer, `${what}: the probe's answer as the contract predicts (status ${expected.status}, ${expected.body.length}-byte body)`, problems.join('; '));
  const want = expectedProbeResponse(role, pairs as NameValuePair[], new Uint8Array(0), new Uint8Array(0), { ...probeCapabilities, appStatus: true }).appStatus ?? 0;
  const got = inc.end?.appStatus ?? 0;
  // A probe that cannot set appStatus (PHP) always sends 0; anything else must be PROBE_EXIT.
  if (got !== want && !(options.appStatus === 'lenient' && got === 0)) add(fuzzRequirements.appStatus, `appStatus ${want} for ${what}`, `appStatus ${got}`);
}

/** The fail- and warn-level requirement ids of findings: what makes a case a failure. */
export function failingRequirements(findings: readonly Finding[]): RequirementId[] {
  return [...new Set(findings.filter((f) => f.verdict === 'fail' || f.verdict === 'warn' || f.verdict === 'error').map((f) => f.requirement))].sort();
}

/** A one-line statement of a protocolStatus, for notes. */
export function statusLabel(status: number): string {
  return protocolStatusName(status);
}
