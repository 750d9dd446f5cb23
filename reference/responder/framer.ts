/**
 * The responder's record framer: a lean, callback-driven cousin of the codec's RecordDecoder. It looks at
 * each header as soon as its 8 bytes arrive (so garbage such as an HTTP request is refused at once instead of
 * waiting for a 12 KiB "record"), allocates nothing per connection up front, and copies only the content
 * of a record that straddles chunks (at most 65535 bytes). Content is handed out as Buffer views.
 * @see §3.3
 */
import { FCGI_HEADER_LEN } from '../../spec/constants.ts';

/** Receives what the framer finds. Returning false from either method stops the framer for good. */
export interface FrameSink {
  /** A header arrived; `false` refuses it (the framer stops). */
  header(version: number, type: number, requestId: number, contentLength: number): boolean;
  /** A record's content is complete (its padding may still be arriving). The content is a view. */
  record(type: number, requestId: number, content: Buffer): boolean;
}

const EMPTY = Buffer.alloc(0);
const HEADER = 0;
const CONTENT = 1;
const PADDING = 2;

export class Framer {
  readonly #sink: FrameSink;
  readonly #header = new Uint8Array(FCGI_HEADER_LEN);
  #headerFill = 0;
  #state = HEADER;
  #type = 0;
  #requestId = 0;
  #contentLength = 0;
  #paddingLeft = 0;
  #partial: Buffer | undefined;
  #partialFill = 0;
  #stopped = false;

  constructor(sink: FrameSink) {
    this.#sink = sink;
  }

  /** Bytes of a record held between chunks (content of a straddling record, or header bytes). */
  get pendingBytes(): number {
    return this.#state === HEADER ? this.#headerFill : this.#state === CONTENT ? this.#partialFill : 0;
  }

  /** Feeds a chunk; returns false once the sink has stopped the framer. */
  push(chunk: Buffer): boolean {
    let at = 0;
    const n = chunk.length;
    while (at < n && !this.#stopped) {
      if (this.#state === HEADER) {
        if (this.#headerFill === 0 && n - at >= FCGI_HEADER_LEN) {
          at = this.#onHeader(chunk, at);
          continue;
        }
        const take = Math.min(FCGI_HEADER_LEN - this.#headerFill, n - at);
        this.#header.set(chunk.subarray(at, at + take), this.#headerFill);
        this.#headerFill += take;
        at += take;
        if (this.#headerFill === FCGI_HEADER_LEN) {
          this.#headerFill = 0;
          this.#onHeader(this.#header, 0);
        }
      } else if (this.#state === CONTENT) {
        const want = this.#contentLength - this.#partialFill;
        if (this.#partial === undefined && n - at >= want) {
          // the whole content lies in this chunk: hand out a view
          this.#deliver(chunk.subarray(at, at + want));
          at += want;
          continue;
        }
        const partial = (this.#partial ??= Buffer.allocUnsafe(this.#contentLength));
        const take = Math.min(want, n - at);
        chunk.copy(partial, this.#partialFill, at, at + take);
        this.#partialFill += take;
        at += take;
        if (this.#partialFill === this.#contentLength) {
          this.#partial = undefined;
          this.#partialFill = 0;
          this.#deliver(partial);
        }
      } else {
        const skip = Math.min(this.#paddingLeft, n - at);
        this.#paddingLeft -= skip;
        at += skip;
        if (this.#paddingLeft === 0) this.#state = HEADER;
      }
    }
    return !this.#stopped;
  }

  // Reads a complete header at `at`; returns the offset after it.
  #onHeader(b: Uint8Array, at: number): number {
    const version = b[at]!;
    this.#type = b[at + 1]!;
    this.#requestId = (b[at + 2]! << 8) | b[at + 3]!;
    this.#contentLength = (b[at + 4]! << 8) | b[at + 5]!;
    this.#paddingLeft = b[at + 6]!;
    if (!this.#sink.header(version, this.#type, this.#requestId, this.#contentLength)) {
      this.#stopped = true;
      return at + FCGI_HEADER_LEN;
    }
    if (this.#contentLength === 0) this.#deliver(EMPTY);
    else this.#state = CONTENT;
    return at + FCGI_HEADER_LEN;
  }

  #deliver(content: Buffer): void {
    this.#state = this.#paddingLeft > 0 ? PADDING : HEADER;
    if (!this.#sink.record(this.#type, this.#requestId, content)) this.#stopped = true;
  }
}
