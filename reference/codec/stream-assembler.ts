/**
 * Records (or raw bytes) → request events, per request id. Pure: no I/O, no timers, no clock.
 *
 * The assembler frames, it does not judge: it follows whatever the peer sent (a stream record after its
 * terminator still yields data) and leaves verdicts to `validate.ts`. Everything it holds is bounded by
 * `AssemblerLimits`; reaching a limit is a `limit` event, never an exception.
 * @see §3.3 "Stream records", §3.4, §5, §6.1
 */
import {
  FCGI_ABORT_REQUEST,
  FCGI_BEGIN_REQUEST,
  FCGI_DATA,
  FCGI_END_REQUEST,
  FCGI_GET_VALUES,
  FCGI_GET_VALUES_RESULT,
  FCGI_HEADER_LEN,
  FCGI_NULL_REQUEST_ID,
  FCGI_PARAMS,
  FCGI_STDERR,
  FCGI_STDIN,
  FCGI_STDOUT,
  FCGI_UNKNOWN_TYPE,
} from '../../spec/constants.ts';
import {
  decodeBeginRequestBody,
  decodeEndRequestBody,
  decodeUnknownTypeBody,
  type BeginRequestBody,
  type EndRequestBody,
  type Lenient,
  type UnknownTypeBody,
} from './bodies.ts';
import {
  decodeNameValuePairs,
  defaultNameValueLimits,
  NameValueParser,
  type NameValueError,
  type NameValueLimits,
  type NameValuePair,
} from './name-value.ts';
import { RecordFramer, type FramerSink } from './framer.ts';
import { writeHeader, type DecodedRecord, type RecordHeader } from './record.ts';

/** The byte streams of a request. @see §5.3 */
export type ByteStreamName = 'stdin' | 'data' | 'stdout' | 'stderr';
/** Every stream of a request: the byte streams and FCGI_PARAMS. @see §5.2 §5.3 */
export type StreamName = 'params' | ByteStreamName;

/** Stream name by record type, for the five stream types. */
export const streamOfType: Readonly<Record<number, StreamName | undefined>> = {
  [FCGI_PARAMS]: 'params',
  [FCGI_STDIN]: 'stdin',
  [FCGI_DATA]: 'data',
  [FCGI_STDOUT]: 'stdout',
  [FCGI_STDERR]: 'stderr',
};

/** Bounds on what an assembler (and a collector built on it) holds. */
export interface AssemblerLimits extends NameValueLimits {
  /** Bytes of FCGI_PARAMS content (length bytes included) accepted per request. */
  readonly maxParamsBytes: number;
  /** Bytes per byte stream a collecting consumer keeps; the assembler itself keeps none (data are views). */
  readonly maxStreamBytes: number;
}

/** Generous defaults: far above what real peers send, far below what would hurt the harness. */
export const defaultAssemblerLimits: AssemblerLimits = {
  ...defaultNameValueLimits,
  maxParamsBytes: 64 * 1024 * 1024,
  maxStreamBytes: 64 * 1024 * 1024,
};

/** Which limit was reached. `pair-length`, `pairs` and `pair-bytes` are the name-value parser's. */
export type LimitName = 'params-bytes' | 'pair-length' | 'pairs' | 'pair-bytes' | 'stream-bytes';

/** What a management record (request id 0) carried. @see §4 */
export type ManagementMessage =
  | { readonly kind: 'get-values'; readonly pairs: readonly NameValuePair[]; readonly error?: NameValueError }
  | { readonly kind: 'get-values-result'; readonly pairs: readonly NameValuePair[]; readonly error?: NameValueError }
  | { readonly kind: 'unknown-type'; readonly body: Lenient<UnknownTypeBody> }
  /** Any other type on the null request id: undefined management types, and application types sent with id 0. */
  | { readonly kind: 'other' };

