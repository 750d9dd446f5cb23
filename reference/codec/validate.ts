/**
 * Judges records one direction at a time. Separate from decoding (the codec frames anything); returns findings,
 * never throws. Each finding cites a catalog requirement; its level (must/should) lives in the catalog.
 *
 * A validator sees the bytes ONE side sent. Request ids become active when the application receives
 * FCGI_BEGIN_REQUEST and inactive when it sends FCGI_END_REQUEST (§3.3), so exact id tracking needs both
 * directions: pass the other side's records to `observePeer` (option `peerObserved`). Without them the
 * validator only reports what one direction proves on its own.
 * @see §3.3 §3.4 §4 §5 §6.1 Appendix A
 */
import {
  FCGI_ABORT_REQUEST,
  FCGI_BEGIN_REQUEST,
  FCGI_DATA,
  FCGI_END_REQUEST,
  FCGI_FILTER,
  FCGI_FIXED_BODY_LEN,
  FCGI_GET_VALUES,
  FCGI_GET_VALUES_RESULT,
  FCGI_HEADER_LEN,
  FCGI_KEEP_CONN,
  FCGI_NULL_REQUEST_ID,
  FCGI_PARAMS,
  FCGI_REQUEST_COMPLETE,
  FCGI_STDERR,
  FCGI_STDIN,
  FCGI_STDOUT,
  FCGI_UNKNOWN_ROLE,
  FCGI_UNKNOWN_TYPE,
  FCGI_VERSION_1,
  propertiesOf,
  protocolStatusName,
  recordTypeName,
  roleNames,
} from '../../spec/constants.ts';
import type { RequirementId } from '../../spec/requirements.ts';
import { decodeBeginRequestBody, decodeEndRequestBody, decodeUnknownTypeBody } from './bodies.ts';
import { toText, type NameValueError } from './name-value.ts';
import { RecordDecoder, type DecodedRecord } from './record.ts';
import { StreamAssembler, type AssemblerLimits } from './stream-assembler.ts';

/** One thing the bytes got wrong. `offset` is the stream offset of the offending byte (or record). */
export interface ValidationFinding {
  readonly requirement: RequirementId;
  readonly expected: string;
  readonly actual: string;
  readonly offset: number;
  readonly requestId?: number;
}

/** The side that sent the bytes a validator sees. */
export type SenderSide = 'web-server' | 'application';

/**
 * The requirement each check cites; one table, so aligning with the catalog is one edit. Where the catalog
 * has no entry for exactly the check, the closest one is used (noted).
 */
export const validationRequirements = {
  /** Trailing bytes that do not complete a record. */
  recordFraming: 'FCGI-3.3-records-only',
  version: 'FCGI-3.3-version-1',
  headerReserved: 'FCGI-3.3-reserved-zero',
  paddingAligned: 'FCGI-3.3-align-8',
  /** A defined type sent by the side that only receives it. */
  direction: 'FCGI-A-record-direction',
  /** An undefined type sent by the web server: the catalog records it under the application's handling of it. */
  unknownTypeFromWebServer: 'FCGI-X-unknown-app-type-app',
  /** An undefined type sent by the application: recorded under the web server's handling of it. */
  unknownTypeFromApplication: 'FCGI-X-unknown-app-type-web-server',
  /** Application types on id 0, management types on a non-zero id. */
  requestIdClass: 'FCGI-3.3-management-null-id',
  /** A stream record after its terminator, or a second terminator. */
  nothingAfterTerminator: 'FCGI-3.3-nothing-after-terminator',
  /** A stream with data that ends (END_REQUEST) without its empty record. */
  streamTerminator: 'FCGI-3.3-stream-terminator',
  /** The application sent a record for an id that is not active (a second END_REQUEST included). */
  applicationInactiveId: 'FCGI-3.3-no-records-after-end',
  /** The web server sent a record for an id it has not begun (or, with the peer observed, that has ended). */
  webServerInactiveId: 'FCGI-5.1-begin-request-starts',
  beginBodyLength: 'FCGI-5.1-begin-request-starts',
  role: 'FCGI-5.1-role-values',
  /** Undefined flag bits and the five reserved bytes of the BEGIN_REQUEST body. */
  beginReserved: 'FCGI-5.1-flags-reserved-zero',
  beginActiveId: 'FCGI-3.3-web-server-waits-for-end',
  /** ABORT_REQUEST with a body, or for an id that is not active. */
  abortRecord: 'FCGI-5.4-abort-record',
  dataOnlyForFilter: 'FCGI-5.3-data-stream',
  /** END_REQUEST body length, and protocolStatus 0..3. */
  endBody: 'FCGI-5.5-end-body',
  endReserved: 'FCGI-5.5-end-reserved-zero',
  /** A request completed (not aborted) without any STDOUT stream. */
  stdoutSent: 'FCGI-6.1-stdout-sent',
  stderrTerminated: 'FCGI-X-stderr-terminated',
  inputsSequential: 'FCGI-6.1-inputs-sequential',
  /** A PARAMS stream that is not whole pairs (a pair cut short by the terminator), or passes the parse limits. */
  paramsPairs: 'FCGI-5.2-params-pairs',
  getValuesQuery: 'FCGI-4.1-get-values-form',
  getValuesResult: 'FCGI-4.1-get-values-answered',
  unknownTypeBody: 'FCGI-4.2-unknown-type-body',
  unknownTypeReserved: 'FCGI-4.2-unknown-type-reserved-zero',
} as const satisfies Record<string, RequirementId>;

