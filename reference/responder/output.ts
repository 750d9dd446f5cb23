/**
 * The responder's output side: encodes records with 8-byte alignment, gathering the writes of one tick
 * into one socket write, and the slower fault-aware path used when a fault rewrites records or their timing.
 * @see §3.3 (padding), §5.3 (streams)
 */
import type { Duplex } from 'node:stream';
import { FCGI_END_REQUEST, FCGI_HEADER_LEN, FCGI_STDERR, FCGI_STDOUT, FCGI_VERSION_1 } from '../../spec/constants.ts';
import { ActiveFaults } from './faults.ts';

/**
 * Largest content written per output record: the largest multiple of 8 that fits contentLength, so full
 * records need no padding. @see §3.3
 */
export const MAX_RECORD_CONTENT = 65528;
// Content at most this long is copied into one buffer with its header; longer content is written as a view.
const COPY_LIMIT = 4080;
const ZEROS = Buffer.alloc(256);
const RESOLVED: Promise<void> = Promise.resolve();

/** One output record before encoding. */
export interface OutRecord {
  readonly type: number;
  readonly content: Uint8Array;
}

function writeHeaderInto(buf: Buffer, at: number, version: number, type: number, requestId: number, length: number, padding: number, reserved: number): void {
  buf[at] = version;
  buf[at + 1] = type;
  buf[at + 2] = requestId >>> 8;
  buf[at + 3] = requestId & 0xff;
  buf[at + 4] = length >>> 8;
  buf[at + 5] = length & 0xff;
  buf[at + 6] = padding;
  buf[at + 7] = reserved;
}

/** Encodes records of one request into one buffer (small records: terminators, END_REQUEST, management). */
export function encodeRecords(requestId: number, records: readonly OutRecord[]): Buffer {
  let total = 0;
  for (const r of records) total += FCGI_HEADER_LEN + r.content.length + ((8 - (r.content.length & 7)) & 7);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const r of records) {
    const len = r.content.length;
    const pad = (8 - (len & 7)) & 7;
    writeHeaderInto(out, at, FCGI_VERSION_1, r.type, requestId, len, pad, 0);
    out.set(r.content, at + FCGI_HEADER_LEN);
    out.fill(0, at + FCGI_HEADER_LEN + len, at + FCGI_HEADER_LEN + len + pad);
    at += FCGI_HEADER_LEN + len + pad;
  }
  return out;
}

/**
 * The end of a request in one buffer: the empty FCGI_STDOUT, the empty FCGI_STDERR when STDERR was used,
 * and FCGI_END_REQUEST {appStatus, FCGI_REQUEST_COMPLETE}. @see §5.3 §5.5
 */
export function encodeEndRecords(requestId: number, stderrUsed: boolean, appStatus: number): Buffer {
  const out = Buffer.alloc(stderrUsed ? 32 : 24);
  let at = 0;
  writeHeaderInto(out, at, FCGI_VERSION_1, FCGI_STDOUT, requestId, 0, 0, 0);
  if (stderrUsed) writeHeaderInto(out, (at += 8), FCGI_VERSION_1, FCGI_STDERR, requestId, 0, 0, 0);
  writeHeaderInto(out, (at += 8), FCGI_VERSION_1, FCGI_END_REQUEST, requestId, 8, 0, 0);
  out.writeUInt32BE(appStatus >>> 0, at + 8); // protocolStatus (FCGI_REQUEST_COMPLETE) and reserved stay 0
  return out;
}

// Pieces up to this size are gathered and copied into one buffer per tick; larger ones are written as they are.
const SMALL_PIECE = 4096;
// Gathered small pieces are handed to the socket once they reach this total.
const JOIN_LIMIT = 16 * 1024;
// Backlog held behind a locked writer past which writers are told to wait.
const BACKLOG_HIGH_WATER = 64 * 1024;

/**
 * Writes to one connection's socket. Small records of one tick (a whole small response, usually) are joined
 * into one buffer; large ones go to the socket corked, so one tick's output leaves in one write or writev.
 * Everything is handed to the socket within the tick, so `congested` tells the truth.
 */
