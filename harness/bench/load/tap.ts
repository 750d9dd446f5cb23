/**
 * Conformance under load: a tap on each connection's raw bytes, both ways, judged by the suite's own codec.
 * What the application sends goes through a `RecordDecoder` into a `StreamValidator` (application side, with
 * our own BEGIN_REQUEST and ABORT_REQUEST observed, so request-id state is exact), and, for the probe check,
 * through a `StreamAssembler` that gathers each request's output. FCGI_CANT_MPX_CONN from an application that
 * claimed FCGI_MPXS_CONNS=1 is a violation too. The tap reads the socket's `data` events and wraps its
 * `write`, so it sees the bytes whatever the client makes of them, also after the client gave up on a
 * connection.
 *
 * Each connection keeps its last few chunks; the first finding of each requirement takes them, plus a few
 * chunks that follow, as a sample transcript. Everything is bounded: the ring, the samples, the probe output
 * kept per request.
 * @see §3.3 §5.5 §6.1
 */
import type { Socket } from 'node:net';
import {
  FCGI_ABORT_REQUEST,
  FCGI_BEGIN_REQUEST,
  FCGI_CANT_MPX_CONN,
  FCGI_END_REQUEST,
  FCGI_HEADER_LEN,
  FCGI_KEEP_CONN,
  FCGI_NULL_REQUEST_ID,
  FCGI_REQUEST_COMPLETE,
  FCGI_RESPONDER,
} from '../../../spec/constants.ts';
import { decodeEndRequestBody, encodeBeginRequestBody } from '../../../reference/codec/bodies.ts';
import type { RequirementId } from '../../../spec/requirements.ts';
import { RecordDecoder, type DecodedRecord } from '../../../reference/codec/record.ts';
import { StreamAssembler } from '../../../reference/codec/stream-assembler.ts';
import { StreamValidator, type ValidationFinding } from '../../../reference/codec/validate.ts';
import type { CloseKind, TranscriptEntry } from '../../../reference/client/raw-connection.ts';
import { compareProbeResponse, type ProbeExpectation } from '../../../reference/probe/model.ts';

/** Chunks each connection remembers for a sample, and their bytes at most. */
const RING_ENTRIES = 12;
const RING_BYTES = 32 * 1024;
/** Chunks added to a sample after the one with the finding (the close, the records that follow). */
const FOLLOW_ENTRIES = 4;

/** A violation seen under load, with the traffic around it. */
export interface ViolationSample {
  readonly requirement: RequirementId;
  readonly expected: string;
  readonly actual: string;
  /** Connection number (0-based, in order of opening). */
  readonly connection: number;
  readonly requestId: number | undefined;
  /** Times are ms since the run's clock origin. Grows by a few entries after the finding. */
  readonly entries: TranscriptEntry[];
}

/** Reads the records the application sent, as the tap decoded them. */
export interface RecordConsumer {
  /** The records completed by one chunk, in order (possibly none). */
  records(records: readonly DecodedRecord[]): void;
}

/** How a connection ended, as the tap saw it. */
export type CloseCause = 'peer' | 'reset' | 'error' | 'local';

/** What the taps of one run share: counters, violations, samples. */
export interface TapOptions {
  /** Decode and judge the bytes (false: count bytes only, to measure what judging costs). */
  readonly validate: boolean;
  /** The answer every request must get (`--probe`); compared with each completed request's output. */
  readonly probe?: ProbeExpectation;
  /** We send several requests at once per connection, as the application claimed it allows. */
  readonly multiplexing?: boolean;
  /** Samples kept (one per requirement at most); default 5. */
  readonly maxSamples?: number;
  /** `performance.now()` value sample times count from. */
  readonly clockOrigin?: number;
}

/** Shared state of all taps of a run. */
export class TapHub {
  readonly options: TapOptions;
  readonly origin: number;
  bytesSent = 0;
  bytesReceived = 0;
  connectionsOpened = 0;
  readonly closes: Record<CloseCause, number> = { peer: 0, reset: 0, error: 0, local: 0 };
  readonly violations = new Map<RequirementId, number>();
  /** Set when fcgispec closes the connections at the end of the run: closes from then on are ours. */
  closing = false;
  readonly samples: ViolationSample[] = [];
  readonly #maxSamples: number;

