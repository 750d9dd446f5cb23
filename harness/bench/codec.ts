/**
 * Bench section `codec`: how fast the pure codec frames a large FCGI_STDOUT stream, against a plain copy of
 * the same bytes.
 *
 * - Data: `FCGISPEC_BENCH_MB` MiB (default 256) of patterned bytes, encoded with `encodeStream` into FCGI_STDOUT
 *   records of 65 535 content bytes plus 1 padding byte (8-byte alignment, §3.3), then one empty record.
 * - decode: `StreamAssembler.pushBytes` over the encoded bytes fed as Buffer chunks (what a socket delivers) of
 *   64 KiB (a Node socket read) and of 1 MiB. Stream data are views of the chunks, also of a record cut across
 *   two chunks, so decoding copies nothing. For comparison, the record path (`RecordDecoder` + `push`): with
 *   64 KiB chunks nearly every 65 544-byte record straddles two chunks and is copied once, into a fresh buffer.
 * - encode: `encodeStream` of the whole payload (what callers use; allocates its output), and `encodeStreamInto`
 *   a preallocated, pre-touched buffer (the same work as the baseline: one pass writing every byte).
 * - copy: `Buffer.copy` of the encoded bytes into a preallocated, pre-touched buffer: the baseline. Also a copy
 *   into freshly allocated memory: the most any allocating encoder can reach (its pages are faulted in as written).
 * Each figure is the best of `FCGISPEC_BENCH_REPS` (default 5) timed runs after one warm-up run; MB = 10^6 bytes.
 */
import { FCGI_STDOUT } from '../../spec/constants.ts';
import { encodeStream, encodeStreamInto, RecordDecoder } from '../../reference/codec/record.ts';
import { StreamAssembler } from '../../reference/codec/stream-assembler.ts';
import type { BenchRow, BenchSection } from './section.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

// Best (smallest) wall time in seconds of `reps` runs, after one warm-up run. `run` returns a check value.
function bestSeconds(reps: number, run: () => number, expected: number): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i <= reps; i++) {
    const t0 = performance.now();
    const check = run();
    const seconds = (performance.now() - t0) / 1000;
    if (check !== expected) throw new Error(`bench codec: run produced ${check}, expected ${expected}`);
    if (i > 0) best = Math.min(best, seconds);
  }
  return best;
}

function payload(size: number): Uint8Array {
  const block = new Uint8Array(64 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = (i * 131 + 7) & 0xff;
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += block.length) out.set(block.subarray(0, Math.min(block.length, size - at)), at);
  return out;
}

// What a reader of a socket does: frame records, assemble streams, count the stdout bytes it was handed.
function decodeBytes(encoded: Uint8Array, chunk: number): number {
  const assembler = new StreamAssembler({ maxStreamBytes: Number.POSITIVE_INFINITY });
  let bytes = 0;
  for (let at = 0; at < encoded.length; at += chunk) {
    for (const event of assembler.pushBytes(encoded.subarray(at, at + chunk))) if (event.kind === 'stream-data') bytes += event.bytes.length;
  }
  return bytes;
}

// The same through whole records.
function decodeRecords(encoded: Uint8Array, chunk: number): number {
  const decoder = new RecordDecoder();
  const assembler = new StreamAssembler({ maxStreamBytes: Number.POSITIVE_INFINITY });
  let bytes = 0;
  for (let at = 0; at < encoded.length; at += chunk) {
    for (const record of decoder.push(encoded.subarray(at, at + chunk))) {
      for (const event of assembler.push(record)) if (event.kind === 'stream-data') bytes += event.bytes.length;
    }
  }
  return bytes;
}

export const codecSection: BenchSection = {
  name: 'codec',
  title: 'Record codec throughput (FCGI_STDOUT, 65 535-byte records)',
  async run(): Promise<BenchRow[]> {
    const size = Math.round(envNumber('FCGISPEC_BENCH_MB', 256) * MiB);
    const reps = Math.round(envNumber('FCGISPEC_BENCH_REPS', 5));
    const data = payload(size);
    const encoded = encodeStream(FCGI_STDOUT, 1, data);
    const mbps = (bytes: number, seconds: number): number => bytes / seconds / 1e6;
    const note = `${(size / MiB).toFixed(0)} MiB, best of ${reps}`;

    const source = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.length);
    const target = Buffer.alloc(encoded.length); // zero-filled: its pages are touched before timing
    const copy = bestSeconds(reps, () => source.copy(target), encoded.length);
    const freshCopy = bestSeconds(reps, () => source.copy(Buffer.allocUnsafeSlow(source.length)), encoded.length);

    const decode64k = bestSeconds(reps, () => decodeBytes(source, 64 * KiB), size);
    const decode1m = bestSeconds(reps, () => decodeBytes(source, MiB), size);
    const records64k = bestSeconds(reps, () => decodeRecords(source, 64 * KiB), size);
    const records1m = bestSeconds(reps, () => decodeRecords(source, MiB), size);
    const encode = bestSeconds(reps, () => encodeStream(FCGI_STDOUT, 1, data).length, encoded.length);
    const encodeInto = bestSeconds(reps, () => encodeStreamInto(target, 0, FCGI_STDOUT, 1, data), encoded.length);

    const baseline = 'Buffer.copy';
    const vsFresh = (seconds: number): string => `${(freshCopy / seconds).toFixed(2)}× a copy into fresh memory`;
    return [
      { name: baseline, value: mbps(encoded.length, copy), unit: 'MB/s', note: `${note}; into a preallocated buffer` },
      { name: 'Buffer.copy, fresh memory', value: mbps(encoded.length, freshCopy), unit: 'MB/s', baseline: { name: baseline }, note: 'into Buffer.allocUnsafeSlow: the ceiling for an allocating encoder' },
      { name: 'decode + assemble (pushBytes), 64 KiB chunks', value: mbps(encoded.length, decode64k), unit: 'MB/s', baseline: { name: baseline, goal: 1 }, note: 'views, straddling records included' },
      { name: 'decode + assemble (pushBytes), 1 MiB chunks', value: mbps(encoded.length, decode1m), unit: 'MB/s', baseline: { name: baseline, goal: 1 }, note: 'views' },
      { name: 'record path (RecordDecoder + push), 64 KiB', value: mbps(encoded.length, records64k), unit: 'MB/s', baseline: { name: baseline }, note: 'for comparison: straddling records copied once' },
      { name: 'record path (RecordDecoder + push), 1 MiB', value: mbps(encoded.length, records1m), unit: 'MB/s', baseline: { name: baseline }, note: 'for comparison: one straddler copied per chunk' },
      { name: 'encode, encodeStream', value: mbps(size, encode), unit: 'MB/s', baseline: { name: baseline, goal: 0.5 }, note: `allocates its output; ${vsFresh(encode)}` },
      { name: 'encode, encodeStreamInto', value: mbps(size, encodeInto), unit: 'MB/s', baseline: { name: baseline, goal: 0.5 }, note: 'into a preallocated buffer' },
    ];
  },
};