export class RecordWriter {
  readonly #socket: Duplex;
  #small: Uint8Array[] = [];
  #smallBytes = 0;
  #scheduled = false;
  #corked = false;
  #drainWaiters: (() => void)[] = [];
  // Exclusive use, for a record written in pieces over several ticks: others' output waits in the backlog.
  #locked = false;
  #lockWaiters: (() => void)[] = [];
  #backlog: Uint8Array[] = [];
  #backlogBytes = 0;
  readonly #endOfTick = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  constructor(socket: Duplex) {
    this.#socket = socket;
    socket.on('drain', () => this.#releaseDrain());
    socket.on('close', () => this.#releaseDrain());
  }

  /** True while the socket (or the backlog behind a locked writer) holds more than its high-water mark. */
  get congested(): boolean {
    return this.#socket.writableNeedDrain || this.#backlogBytes >= BACKLOG_HIGH_WATER;
  }

  get usable(): boolean {
    return !this.#socket.destroyed && this.#socket.writable;
  }

  /** Resolves once the socket is no longer congested (or is closed). */
  whenDrained(): Promise<void> {
    if (!this.congested || !this.usable) return RESOLVED;
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Writes bytes as they are. */
  raw(bytes: Uint8Array): void {
    if (!this.usable) return;
    if (this.#locked) {
      this.#backlog.push(bytes);
      this.#backlogBytes += bytes.length;
      return;
    }
    this.#write(bytes);
  }

  /** Waits for exclusive use of the socket (see `rawLocked`); `release()` gives it back. */
  acquire(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return RESOLVED;
    }
    return new Promise((resolve) => this.#lockWaiters.push(resolve));
  }

  /** Writes while holding the lock. */
  rawLocked(bytes: Uint8Array): void {
    if (this.usable) this.#write(bytes);
  }

  /** Gives the lock back: the backlog goes out, then the next waiter gets the lock. */
  release(): void {
    this.#locked = false;
    const backlog = this.#backlog;
    this.#backlog = [];
    this.#backlogBytes = 0;
    for (const b of backlog) this.raw(b);
    const next = this.#lockWaiters.shift();
    if (next) {
      this.#locked = true;
      next();
    }
    this.#releaseDrain();
  }

  #write(bytes: Uint8Array): void {
    if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(this.#endOfTick);
    }
    if (bytes.length <= SMALL_PIECE) {
      this.#small.push(bytes);
      this.#smallBytes += bytes.length;
      if (this.#smallBytes < JOIN_LIMIT) return;
      this.#cork();
      this.#writeSmall();
      return;
    }
    this.#cork();
    this.#writeSmall();
    this.#socket.write(bytes);
  }

  /** Hands everything gathered to the socket now. */
  flush(): void {
    this.#writeSmall();
    if (this.#corked) {
      this.#corked = false;
      this.#socket.uncork();
    }
  }

  #cork(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.#socket.cork();
  }

  #writeSmall(): void {
    const parts = this.#small;
    if (parts.length === 0) return;
    const total = this.#smallBytes;
    this.#small = [];
    this.#smallBytes = 0;
    if (!this.usable) return;
    this.#socket.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts, total));
  }

  /** Writes `data` as the non-empty records of one stream, at most MAX_RECORD_CONTENT bytes each, aligned. */
  stream(type: number, requestId: number, data: Uint8Array): void {
    for (let at = 0; at < data.length; at += MAX_RECORD_CONTENT) {
      const len = Math.min(MAX_RECORD_CONTENT, data.length - at);
      const pad = (8 - (len & 7)) & 7;
      if (len <= COPY_LIMIT) {
        const out = Buffer.allocUnsafe(FCGI_HEADER_LEN + len + pad);
        writeHeaderInto(out, 0, FCGI_VERSION_1, type, requestId, len, pad, 0);
        out.set(data.subarray(at, at + len), FCGI_HEADER_LEN);
        if (pad) out.fill(0, FCGI_HEADER_LEN + len);
        this.raw(out);
      } else {
        const header = Buffer.allocUnsafe(FCGI_HEADER_LEN);
        writeHeaderInto(header, 0, FCGI_VERSION_1, type, requestId, len, pad, 0);
        this.raw(header);
        this.raw(data.subarray(at, at + len));
        if (pad) this.raw(ZEROS.subarray(0, pad));
      }
    }
  }

  /** Ends the socket after pending output. */
  end(): void {
    this.flush();
    if (!this.#socket.destroyed) this.#socket.end();
  }

  #releaseDrain(): void {
    const waiters = this.#drainWaiters;
    if (waiters.length === 0) return;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }
}

/** How the fault-aware path should encode and deliver the records of one request. */
export function encodeFaulty(requestId: number, record: OutRecord, fx: ActiveFaults): Uint8Array {
  const len = record.content.length;
  const aligned = (8 - (len & 7)) & 7;
  let pad = aligned;
  if (fx.has('padding-255')) pad = aligned + 248;
  else if (fx.has('bad-padding')) pad = aligned === 0 ? 1 : aligned - 1;
  const announced = fx.has('short-padding') ? Math.min(255, pad + 1) : pad;
  const id = fx.has('wrong-request-id') ? ((requestId + 1) & 0xffff) || 1 : requestId;
  const version = fx.arg('wrong-version') ?? FCGI_VERSION_1;
  const reserved = fx.has('nonzero-reserved') ? 0xa5 : 0;
  let content = record.content;
  if (reserved && record.type === FCGI_END_REQUEST && len === 8) {
    content = Uint8Array.from(content);
    content.fill(reserved, 5);
  }
  const out = Buffer.alloc(FCGI_HEADER_LEN + len + pad);
  writeHeaderInto(out, 0, version & 0xff, record.type, id, len, announced, reserved);
  out.set(content, FCGI_HEADER_LEN);
  return out;
}