  constructor(options: TapOptions) {
    this.options = options;
    this.origin = options.clockOrigin ?? performance.now();
    this.#maxSamples = options.maxSamples ?? 5;
  }

  /** Total violations counted. */
  get violationCount(): number {
    let n = 0;
    for (const v of this.violations.values()) n += v;
    return n;
  }

  /**
   * Starts tapping a freshly opened socket. A `consumer` (the load engine) gets every record the application
   * sends, once per chunk, after the tap judged them; with one, records are decoded even when not judged.
   */
  attach(socket: Socket, consumer?: RecordConsumer): void {
    const index = this.connectionsOpened++;
    new ConnectionTap(this, socket, index, consumer);
  }

  /** @internal Counts a finding; returns a sample to fill when this is the first of its requirement. */
  count(f: ValidationFinding, connection: number, ring: () => TranscriptEntry[]): ViolationSample | undefined {
    this.violations.set(f.requirement, (this.violations.get(f.requirement) ?? 0) + 1);
    if (this.samples.length >= this.#maxSamples || this.samples.some((s) => s.requirement === f.requirement)) return undefined;
    const sample: ViolationSample = { requirement: f.requirement, expected: f.expected, actual: f.actual, connection, requestId: f.requestId, entries: ring() };
    this.samples.push(sample);
    return sample;
  }
}

// A request's output as the probe check collects it, bounded.
interface Collected {
  stdout: Uint8Array[];
  stderr: Uint8Array[];
  bytes: number;
  overflow: boolean;
  aborted: boolean;
}

const EMPTY = new Uint8Array(0);
// The bench sends every request in the Responder role; the validator reads the role from BEGIN_REQUEST bodies.
const RESPONDER_BEGIN_BODY = encodeBeginRequestBody({ role: FCGI_RESPONDER, flags: FCGI_KEEP_CONN });

/**
 * Our own records need no judging, only their headers (the validator learns which ids are active from
 * BEGIN_REQUEST and ABORT_REQUEST), so they are scanned, not decoded: no allocation per record.
 */
class HeaderScanner {
  readonly #header = new Uint8Array(FCGI_HEADER_LEN);
  #fill = 0;
  #skip = 0; // content and padding of the current record still to come

