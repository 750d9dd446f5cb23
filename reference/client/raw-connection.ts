/**
 * Raw mode: send any bytes or records, receive every record and the close or reset as timed events.
 * This is the engine under the conformance harness and under `fcgispec request --raw`.
 *
 * Timeouts and closes are values, not rejections, so "the peer must close" reads as a normal expectation.
 * Everything received is bounded: one record in progress (≤ 65 799 bytes), a capped transcript, and a cap on
 * undelivered events after which the connection is destroyed and an `overflow` close is reported.
 */
import type { Duplex } from 'node:stream';
import { encodeRecord, RecordDecoder, type DecodedRecord, type EncodeOptions, type RecordInit } from '../codec/record.ts';
import { connectTo, type Address } from '../address.ts';

/** Something the peer did, stamped with milliseconds since the connection opened. */
export type PeerEvent =
  | { readonly kind: 'record'; readonly record: DecodedRecord; readonly atMs: number }
  | { readonly kind: 'closed'; readonly atMs: number; readonly how: CloseKind; readonly detail?: string }
  | { readonly kind: 'timeout'; readonly afterMs: number; readonly atMs: number };

/** `end`: orderly FIN; `reset`: ECONNRESET/EPIPE; `error`: other socket error; `overflow`: we stopped reading; `local`: we closed. */
export type CloseKind = 'end' | 'reset' | 'error' | 'overflow' | 'local';

/** One line of a transcript: bytes sent or received, or the close. */
export type TranscriptEntry =
  | { readonly dir: 'sent' | 'received'; readonly atMs: number; readonly bytes: Uint8Array }
  | { readonly dir: 'closed'; readonly atMs: number; readonly how: CloseKind; readonly detail?: string }
  | { readonly dir: 'note'; readonly atMs: number; readonly text: string };

/** Limits of a raw connection. */
export interface RawConnectionLimits {
  /** Bytes of traffic kept in the transcript, both directions together; later bytes are counted, not kept. */
  readonly transcriptBytes: number;
  /** Bytes of received records not yet taken by `next()`; past it the connection is destroyed. */
  readonly queuedBytes: number;
}

export const defaultRawConnectionLimits: RawConnectionLimits = {
  transcriptBytes: 256 * 1024,
  queuedBytes: 256 * 1024 * 1024,
};

/** A connection to a FastCGI peer at the level of bytes and records. */
export class RawConnection {
  readonly #socket: Duplex;
  readonly #limits: RawConnectionLimits;
  readonly #decoder = new RecordDecoder();
  readonly #events: PeerEvent[] = [];
  readonly #waiters: ((e: PeerEvent) => void)[] = [];
  readonly #transcript: TranscriptEntry[] = [];
  readonly #t0 = performance.now();
  #transcriptBytes = 0;
  #omittedBytes = 0;
  #queuedBytes = 0;
  #closed: Extract<PeerEvent, { kind: 'closed' }> | undefined;
  #bytesSent = 0;
  #bytesReceived = 0;