/** What the assembler saw; every event carries the record it came from. */
export type AssemblerEvent =
  | { readonly kind: 'begin'; readonly requestId: number; readonly body: Lenient<BeginRequestBody>; readonly record: DecodedRecord }
  | { readonly kind: 'abort'; readonly requestId: number; readonly record: DecodedRecord }
  /** Pairs completed by this record; a pair cut across records comes with the record that completes it. */
  | { readonly kind: 'params'; readonly requestId: number; readonly pairs: readonly NameValuePair[]; readonly record: DecodedRecord }
  /** Non-empty content of a byte stream record; `bytes` is the record's content itself (a view, no copy). */
  | {
      readonly kind: 'stream-data';
      readonly requestId: number;
      readonly stream: ByteStreamName;
      readonly bytes: Uint8Array;
      readonly record: DecodedRecord;
    }
  /** The empty record that ends a stream. @see §3.3 */
  | { readonly kind: 'stream-end'; readonly requestId: number; readonly stream: StreamName; readonly record: DecodedRecord }
  | { readonly kind: 'end-request'; readonly requestId: number; readonly body: Lenient<EndRequestBody>; readonly record: DecodedRecord }
  | { readonly kind: 'management'; readonly message: ManagementMessage; readonly record: DecodedRecord }
  /** A record on a non-zero id whose type is not an application record type (undefined, or a management type). */
  | { readonly kind: 'unknown'; readonly requestId: number; readonly record: DecodedRecord }
  | {
      readonly kind: 'limit';
      readonly limit: LimitName;
      readonly requestId: number;
      /** The stream the limit bounds. */
      readonly stream: StreamName;
      /** The parser's report, for the name-value limits. */
      readonly error?: NameValueError;
      readonly record?: DecodedRecord;
    }
  /** The params stream is malformed (a pair cut short by the terminator or the end of input). @see §3.4 */
  | { readonly kind: 'params-error'; readonly requestId: number; readonly error: NameValueError; readonly record?: DecodedRecord };

/** An assembler event of one kind. */
export type AssemblerEventOf<K extends AssemblerEvent['kind']> = Extract<AssemblerEvent, { kind: K }>;

/**
 * A piece of a byte stream record's content, as `StreamAssembler.pushBytes` hands it out: a view of the chunk
 * fed, no copy. A record's content comes in as many pieces as the chunks cut it into.
 */
export interface StreamFragmentEvent {
  readonly kind: 'stream-data';
  readonly requestId: number;
  readonly stream: ByteStreamName;
  readonly bytes: Uint8Array;
  /** Header of the record the piece belongs to. */
  readonly header: RecordHeader;
  /** Offset of that record's header in the stream fed. */
  readonly offset: number;
  /** Index of `bytes[0]` in the record's content. */
  readonly at: number;
}

/**
 * What `StreamAssembler.pushBytes` reports: the events of `push`, except that byte stream data come as
 * fragments, and a `stream-bytes` limit reached by a fragment carries no record.
 */
export type ByteAssemblerEvent = Exclude<AssemblerEvent, { kind: 'stream-data' }> | StreamFragmentEvent;

const limitOfError: Readonly<Record<NameValueError['kind'], LimitName | undefined>> = {
  'pair-too-long': 'pair-length',
  'too-many-pairs': 'pairs',
  'too-many-bytes': 'pair-bytes',
  truncated: undefined,
};

// One request id's streams. Byte counts only: the assembler keeps no stream bytes.
interface RequestState {
  parser: NameValueParser | undefined;
  paramsBytes: number;
  paramsStopped: boolean; // a limit or error ended params parsing for this request
  readonly streamBytes: Record<ByteStreamName, number>;
}

function newRequestState(): RequestState {
  return { parser: undefined, paramsBytes: 0, paramsStopped: false, streamBytes: { stdin: 0, data: 0, stdout: 0, stderr: 0 } };
}

const EMPTY = new Uint8Array(0);