/** Names of the checks a validator makes. */
export type ValidationCheck = keyof typeof validationRequirements;

/** Options of a `StreamValidator`. */
export interface ValidatorOptions {
  /**
   * The caller passes every record the other side sent to `observePeer`, in the order it was observed
   * relative to this side's records. Then request-id state is exact; without it, id checks are partial.
   */
  readonly peerObserved?: boolean;
  /** Bounds on PARAMS parsing; reaching one is a finding. */
  readonly limits?: Partial<Omit<AssemblerLimits, 'maxStreamBytes'>>;
}

const bit = (type: number): number => 1 << type;

// What one direction has shown about a request id.
interface IdState {
  active: boolean;
  ended: boolean; // an END_REQUEST for this id was seen (from either side)
  role: number;
  aborted: boolean;
  terminated: number; // bit per stream type: empty record seen
  data: number; // bit per stream type: non-empty record seen
  orderReported: number; // bit per stream type that was reported out of order
  dataRoleReported: boolean;
}

function newIdState(role = 0): IdState {
  return { active: true, ended: false, role, aborted: false, terminated: 0, data: 0, orderReported: 0, dataRoleReported: false };
}

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function describeNameValueError(error: NameValueError): string {
  switch (error.kind) {
    case 'truncated':
      return `a pair cut short: ${error.missing} more byte(s) declared than the stream holds`;
    case 'pair-too-long':
      return `a declared name or value length of ${error.declared} bytes (limit ${error.limit})`;
    case 'too-many-pairs':
      return `more than ${error.limit} pairs`;
    case 'too-many-bytes':
      return `more than ${error.limit} bytes of names and values`;
  }
}

/**
 * Validates the records one side sends, in order. Stateful (streams, request ids); never throws.
 * @see §3.3 §5 §6.1
 */
export class StreamValidator {
  readonly #sender: SenderSide;
  readonly #peerObserved: boolean;
  readonly #ids = new Map<number, IdState>();
  readonly #params: StreamAssembler;
  #nextOffset = 0;

  constructor(sender: SenderSide, options: ValidatorOptions = {}) {
    this.#sender = sender;
    this.#peerObserved = options.peerObserved ?? false;
    this.#params = new StreamAssembler({ ...options.limits, maxStreamBytes: Number.POSITIVE_INFINITY });
  }

  /** The side whose records `push` judges. */
  get sender(): SenderSide {
    return this.#sender;
  }