  constructor(socket: Duplex, limits: Partial<RawConnectionLimits> = {}) {
    this.#socket = socket;
    this.#limits = { ...defaultRawConnectionLimits, ...limits };
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onClose('end'));
    socket.on('close', () => this.#onClose('end'));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const how: CloseKind = err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'reset' : 'error';
      this.#onClose(how, err.code ?? err.message);
    });
  }

  /** Connects to a TCP or Unix address. */
  static async connect(address: Address, options: { timeoutMs?: number; limits?: Partial<RawConnectionLimits> } = {}): Promise<RawConnection> {
    return new RawConnection(await connectTo(address, options.timeoutMs), options.limits);
  }

  /** Milliseconds since the connection was opened. */
  now(): number {
    return Math.round((performance.now() - this.#t0) * 1000) / 1000;
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }
  get bytesSent(): number {
    return this.#bytesSent;
  }
  get bytesReceived(): number {
    return this.#bytesReceived;
  }
  /** The timed transcript so far (capped; see `omittedBytes`). */
  get transcript(): readonly TranscriptEntry[] {
    return this.#transcript;
  }
  /** Bytes of traffic left out of the transcript because of its cap. */
  get omittedBytes(): number {
    return this.#omittedBytes;
  }

  /** Writes bytes as they are; resolves when the socket accepted them (backpressure). Never rejects. */
  async sendBytes(bytes: Uint8Array): Promise<void> {
    if (this.#closed || this.#socket.destroyed || !this.#socket.writable) return;
    this.#record({ dir: 'sent', atMs: this.now(), bytes });
    this.#bytesSent += bytes.length;
    const flushed = this.#socket.write(bytes);
    if (!flushed) await this.#drainOrClose();
  }

  /** Encodes and writes one record (see `encodeRecord` for lying on purpose). */
  sendRecord(record: RecordInit, options?: EncodeOptions): Promise<void> {
    return this.sendBytes(encodeRecord(record, options));
  }

  /** Writes bytes in pieces of the given sizes (cycled), each as its own write, to exercise reassembly. */
  async sendSplit(bytes: Uint8Array, pieceSizes: readonly number[]): Promise<void> {
    let at = 0;
    let i = 0;
    while (at < bytes.length) {
      const size = Math.max(1, pieceSizes[i++ % Math.max(1, pieceSizes.length)] ?? bytes.length);
      await this.sendBytes(bytes.subarray(at, at + size));
      await new Promise<void>((r) => setImmediate(r));
      at += size;
    }
  }

  /** Adds a line of commentary to the transcript (e.g. "sleeping 200 ms"). */
  note(text: string): void {
    this.#transcript.push({ dir: 'note', atMs: this.now(), text });
  }

  /**
   * The next event: a record, the close, or a `timeout` after `timeoutMs`. After the close, every call
   * returns the close event again.
   */
  next(timeoutMs: number): Promise<PeerEvent> {
    const queued = this.#events.shift();
    if (queued) {
      if (queued.kind === 'record') this.#queuedBytes -= queued.record.content.length;
      return Promise.resolve(queued);
    }
    if (this.#closed) return Promise.resolve(this.#closed);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        resolve({ kind: 'timeout', afterMs: timeoutMs, atMs: this.now() });
      }, timeoutMs);
      const waiter = (e: PeerEvent): void => {
        clearTimeout(timer);
        resolve(e);
      };
      this.#waiters.push(waiter);
    });
  }

  /** Events already received and not yet taken, without waiting. */
  drainQueued(): PeerEvent[] {
    const out = this.#events.splice(0);
    this.#queuedBytes = 0;
    return out;
  }

  /** Half-closes our side (FIN) after pending writes. */
  end(): void {
    this.#socket.end();
  }

  /** Closes the connection at once. */
  destroy(): void {
    if (!this.#closed) this.#onClose('local');
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
    this.#bytesReceived += bytes.length;
    this.#record({ dir: 'received', atMs: this.now(), bytes });
    const atMs = this.now();
    for (const record of this.#decoder.push(bytes)) this.#emit({ kind: 'record', record, atMs });
    if (this.#queuedBytes > this.#limits.queuedBytes) {
      this.#onClose('overflow', `more than ${this.#limits.queuedBytes} bytes received and not read`);
      this.#socket.destroy();
    }
  }

  #onClose(how: CloseKind, detail?: string): void {
    if (this.#closed) return;
    const pending = this.#decoder.pendingBytes;
    const text = pending > 0 ? `${detail ? `${detail}; ` : ''}${pending} bytes of an unfinished record` : detail;
    const event = { kind: 'closed', atMs: this.now(), how, ...(text === undefined ? {} : { detail: text }) } as const;
    this.#closed = event;
    this.#transcript.push({ dir: 'closed', atMs: event.atMs, how, ...(text === undefined ? {} : { detail: text }) });
    this.#emit(event);
  }

  #emit(event: PeerEvent): void {
    const waiter = this.#waiters.shift();
    if (waiter) return waiter(event);
    if (event.kind === 'record') this.#queuedBytes += event.record.content.length;
    this.#events.push(event);
  }

  #record(entry: Extract<TranscriptEntry, { bytes: Uint8Array }>): void {
    const room = this.#limits.transcriptBytes - this.#transcriptBytes;
    if (room <= 0) {
      this.#omittedBytes += entry.bytes.length;
      return;
    }
    const bytes = entry.bytes.length <= room ? entry.bytes.slice() : entry.bytes.slice(0, room);
    this.#omittedBytes += entry.bytes.length - bytes.length;
    this.#transcriptBytes += bytes.length;
    this.#transcript.push({ ...entry, bytes });
  }

  #drainOrClose(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.#socket.off('drain', done);
        this.#socket.off('close', done);
        resolve();
      };
      this.#socket.once('drain', done);
      this.#socket.once('close', done);
    });
  }
}