// A gathered record's buffer, of the input's kind (Buffers from Buffers), as RecordDecoder does. Every byte
// is written (header, then content and padding as they arrive) before the record is handed out.
const NodeBuffer = (globalThis as { Buffer?: { isBuffer(x: unknown): boolean; allocUnsafe(n: number): Uint8Array } }).Buffer;
function allocateLike(chunk: Uint8Array, length: number): Uint8Array {
  return NodeBuffer?.isBuffer(chunk) ? NodeBuffer.allocUnsafe(length) : new Uint8Array(length);
}

// The record whose header `h` starts at `at` in `buf`; content and padding are views of `buf`.
function recordIn(buf: Uint8Array, at: number, h: RecordHeader, offset: number): DecodedRecord {
  const contentStart = at + FCGI_HEADER_LEN;
  const contentEnd = contentStart + h.contentLength;
  return {
    version: h.version,
    type: h.type,
    requestId: h.requestId,
    content: buf.subarray(contentStart, contentEnd),
    paddingLength: h.paddingLength,
    reserved: h.reserved,
    padding: buf.subarray(contentEnd, contentEnd + h.paddingLength),
    offset,
  };
}

/**
 * Turns records (of either direction) into request events. A BEGIN_REQUEST starts a fresh state for its id and
 * an END_REQUEST drops it; records on an id with no state get one, so nothing a peer sends is lost.
 */
