/**
 * Zero-copy record framing: bytes → headers and views of the input. Pure: no I/O, no timers, no clock.
 *
 * The lower layer under `RecordDecoder`'s job: where the decoder hands out whole records (and so must copy a
 * record that straddles chunks), the framer hands out each record's content and padding as views of the
 * chunks they arrived in, in as many pieces as the chunks cut them into. It holds at most the 8 bytes of a
 * header cut across chunks, whatever the peer declares, and never buffers content.
 * @see FastCGI Specification §3.3
 */
import { FCGI_HEADER_LEN } from '../../spec/constants.ts';
import { readHeader, type RecordHeader } from './record.ts';

/** Receives what `RecordFramer.feed` finds, in stream order. Pieces are views of the chunk being fed. */
export interface FramerSink {
  /** A header is complete; `offset` is its first byte's offset in the stream. */
  header(header: RecordHeader, offset: number): void;
  /** Non-empty content of the current record; `at` is the index of `bytes[0]` in the record's content. */
  content(bytes: Uint8Array, at: number): void;
  /** Non-empty padding of the current record; `at` is the index of `bytes[0]` in the record's padding. */
  padding(bytes: Uint8Array, at: number): void;
  /** The current record's last byte has been fed (right after its header for an empty, unpadded record). */
  recordEnd(header: RecordHeader, offset: number): void;
}

/** What `RecordFramer.push` found; the same calls as `FramerSink`, as data. */
export type FramerEvent =
  | { readonly kind: 'header'; readonly header: RecordHeader; readonly offset: number }
  | { readonly kind: 'content'; readonly bytes: Uint8Array; readonly at: number }
  | { readonly kind: 'padding'; readonly bytes: Uint8Array; readonly at: number }
  | { readonly kind: 'record-end'; readonly header: RecordHeader; readonly offset: number };

/**
 * Streaming record framer. Feed it chunks split anywhere: any 8 bytes frame a header, the framer never judges
 * and never throws. Content and padding are views of the chunks fed, valid as long as the caller leaves those
 * chunks unchanged; a record's content may come in several pieces. @see §3.3
 */
export class RecordFramer {
  // A header cut across chunks: its first bytes, until all 8 are here.
  readonly #headerBytes = new Uint8Array(FCGI_HEADER_LEN);
  #headerFill = 0;
  #current: RecordHeader | undefined; // the record being framed, once its header is complete
  #contentLeft = 0;
  #paddingLeft = 0;
  #offset = 0; // stream offset of the current (or next) record's header

  /** Bytes fed so far. */
  get bytesFed(): number {
    return this.#offset + this.pendingBytes;
  }

  /** Bytes of an unfinished record fed so far (0 at a record boundary). At most 8 of them are held. */
  get pendingBytes(): number {
    const h = this.#current;
    if (h === undefined) return this.#headerFill;
    return FCGI_HEADER_LEN + h.contentLength - this.#contentLeft + h.paddingLength - this.#paddingLeft;
  }

  /** Feeds a chunk; tells `sink` what it completed or carried, in order. */
  feed(chunk: Uint8Array, sink: FramerSink): void {
    const length = chunk.length;
    let at = 0;
    while (at < length) {
      let h = this.#current;
      if (h === undefined) {
        if (this.#headerFill === 0 && length - at >= FCGI_HEADER_LEN) {
          h = readHeader(chunk, at);
          at += FCGI_HEADER_LEN;
        } else {
          const take = Math.min(FCGI_HEADER_LEN - this.#headerFill, length - at);
          this.#headerBytes.set(chunk.subarray(at, at + take), this.#headerFill);
          this.#headerFill += take;
          at += take;
          if (this.#headerFill < FCGI_HEADER_LEN) break;
          this.#headerFill = 0;
          h = readHeader(this.#headerBytes);
        }
        this.#current = h;
        this.#contentLeft = h.contentLength;
        this.#paddingLeft = h.paddingLength;
        sink.header(h, this.#offset);
      } else if (this.#contentLeft > 0) {
        const take = Math.min(this.#contentLeft, length - at);
        const index = h.contentLength - this.#contentLeft;
        this.#contentLeft -= take;
        sink.content(chunk.subarray(at, at + take), index);
        at += take;
      } else {
        const take = Math.min(this.#paddingLeft, length - at);
        const index = h.paddingLength - this.#paddingLeft;
        this.#paddingLeft -= take;
        sink.padding(chunk.subarray(at, at + take), index);
        at += take;
      }
      if (this.#contentLeft === 0 && this.#paddingLeft === 0) this.#endRecord(h, sink);
    }
  }

  /** Feeds a chunk; returns what it found, in order. */
  push(chunk: Uint8Array): FramerEvent[] {
    const out: FramerEvent[] = [];
    this.feed(chunk, {
      header: (header, offset) => out.push({ kind: 'header', header, offset }),
      content: (bytes, at) => out.push({ kind: 'content', bytes, at }),
      padding: (bytes, at) => out.push({ kind: 'padding', bytes, at }),
      recordEnd: (header, offset) => out.push({ kind: 'record-end', header, offset }),
    });
    return out;
  }

  /** Forgets any unfinished record and starts over at stream offset 0. */
  reset(): void {
    this.#headerFill = 0;
    this.#current = undefined;
    this.#contentLeft = 0;
    this.#paddingLeft = 0;
    this.#offset = 0;
  }

  #endRecord(h: RecordHeader, sink: FramerSink): void {
    const offset = this.#offset;
    this.#current = undefined;
    this.#offset = offset + FCGI_HEADER_LEN + h.contentLength + h.paddingLength;
    sink.recordEnd(h, offset);
  }
}