  scan(chunk: Uint8Array, onHeader: (type: number, requestId: number) => void): void {
    const n = chunk.length;
    let at = 0;
    while (at < n) {
      if (this.#skip > 0) {
        const take = Math.min(this.#skip, n - at);
        this.#skip -= take;
        at += take;
        continue;
      }
      let h: Uint8Array = chunk;
      let start = at;
      if (this.#fill === 0 && n - at >= FCGI_HEADER_LEN) {
        at += FCGI_HEADER_LEN;
      } else {
        while (this.#fill < FCGI_HEADER_LEN && at < n) this.#header[this.#fill++] = chunk[at++]!;
        if (this.#fill < FCGI_HEADER_LEN) return;
        this.#fill = 0;
        h = this.#header;
        start = 0;
      }
      this.#skip = ((h[start + 4]! << 8) | h[start + 5]!) + h[start + 6]!;
      onHeader(h[start + 1]!, (h[start + 2]! << 8) | h[start + 3]!);
    }
  }
}

class ConnectionTap {
  readonly #hub: TapHub;
  readonly #index: number;
  readonly #validate: boolean;
  readonly #consumer: RecordConsumer | undefined;
  readonly #ring: TranscriptEntry[] = [];
  // Received entries of the ring that began mid-record: a transcript cannot start with one.
  readonly #midRecord = new WeakSet<TranscriptEntry>();
  #ringBytes = 0;
  readonly #following: { sample: ViolationSample; left: number }[] = [];
  readonly #received = new RecordDecoder();
  readonly #sent = new HeaderScanner();
  readonly #validator = new StreamValidator('application', { peerObserved: true });
  readonly #assembler = new StreamAssembler({ maxStreamBytes: Number.POSITIVE_INFINITY });
  readonly #collect: Map<number, Collected> | undefined;
  readonly #probeCap: number;
  #active = 0;
  #peerEnded = false;
  #cause: CloseCause | undefined;

  constructor(hub: TapHub, socket: Socket, index: number, consumer: RecordConsumer | undefined) {
    this.#hub = hub;
    this.#index = index;
    this.#validate = hub.options.validate;
    this.#consumer = consumer;
    const probe = hub.options.probe;
    this.#collect = probe && this.#validate ? new Map() : undefined;
    // Room for the expected answer with its headers, and some: past it the answer is wrong anyway.
    this.#probeCap = probe ? probe.body.length + probe.stderr.length + 64 * 1024 : 0;
    const write = socket.write;
    // Every write of the client goes through here; the chunk is a fresh buffer it never reuses.
    (socket as { write: (...args: unknown[]) => boolean }).write = (...args: unknown[]): boolean => {
      const chunk = args[0];
      if (chunk instanceof Uint8Array) this.#onSent(chunk);
      else if (typeof chunk === 'string') this.#onSent(Buffer.from(chunk));
      return (write as (...a: unknown[]) => boolean).apply(socket, args);
    };
    socket.on('data', (chunk: Buffer) => this.#onReceived(chunk));
    socket.on('end', () => (this.#peerEnded = true));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.#cause ??= err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'reset' : 'error';
    });
    socket.on('close', () => this.#onClose(socket));
  }

  #now(): number {
    return Math.round((performance.now() - this.#hub.origin) * 1000) / 1000;
  }

  #remember(entry: TranscriptEntry, bytes: number): void {
    const ring = this.#ring;
    ring.push(entry);
    this.#ringBytes += bytes;
    while (ring.length > RING_ENTRIES || (this.#ringBytes > RING_BYTES && ring.length > 1)) {
      const old = ring.shift()!;
      if (old.dir === 'sent' || old.dir === 'received') this.#ringBytes -= old.bytes.length;
    }
    for (let i = this.#following.length - 1; i >= 0; i--) {
      const f = this.#following[i]!;
      f.sample.entries.push(entry);
      if (--f.left <= 0) this.#following.splice(i, 1);
    }
  }

  #onSent(chunk: Uint8Array): void {
    this.#hub.bytesSent += chunk.length;
    if (!this.#validate) return;
    this.#remember({ dir: 'sent', atMs: this.#now(), bytes: chunk }, chunk.length);
    this.#sent.scan(chunk, this.#onSentHeader);
  }

  readonly #onSentHeader = (type: number, requestId: number): void => {
    if (type === FCGI_BEGIN_REQUEST) {
      this.#validator.observePeer({ type, requestId, content: RESPONDER_BEGIN_BODY });
      this.#active++;
      this.#collect?.set(requestId, { stdout: [], stderr: [], bytes: 0, overflow: false, aborted: false });
    } else if (type === FCGI_ABORT_REQUEST) {
      this.#validator.observePeer({ type, requestId, content: EMPTY });
      const c = this.#collect?.get(requestId);
      if (c) c.aborted = true;
    }
  };

  #onReceived(chunk: Buffer): void {
    this.#hub.bytesReceived += chunk.length;
    if (!this.#validate) {
      if (this.#consumer) this.#consumer.records(this.#received.push(chunk));
      return;
    }
    const entry: TranscriptEntry = { dir: 'received', atMs: this.#now(), bytes: chunk };
    if (this.#received.pendingBytes > 0) this.#midRecord.add(entry);
    this.#remember(entry, chunk.length);
    const records = this.#received.push(chunk);
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const findings = this.#validator.push(r);
      for (let j = 0; j < findings.length; j++) this.#finding(findings[j]!);
      if (this.#collect) this.#assemble(r);
      else if (r.type === FCGI_END_REQUEST && r.requestId !== FCGI_NULL_REQUEST_ID) {
        const body = decodeEndRequestBody(r.content);
        this.#onEnd(r.requestId, body.protocolStatus, body.appStatus);
      }
    }
    this.#consumer?.records(records);
  }

  // The probe check's path: the assembler turns records into per-request output.
  #assemble(r: DecodedRecord): void {
    const events = this.#assembler.push(r);
    for (let j = 0; j < events.length; j++) {
      const e = events[j]!;
      if (e.kind === 'stream-data') {
        const c = this.#collect!.get(e.requestId);
        if (c && !c.overflow) {
          c.bytes += e.bytes.length;
          if (c.bytes > this.#probeCap) c.overflow = true;
          // A view of the chunk or of the decoder's copy: neither is reused.
          else (e.stream === 'stderr' ? c.stderr : c.stdout).push(e.bytes);
        }
      } else if (e.kind === 'end-request') {
        this.#onEnd(e.requestId, e.body.protocolStatus, e.body.appStatus);
      }
    }
  }

  #onEnd(requestId: number, protocolStatus: number, appStatus: number): void {
    const wasActive = this.#active;
    if (this.#active > 0) this.#active--;
    if (protocolStatus === FCGI_CANT_MPX_CONN && this.#hub.options.multiplexing) {
      this.#finding({
        requirement: 'FCGI-4.1-mpxs-conns',
        expected: 'no FCGI_CANT_MPX_CONN from an application that answered FCGI_MPXS_CONNS=1',
        actual: `FCGI_CANT_MPX_CONN for request ${requestId} with ${wasActive} request(s) active on the connection`,
        offset: 0,
        requestId,
      });
    }
    const c = this.#collect?.get(requestId);
    if (!c) return;
    this.#collect!.delete(requestId);
    const expected = this.#hub.options.probe;
    if (!expected || c.aborted || protocolStatus !== FCGI_REQUEST_COMPLETE) return;
    const problems = c.overflow
      ? [`more than ${this.#probeCap} bytes of output, expected a ${expected.body.length}-byte body`]
      : compareProbeResponse(expected, { stdout: Buffer.concat(c.stdout), stderr: Buffer.concat(c.stderr), appStatus });
    if (problems.length === 0) return;
    this.#finding({
      requirement: 'FCGI-3.3-stream-value-app',
      expected: 'the probe answer the request asks for (probe contract v1)',
      actual: `request ${requestId}: ${problems.join('; ')}`,
      offset: 0,
      requestId,
    });
  }

  #finding(f: ValidationFinding): void {
    const sample = this.#hub.count(f, this.#index, () => this.#sampleStart());
    if (sample) this.#following.push({ sample, left: FOLLOW_ENTRIES });
  }

  // The ring from where a decoder can follow it: received chunks before the first one that starts a record go.
  #sampleStart(): TranscriptEntry[] {
    const ring = this.#ring;
    const first = ring.findIndex((e) => e.dir === 'received' && !this.#midRecord.has(e));
    if (first < 0) return ring.filter((e) => e.dir !== 'received');
    return ring.filter((e, i) => i >= first || e.dir !== 'received');
  }

  #onClose(socket: Socket): void {
    const cause: CloseCause = this.#cause ?? (this.#peerEnded && !this.#hub.closing ? 'peer' : 'local');
    // Closes at the end of the run are fcgispec's own doing, not news.
    if (!this.#hub.closing) this.#hub.closes[cause]++;
    if (!this.#validate) return;
    // Only a close by the application judges a record left unfinished: we may cut one short ourselves.
    if (this.#peerEnded || cause === 'reset') for (const f of this.#validator.end(this.#received.pendingBytes)) this.#finding(f);
    const how: CloseKind = cause === 'peer' ? 'end' : cause;
    const detail = cause === 'local' ? 'closed by fcgispec' : cause === 'peer' ? 'the application closed the connection' : socket.errored ? String((socket.errored as NodeJS.ErrnoException).code ?? 'error') : 'error';
    this.#remember({ dir: 'closed', atMs: this.#now(), how, detail }, 0);
  }
}