export class StreamAssembler {
  readonly #limits: AssemblerLimits;
  readonly #requests = new Map<number, RequestState>();
  // pushBytes: the framer, the chunk being fed, and the record in progress.
  #framer: RecordFramer | undefined;
  #chunk: Uint8Array = EMPTY;
  #chunkStart = 0; // stream offset of #chunk[0]
  #out: ByteAssemblerEvent[] = [];
  #header: RecordHeader | undefined; // the record in progress, and its offset
  #headerOffset = 0;
  #fragments: ByteStreamName | undefined; // its content goes out as fragments of this stream
  #gathered: Uint8Array | undefined; // or it is gathered across chunks (header, content, padding)
  readonly #sink: FramerSink = {
    header: (h, offset) => this.#onHeader(h, offset),
    content: (bytes, at) => this.#onContent(bytes, at),
    padding: (bytes, at) => this.#gathered?.set(bytes, FCGI_HEADER_LEN + this.#header!.contentLength + at),
    recordEnd: (h, offset) => this.#onRecordEnd(h, offset),
  };

  constructor(limits: Partial<AssemblerLimits> = {}) {
    this.#limits = { ...defaultAssemblerLimits, ...limits };
  }

  /** The limits in force (defaults filled in). */
  get limits(): AssemblerLimits {
    return this.#limits;
  }

  /** Ids with state (begun or seen, not yet ended). */
  get openRequestIds(): number[] {
    return [...this.#requests.keys()];
  }

  /** Feeds one record; returns the events it caused, in order. */
  push(record: DecodedRecord): AssemblerEvent[] {
    const requestId = record.requestId;
    const type = record.type;
    if (requestId === FCGI_NULL_REQUEST_ID) return [{ kind: 'management', message: this.#management(record), record }];
    switch (type) {
      case FCGI_STDOUT:
      case FCGI_STDERR:
      case FCGI_STDIN:
      case FCGI_DATA:
        return this.#byteStream(record, streamOfType[type] as ByteStreamName);
      case FCGI_PARAMS:
        return this.#params(record);
      case FCGI_BEGIN_REQUEST: {
        // A new request on this id: whatever was there before is over, for the assembler.
        this.#requests.set(requestId, newRequestState());
        return [{ kind: 'begin', requestId, body: decodeBeginRequestBody(record.content), record }];
      }
      case FCGI_ABORT_REQUEST:
        return [{ kind: 'abort', requestId, record }];
      case FCGI_END_REQUEST:
        this.#requests.delete(requestId);
        return [{ kind: 'end-request', requestId, body: decodeEndRequestBody(record.content), record }];
      default:
        return [{ kind: 'unknown', requestId, record }];
    }
  }

  /**
   * Feeds raw bytes, split anywhere; returns the events they caused, in order. Byte stream (STDIN, DATA,
   * STDOUT, STDERR) content goes out as it arrives, as `stream-data` fragments that are views of `chunk`, so
   * a record cut across chunks costs no copy; any other record (and an empty stream record) is gathered and
   * goes through `push`, copied only when it straddles chunks (at most 8 + 65535 + 255 bytes held). Views stay
   * valid as long as the caller leaves its chunks unchanged. Do not mix with `push` in the middle of a record.
   * @see §3.3
   */
  pushBytes(chunk: Uint8Array): ByteAssemblerEvent[] {
    const framer = (this.#framer ??= new RecordFramer());
    const out: ByteAssemblerEvent[] = [];
    this.#out = out;
    this.#chunk = chunk;
    this.#chunkStart = framer.bytesFed;
    try {
      framer.feed(chunk, this.#sink);
    } finally {
      // Hold no reference to the caller's chunk between calls.
      this.#chunk = EMPTY;
      this.#out = [];
    }
    return out;
  }

  /** Bytes of an unfinished record fed to `pushBytes` (0 at a record boundary). */
  get pendingBytes(): number {
    return this.#framer?.pendingBytes ?? 0;
  }

  /** Call at the end of input: a params pair left unfinished on an open request is a `params-error`. */
  end(): AssemblerEvent[] {
    // An unfinished record fed to pushBytes is dropped, as RecordDecoder would never complete it.
    this.#framer?.reset();
    this.#header = undefined;
    this.#fragments = undefined;
    this.#gathered = undefined;
    const out: AssemblerEvent[] = [];
    for (const [requestId, state] of this.#requests) {
      if (state.parser === undefined || state.paramsStopped) continue;
      const error = state.parser.end();
      if (error) out.push({ kind: 'params-error', requestId, error });
    }
    this.#requests.clear();
    return out;
  }

  #state(requestId: number): RequestState {
    let state = this.#requests.get(requestId);
    if (state === undefined) {
      state = newRequestState();
      this.#requests.set(requestId, state);
    }
    return state;
  }

  #byteStream(record: DecodedRecord, stream: ByteStreamName): AssemblerEvent[] {
    const requestId = record.requestId;
    const length = record.content.length;
    if (length === 0) return [{ kind: 'stream-end', requestId, stream, record }];
    const event: AssemblerEvent = { kind: 'stream-data', requestId, stream, bytes: record.content, record };
    if (this.#countStream(requestId, stream, length)) {
      return [event, { kind: 'limit', limit: 'stream-bytes', requestId, stream, record }];
    }
    return [event];
  }

  // Adds to a stream's byte count; true when the count first passes maxStreamBytes. Reported once: data
  // events go on (a consumer may just count).
  #countStream(requestId: number, stream: ByteStreamName, length: number): boolean {
    const state = this.#state(requestId);
    const before = state.streamBytes[stream];
    const after = before + length;
    state.streamBytes[stream] = after;
    const max = this.#limits.maxStreamBytes;
    return after > max && before <= max;
  }

  #onHeader(h: RecordHeader, offset: number): void {
    this.#header = h;
    this.#headerOffset = offset;
    const stream = h.requestId === FCGI_NULL_REQUEST_ID || h.contentLength === 0 ? undefined : streamOfType[h.type];
    if (stream !== undefined && stream !== 'params') {
      this.#fragments = stream;
      return;
    }
    this.#fragments = undefined;
    const total = FCGI_HEADER_LEN + h.contentLength + h.paddingLength;
    const start = offset - this.#chunkStart;
    // Wholly inside this chunk: built from views at record end. Otherwise gathered, as RecordDecoder does.
    if (start >= 0 && start + total <= this.#chunk.length) {
      this.#gathered = undefined;
      return;
    }
    const gathered = allocateLike(this.#chunk, total);
    writeHeader(gathered, 0, h);
    this.#gathered = gathered;
  }

  #onContent(bytes: Uint8Array, at: number): void {
    const stream = this.#fragments;
    if (stream === undefined) {
      this.#gathered?.set(bytes, FCGI_HEADER_LEN + at);
      return;
    }
    const header = this.#header!;
    const requestId = header.requestId;
    const out = this.#out;
    out.push({ kind: 'stream-data', requestId, stream, bytes, header, offset: this.#headerOffset, at });
    if (this.#countStream(requestId, stream, bytes.length)) out.push({ kind: 'limit', limit: 'stream-bytes', requestId, stream });
  }

  #onRecordEnd(h: RecordHeader, offset: number): void {
    const fragments = this.#fragments;
    const gathered = this.#gathered;
    this.#header = undefined;
    this.#fragments = undefined;
    this.#gathered = undefined;
    if (fragments !== undefined) return;
    const record = gathered === undefined ? recordIn(this.#chunk, offset - this.#chunkStart, h, offset) : recordIn(gathered, 0, h, offset);
    const out = this.#out;
    for (const event of this.push(record)) {
      // Byte stream data never take this path (see #onHeader); typed all the same.
      out.push(event.kind === 'stream-data' ? { kind: 'stream-data', requestId: event.requestId, stream: event.stream, bytes: event.bytes, header: h, offset, at: 0 } : event);
    }
  }

  #params(record: DecodedRecord): AssemblerEvent[] {
    const requestId = record.requestId;
    const state = this.#state(requestId);
    const content = record.content;
    if (content.length === 0) {
      const out: AssemblerEvent[] = [];
      if (state.parser !== undefined && !state.paramsStopped) {
        const error = state.parser.end();
        if (error) out.push({ kind: 'params-error', requestId, error, record });
      }
      // A later non-empty PARAMS record starts over (the peer broke the stream rule; validate.ts says so).
      state.parser = undefined;
      state.paramsStopped = false;
      state.paramsBytes = 0;
      out.push({ kind: 'stream-end', requestId, stream: 'params', record });
      return out;
    }
    if (state.paramsStopped) return [];
    state.paramsBytes += content.length;
    if (state.paramsBytes > this.#limits.maxParamsBytes) {
      state.paramsStopped = true;
      state.parser = undefined;
      return [{ kind: 'limit', limit: 'params-bytes', requestId, stream: 'params', record }];
    }
    state.parser ??= new NameValueParser(this.#limits);
    const pairs = state.parser.push(content);
    const out: AssemblerEvent[] = [];
    if (pairs.length > 0) out.push({ kind: 'params', requestId, pairs, record });
    const error = state.parser.error;
    if (error) {
      state.paramsStopped = true;
      state.parser = undefined;
      const limit = limitOfError[error.kind];
      out.push(
        limit === undefined
          ? { kind: 'params-error', requestId, error, record }
          : { kind: 'limit', limit, requestId, stream: 'params', error, record },
      );
    }
    return out;
  }

  #management(record: DecodedRecord): ManagementMessage {
    switch (record.type) {
      case FCGI_GET_VALUES:
      case FCGI_GET_VALUES_RESULT: {
        const kind = record.type === FCGI_GET_VALUES ? 'get-values' : 'get-values-result';
        const { pairs, error } = decodeNameValuePairs(record.content, this.#limits);
        return error ? { kind, pairs, error } : { kind, pairs };
      }
      case FCGI_UNKNOWN_TYPE:
        return { kind: 'unknown-type', body: decodeUnknownTypeBody(record.content) };
      default:
        return { kind: 'other' };
    }
  }
}

/** Feeds records through a fresh assembler; returns every event, including those of `end()`. */
export function assembleRecords(records: Iterable<DecodedRecord>, limits: Partial<AssemblerLimits> = {}): AssemblerEvent[] {
  const assembler = new StreamAssembler(limits);
  const out: AssemblerEvent[] = [];
  for (const record of records) for (const event of assembler.push(record)) out.push(event);
  for (const event of assembler.end()) out.push(event);
  return out;
}

// A growable byte buffer that keeps at most `cap` bytes and counts the rest.
class BoundedBytes {
  #buf = new Uint8Array(0);
  #length = 0;
  total = 0;
  constructor(readonly cap: number) {}

  append(bytes: Uint8Array): void {
    this.total += bytes.length;
    const room = this.cap - this.#length;
    if (room <= 0) return;
    const take = bytes.length <= room ? bytes : bytes.subarray(0, room);
    const need = this.#length + take.length;
    if (need > this.#buf.length) {
      const grown = new Uint8Array(Math.min(this.cap, Math.max(need, this.#buf.length * 2, 256)));
      grown.set(this.#buf.subarray(0, this.#length));
      this.#buf = grown;
    }
    this.#buf.set(take, this.#length);
    this.#length = need;
  }

  get truncated(): boolean {
    return this.total > this.#length;
  }
  bytes(): Uint8Array {
    return this.#buf.slice(0, this.#length);
  }
}

/** One request as gathered by `RequestCollector`. @see §5 §6 */
export interface CollectedRequest {
  readonly requestId: number;
  /** The BEGIN_REQUEST body; absent when records came for the id without one. */
  readonly begin?: Lenient<BeginRequestBody>;
  readonly role?: number;
  readonly flags?: number;
  readonly params: readonly NameValuePair[];
  readonly paramsError?: NameValueError;
  readonly stdin: Uint8Array;
  readonly data: Uint8Array;
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  /** Bytes each byte stream carried in total, kept or not. */
  readonly streamBytes: Readonly<Record<ByteStreamName, number>>;
  /** Whether a byte stream was cut at `maxStreamBytes`. */
  readonly truncated: Readonly<Record<ByteStreamName, boolean>>;
  /** Whether the stream's empty terminating record was seen. */
  readonly terminated: Readonly<Record<StreamName, boolean>>;
  readonly end?: Lenient<EndRequestBody>;
  readonly aborted: boolean;
  /** Every limit reached for this request. */
  readonly limits: readonly AssemblerEventOf<'limit'>[];
}

/** Everything a collector gathered. */
export interface RequestCollection {
  /** In order of first appearance; an id reused after END_REQUEST (or begun again) appears again. */
  readonly requests: readonly CollectedRequest[];
  readonly management: readonly AssemblerEventOf<'management'>[];
  readonly unknown: readonly DecodedRecord[];
}

interface RequestBuilder {
  readonly requestId: number;
  begin?: Lenient<BeginRequestBody>;
  readonly params: NameValuePair[];
  paramsError?: NameValueError;
  readonly streams: Record<ByteStreamName, BoundedBytes>;
  readonly terminated: Record<StreamName, boolean>;
  end?: Lenient<EndRequestBody>;
  aborted: boolean;
  readonly limits: AssemblerEventOf<'limit'>[];
}

/**
 * Gathers records into whole requests: role, params, each stream's bytes (at most `maxStreamBytes` kept per
 * stream), terminators, END_REQUEST, abort. For tests, the harness and the validator.
 */
export class RequestCollector {
  readonly #assembler: StreamAssembler;
  readonly #open = new Map<number, RequestBuilder>();
  readonly #all: RequestBuilder[] = [];
  readonly #management: AssemblerEventOf<'management'>[] = [];
  readonly #unknown: DecodedRecord[] = [];

  constructor(limits: Partial<AssemblerLimits> = {}) {
    this.#assembler = new StreamAssembler(limits);
  }

  /** Feeds one record; returns the events it caused. */
  push(record: DecodedRecord): AssemblerEvent[] {
    const events = this.#assembler.push(record);
    for (const event of events) this.#apply(event);
    return events;
  }

  /** Feeds raw bytes, split anywhere (see `StreamAssembler.pushBytes`); returns the events they caused. */
  pushBytes(chunk: Uint8Array): ByteAssemblerEvent[] {
    const events = this.#assembler.pushBytes(chunk);
    for (const event of events) this.#apply(event);
    return events;
  }

  /** Call at the end of input. */
  end(): AssemblerEvent[] {
    const events = this.#assembler.end();
    for (const event of events) this.#apply(event);
    return events;
  }

  /** What was gathered so far. Stream bytes are copies; calling it again copies again. */
  result(): RequestCollection {
    return { requests: this.#all.map(finish), management: [...this.#management], unknown: [...this.#unknown] };
  }

  #builder(requestId: number, fresh: boolean): RequestBuilder {
    let builder = fresh ? undefined : this.#open.get(requestId);
    if (builder === undefined) {
      const cap = this.#assembler.limits.maxStreamBytes;
      builder = {
        requestId,
        params: [],
        streams: { stdin: new BoundedBytes(cap), data: new BoundedBytes(cap), stdout: new BoundedBytes(cap), stderr: new BoundedBytes(cap) },
        terminated: { params: false, stdin: false, data: false, stdout: false, stderr: false },
        aborted: false,
        limits: [],
      };
      this.#open.set(requestId, builder);
      this.#all.push(builder);
    }
    return builder;
  }

  #apply(event: AssemblerEvent | ByteAssemblerEvent): void {
    switch (event.kind) {
      case 'begin':
        this.#builder(event.requestId, true).begin = event.body;
        return;
      case 'abort':
        this.#builder(event.requestId, false).aborted = true;
        return;
      case 'params':
      {
        const params = this.#builder(event.requestId, false).params;
        for (const pair of event.pairs) params.push(pair); // no spread: a record can complete many pairs
        return;
      }
      case 'stream-data':
        this.#builder(event.requestId, false).streams[event.stream].append(event.bytes);
        return;
      case 'stream-end':
        this.#builder(event.requestId, false).terminated[event.stream] = true;
        return;
      case 'end-request':
        this.#builder(event.requestId, false).end = event.body;
        this.#open.delete(event.requestId);
        return;
      case 'limit':
        this.#builder(event.requestId, false).limits.push(event);
        return;
      case 'params-error':
        this.#builder(event.requestId, false).paramsError = event.error;
        return;
      case 'management':
        this.#management.push(event);
        return;
      case 'unknown':
        this.#unknown.push(event.record);
        return;
    }
  }
}

function finish(b: RequestBuilder): CollectedRequest {
  const s = b.streams;
  return {
    requestId: b.requestId,
    ...(b.begin ? { begin: b.begin, role: b.begin.role, flags: b.begin.flags } : {}),
    params: [...b.params],
    ...(b.paramsError ? { paramsError: b.paramsError } : {}),
    stdin: s.stdin.bytes(),
    data: s.data.bytes(),
    stdout: s.stdout.bytes(),
    stderr: s.stderr.bytes(),
    streamBytes: { stdin: s.stdin.total, data: s.data.total, stdout: s.stdout.total, stderr: s.stderr.total },
    truncated: { stdin: s.stdin.truncated, data: s.data.truncated, stdout: s.stdout.truncated, stderr: s.stderr.truncated },
    terminated: { ...b.terminated },
    ...(b.end ? { end: b.end } : {}),
    aborted: b.aborted,
    limits: [...b.limits],
  };
}

/** Gathers records into requests (see `RequestCollector`); includes the end-of-input check. */
export function collectRequests(records: Iterable<DecodedRecord>, limits: Partial<AssemblerLimits> = {}): RequestCollection {
  const collector = new RequestCollector(limits);
  for (const record of records) collector.push(record);
  collector.end();
  return collector.result();
}