  // The record `push` is judging and its findings, for `#add`: one closure per validator, not one per record
  // (`fcgispec bench` pushes every record of a load run through here, and a closure per call was most of it).
  #record: DecodedRecord | undefined;
  #out: ValidationFinding[] = [];
  readonly #add: AddFinding = (check, expected, actual, offset) => {
    const record = this.#record!;
    this.#out.push({ requirement: validationRequirements[check], expected, actual, offset: offset ?? record.offset, requestId: record.requestId });
  };

  /** Checks one record this side sent; returns what it got wrong. */
  push(record: DecodedRecord): ValidationFinding[] {
    const out: ValidationFinding[] = [];
    this.#record = record;
    this.#out = out;
    const add = this.#add;
    const { type, requestId, offset } = record;
    const contentLength = record.content.length;
    const name = recordTypeName(type);
    this.#nextOffset = Math.max(this.#nextOffset, offset + FCGI_HEADER_LEN + contentLength + record.paddingLength);

    // "version: Identifies the FastCGI protocol version. This specification documents FCGI_VERSION_1." (§3.3)
    if (record.version !== FCGI_VERSION_1) add('version', `version ${FCGI_VERSION_1} (FCGI_VERSION_1)`, `version ${record.version} on ${name}`);
    if (record.reserved !== 0) add('headerReserved', 'header reserved byte 0', `0x${hex(Uint8Array.of(record.reserved))} on ${name}`, offset + 7);
    // "We recommend that records be placed on boundaries that are multiples of eight bytes." (§3.3)
    const size = FCGI_HEADER_LEN + contentLength + record.paddingLength;
    if (size % 8 !== 0) {
      add('paddingAligned', 'record length (8 + content + padding) a multiple of 8', `${size} bytes (content ${contentLength}, padding ${record.paddingLength}) on ${name}`);
    }

    const props = propertiesOf(type);
    if (props === undefined) {
      add(
        this.#sender === 'web-server' ? 'unknownTypeFromWebServer' : 'unknownTypeFromApplication',
        'a record type defined by FastCGI 1.0 (1..11)',
        `type ${type} on request id ${requestId}`,
      );
      return out;
    }
    if (props.sender !== this.#sender) {
      add(
        'direction',
        `only ${this.#sender === 'web-server' ? 'web server → application' : 'application → web server'} record types (Appendix A)`,
        `${name} sent by the ${this.#sender === 'web-server' ? 'web server' : 'application'}`,
      );
      return out;
    }
    // "Management records have a requestId value of zero ... Application records have a nonzero requestId." (§3.3)
    if (props.management !== (requestId === FCGI_NULL_REQUEST_ID)) {
      add(
        'requestIdClass',
        props.management ? `${name} (a management record) on request id 0` : `${name} (an application record) on a non-zero request id`,
        `${name} on request id ${requestId}`,
      );
      if (props.management) return out;
    }

    switch (type) {
      case FCGI_GET_VALUES:
      case FCGI_GET_VALUES_RESULT:
        this.#management(record, add);
        break;
      case FCGI_UNKNOWN_TYPE:
        this.#fixedBody(record, 'unknownTypeBody', 'unknownTypeReserved', decodeUnknownTypeBody(record.content).reserved, 1, add);
        break;
      case FCGI_BEGIN_REQUEST:
        this.#begin(record, add);
        break;
      case FCGI_END_REQUEST:
        this.#end(record, add);
        break;
      case FCGI_ABORT_REQUEST:
        // "{FCGI_ABORT_REQUEST, R}": no body. (§5.4)
        if (contentLength !== 0) add('abortRecord', 'FCGI_ABORT_REQUEST with empty content', `content length ${contentLength}`);
        if (requestId !== FCGI_NULL_REQUEST_ID) {
          const state = this.#activeState(record, add);
          if (state) state.aborted = true;
        }
        break;
      default:
        if (requestId !== FCGI_NULL_REQUEST_ID) this.#stream(record, add);
    }
    return out;
  }

  /**
   * Tells the validator about a record the OTHER side sent, in the order observed (needs `peerObserved`).
   * It only updates request-id state: BEGIN_REQUEST and ABORT_REQUEST for an application-side validator,
   * END_REQUEST for a web-server-side one.
   */
  observePeer(record: Pick<DecodedRecord, 'type' | 'requestId' | 'content'>): void {
    if (!this.#peerObserved || record.requestId === FCGI_NULL_REQUEST_ID) return;
    if (this.#sender === 'application') {
      if (record.type === FCGI_BEGIN_REQUEST) {
        this.#ids.set(record.requestId, newIdState(decodeBeginRequestBody(record.content).role));
      } else if (record.type === FCGI_ABORT_REQUEST) {
        const state = this.#ids.get(record.requestId);
        if (state?.active) state.aborted = true;
      }
    } else if (record.type === FCGI_END_REQUEST) {
      const state = this.#ids.get(record.requestId);
      if (state) {
        state.active = false;
        state.ended = true;
      }
    }
  }

  /**
   * Call when the byte stream ends. `pendingBytes` (e.g. `RecordDecoder.pendingBytes`) are bytes of a record
   * that never completed. A request left unfinished is not judged here: closing the connection may be an abort.
   */
  end(pendingBytes: number): ValidationFinding[] {
    if (pendingBytes <= 0) return [];
    // "All data that flows over the transport connection is carried in FastCGI records." (§3.3)
    return [
      {
        requirement: validationRequirements.recordFraming,
        expected: 'every byte part of a complete record',
        actual: `${pendingBytes} trailing byte(s) of an incomplete record`,
        offset: this.#nextOffset,
      },
    ];
  }

  // The state of an id a non-BEGIN record is for, or undefined (with a finding) when the id is not active.
  #activeState(record: DecodedRecord, add: AddFinding): IdState | undefined {
    const { requestId, type } = record;
    let state = this.#ids.get(requestId);
    // Without the other direction, an application-side validator cannot see BEGIN_REQUEST: assume it came.
    if (state === undefined && this.#sender === 'application' && !this.#peerObserved) {
      state = newIdState();
      this.#ids.set(requestId, state);
    }
    if (state?.active) return state;
    const name = recordTypeName(type);
    const when = state?.ended ? 'after its FCGI_END_REQUEST' : 'without an FCGI_BEGIN_REQUEST for it';
    if (this.#sender === 'application') {
      add('applicationInactiveId', `records for request ${requestId} only while it is active`, `${name} for request ${requestId} ${when}`);
    } else {
      // The application must ignore such records (§3.3); sending them is still the web server's error.
      add(
        type === FCGI_ABORT_REQUEST ? 'abortRecord' : 'webServerInactiveId',
        `${name} only for an active request (begun, not ended); the application ignores others`,
        `${name} for request ${requestId} ${when}`,
      );
    }
    return undefined;
  }

  #begin(record: DecodedRecord, add: AddFinding): void {
    const { requestId } = record;
    const body = decodeBeginRequestBody(record.content);
    this.#fixedBody(record, 'beginBodyLength', 'beginReserved', body.reserved, 3, add);
    if (roleNames[body.role as keyof typeof roleNames] === undefined) {
      add('role', 'role FCGI_RESPONDER (1), FCGI_AUTHORIZER (2) or FCGI_FILTER (3)', `role ${body.role}`, record.offset + FCGI_HEADER_LEN);
    }
    if ((body.flags & ~FCGI_KEEP_CONN) !== 0) {
      add('beginReserved', 'flags with no bit but FCGI_KEEP_CONN (1)', `flags 0x${hex(Uint8Array.of(body.flags))}`, record.offset + FCGI_HEADER_LEN + 2);
    }
    if (requestId === FCGI_NULL_REQUEST_ID) return;
    const previous = this.#ids.get(requestId);
    if (previous?.active && (this.#peerObserved || !inputsFinished(previous))) {
      add(
        'beginActiveId',
        `FCGI_BEGIN_REQUEST for request ${requestId} only after the application's FCGI_END_REQUEST for it`,
        this.#peerObserved
          ? `FCGI_BEGIN_REQUEST for request ${requestId} while it was active`
          : `FCGI_BEGIN_REQUEST for request ${requestId} while the previous request on it had unfinished input streams`,
      );
    }
    this.#ids.set(requestId, newIdState(body.role));
    this.#params.push(record); // resets the params state of the id
  }

  #end(record: DecodedRecord, add: AddFinding): void {
    const body = decodeEndRequestBody(record.content);
    this.#fixedBody(record, 'endBody', 'endReserved', body.reserved, 5, add);
    if (body.protocolStatus > FCGI_UNKNOWN_ROLE) {
      add('endBody', 'protocolStatus 0..3 (FCGI_REQUEST_COMPLETE … FCGI_UNKNOWN_ROLE)', protocolStatusName(body.protocolStatus), record.offset + FCGI_HEADER_LEN + 4);
    }
    if (record.requestId === FCGI_NULL_REQUEST_ID) return;
    const state = this.#activeState(record, add);
    if (state === undefined) return;
    const { requestId } = record;
    const status = protocolStatusName(body.protocolStatus);
    if (!(state.terminated & bit(FCGI_STDOUT))) {
      if (state.data & bit(FCGI_STDOUT)) {
        add('streamTerminator', 'an empty FCGI_STDOUT record after the FCGI_STDOUT data, before FCGI_END_REQUEST', `FCGI_END_REQUEST (${status}) for request ${requestId} with FCGI_STDOUT not terminated`);
      } else if (body.protocolStatus === FCGI_REQUEST_COMPLETE && !state.aborted) {
        // "at least one record of the stream type is always transmitted, even if the stream is empty" (§6.1);
        // a rejection (CANT_MPX_CONN, OVERLOADED, UNKNOWN_ROLE) or an aborted request may end without one.
        const unseen = this.#peerObserved ? '' : ' (an abort from the web server is not visible in this direction)';
        add('stdoutSent', 'an FCGI_STDOUT stream (at least its empty record) before FCGI_END_REQUEST with FCGI_REQUEST_COMPLETE', `FCGI_END_REQUEST for request ${requestId} without any FCGI_STDOUT record${unseen}`);
      }
    }
    if (state.data & bit(FCGI_STDERR) && !(state.terminated & bit(FCGI_STDERR))) {
      add('stderrTerminated', 'an empty FCGI_STDERR record after the FCGI_STDERR data, before FCGI_END_REQUEST', `FCGI_END_REQUEST (${status}) for request ${requestId} with FCGI_STDERR not terminated`);
    }
    state.active = false;
    state.ended = true;
    // Without the other direction a later record on this id is taken as a new request the web server began.
    if (!this.#peerObserved) this.#ids.delete(requestId);
  }

  #stream(record: DecodedRecord, add: AddFinding): void {
    const state = this.#activeState(record, add);
    if (state === undefined) return;
    const { type, requestId } = record;
    const name = recordTypeName(type);
    const empty = record.content.length === 0;
    if (state.terminated & bit(type)) {
      // "a series of zero or more non-empty records ... followed by an empty record" (§3.3): one end, nothing after.
      add('nothingAfterTerminator', `nothing more of ${name} for request ${requestId} after its empty record`, empty ? `a second empty ${name}` : `${record.content.length} bytes of ${name} after its empty record`);
      return;
    }
    if (this.#sender === 'web-server') this.#inputOrder(record, state, add);
    if (empty) state.terminated |= bit(type);
    else state.data |= bit(type);
    if (type !== FCGI_PARAMS) return;
    for (const event of this.#params.push(record)) {
      if (event.kind === 'params-error') {
        add('paramsPairs', 'FCGI_PARAMS made of whole name-value pairs', describeNameValueError(event.error));
      } else if (event.kind === 'limit') {
        const what = event.error ? describeNameValueError(event.error) : `more than ${this.#params.limits.maxParamsBytes} bytes of FCGI_PARAMS`;
        add('paramsPairs', `FCGI_PARAMS within the validator's ${event.limit} limit`, `${what}; pairs after it were not checked`);
      }
    }
  }

  // "Inputs are not interleaved with each other" (§6.1): PARAMS, then STDIN, then DATA (Filter only, §5.3).
  #inputOrder(record: DecodedRecord, state: IdState, add: AddFinding): void {
    const { type, requestId } = record;
    if (type === FCGI_DATA && state.role !== FCGI_FILTER && !state.dataRoleReported) {
      state.dataRoleReported = true;
      add('dataOnlyForFilter', 'FCGI_DATA only in a request of role FCGI_FILTER', `FCGI_DATA for request ${requestId} of role ${state.role}`);
    }
    const before = type === FCGI_STDIN ? FCGI_PARAMS : type === FCGI_DATA ? FCGI_STDIN : undefined;
    if (before === undefined || state.terminated & bit(before) || state.orderReported & bit(type)) return;
    state.orderReported |= bit(type);
    add('inputsSequential', `${recordTypeName(before)} ended before any ${recordTypeName(type)} for request ${requestId}`, `${recordTypeName(type)} while ${recordTypeName(before)} was not terminated`);
  }

  #fixedBody(record: DecodedRecord, lengthCheck: ValidationCheck, reservedCheck: ValidationCheck, reserved: Uint8Array, reservedAt: number, add: AddFinding): void {
    const name = recordTypeName(record.type);
    const length = record.content.length;
    if (length !== FCGI_FIXED_BODY_LEN) add(lengthCheck, `${name} content of ${FCGI_FIXED_BODY_LEN} bytes`, `${length} bytes`);
    // Reserved bytes past the content are not there to judge; the lenient decoder reads them as zeros.
    const i = reserved.findIndex((b) => b !== 0);
    if (i >= 0) add(reservedCheck, `${name} reserved bytes all 0`, `reserved bytes ${hex(reserved)}`, record.offset + FCGI_HEADER_LEN + reservedAt + i);
  }

  #management(record: DecodedRecord, add: AddFinding): void {
    const query = record.type === FCGI_GET_VALUES;
    const check: ValidationCheck = query ? 'getValuesQuery' : 'getValuesResult';
    const name = recordTypeName(record.type);
    for (const event of this.#params.push(record)) {
      if (event.kind !== 'management' || (event.message.kind !== 'get-values' && event.message.kind !== 'get-values-result')) continue;
      const { pairs, error } = event.message;
      if (error) add(check, `${name} content made of whole name-value pairs`, describeNameValueError(error));
      // "The contentData portion of a FCGI_GET_VALUES record contains a sequence of name-value pairs with empty values." (§4.1)
      const valued = query ? pairs.filter((p) => p.value.length > 0) : [];
      if (valued.length > 0) add(check, 'FCGI_GET_VALUES pairs with empty values', `values given for ${valued.map((p) => toText(p.name)).join(', ')}`);
    }
  }
}

type AddFinding = (check: ValidationCheck, expected: string, actual: string, offset?: number) => void;

// Whether the web server finished the inputs its role calls for, or gave up on them by aborting.
function inputsFinished(state: IdState): boolean {
  if (state.aborted) return true;
  const needed = bit(FCGI_PARAMS) | bit(FCGI_STDIN) | (state.role === FCGI_FILTER ? bit(FCGI_DATA) : 0);
  return (state.terminated & needed) === needed;
}

/** Result of validating a whole capture of one direction. */
export interface ByteValidation {
  readonly findings: readonly ValidationFinding[];
  readonly records: readonly DecodedRecord[];
}

/** Frames and validates a complete capture of one direction (no peer information). */
export function validateBytes(bytes: Uint8Array, sender: SenderSide, options: ValidatorOptions = {}): ByteValidation {
  const decoder = new RecordDecoder();
  const validator = new StreamValidator(sender, { ...options, peerObserved: false });
  const records = decoder.push(bytes);
  const findings: ValidationFinding[] = [];
  for (const record of records) for (const f of validator.push(record)) findings.push(f);
  for (const f of validator.end(decoder.pendingBytes)) findings.push(f);
  return { findings, records };
}
