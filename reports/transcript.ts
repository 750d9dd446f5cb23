/**
 * Turns the raw, timed transcripts of a scenario's connections into the report's `Transcript`: bytes decoded
 * into records (one decoder per connection and direction), hex capped per line and per connection, lines
 * capped, and every cap stated with the count of bytes left out.
 */
import type { CloseKind, TranscriptEntry } from '../reference/client/raw-connection.ts';
import { RecordDecoder, type DecodedRecord } from '../reference/codec/record.ts';
import { describeRecord } from '../reference/codec/describe.ts';
import { FCGI_VERSION_1, recordTypeName } from '../spec/constants.ts';
import type { Transcript, TranscriptLine, TranscriptRecord } from './model.ts';

/** The raw transcript of one connection of a scenario. */
export interface ConnectionTranscript {
  /** `RawConnection.transcript`. */
  readonly entries: readonly TranscriptEntry[];
  /** When the connection opened, in ms since the scenario started (default 0); entry times are relative to it. */
  readonly openedAtMs?: number;
  /** Bytes the connection itself did not keep (`RawConnection.omittedBytes`). */
  readonly omittedBytes?: number;
}

/** Caps on what a report keeps of a transcript. */
export interface TranscriptCaps {
  /** Hex bytes kept per connection, both directions together. */
  readonly bytesPerConnection: number;
  /** Hex bytes kept per line. */
  readonly bytesPerLine: number;
  /** Lines kept, including the line that says how many were left out. */
  readonly lines: number;
  /** Decoded records listed per line; the rest are counted in the line's `text`. */
  readonly recordsPerLine: number;
}

export const defaultTranscriptCaps: TranscriptCaps = { bytesPerConnection: 16 * 1024, bytesPerLine: 256, lines: 300, recordsPerLine: 32 };

/** Builds the report transcript of a scenario from its connections' raw transcripts (index = connection number). */
export function buildTranscript(connections: readonly ConnectionTranscript[], caps: Partial<TranscriptCaps> = {}): Transcript {
  const cap = { ...defaultTranscriptCaps, ...caps };
  const lineCap = Math.max(2, cap.lines);
  let omittedBytes = 0;
  const all: TranscriptLine[] = [];

  connections.forEach((conn, index) => {
    omittedBytes += conn.omittedBytes ?? 0;
    const offset = conn.openedAtMs ?? 0;
    const decoders = { sent: new RecordDecoder(), received: new RecordDecoder() };
    let hexRoom = cap.bytesPerConnection;
    for (const entry of conn.entries) {
      const atMs = round(offset + entry.atMs);
      if (entry.dir === 'note') {
        all.push({ atMs, dir: 'note', conn: index, text: entry.text });
        continue;
      }
      if (entry.dir === 'closed') {
        all.push({ atMs, dir: 'closed', conn: index, text: closeText(entry.how, entry.detail) });
        continue;
      }
      const keep = Math.max(0, Math.min(entry.bytes.length, cap.bytesPerLine, hexRoom));
      hexRoom -= keep;
      omittedBytes += entry.bytes.length - keep;
      const decoded = decoders[entry.dir].push(entry.bytes);
      const records = decoded.slice(0, cap.recordsPerLine).map(describe);
      const more = decoded.length - records.length;
      all.push({
        atMs,
        dir: entry.dir,
        conn: index,
        ...(keep > 0 ? { hex: toHex(entry.bytes.subarray(0, keep)) } : {}),
        byteLength: entry.bytes.length,
        ...(records.length > 0 ? { records } : {}),
        ...(more > 0 ? { text: `… and ${more} more records (cap ${cap.recordsPerLine} per line)` } : {}),
      });
    }
  });

  // Connections interleave in time; a stable sort keeps each connection's own order.
  all.sort((a, b) => a.atMs - b.atMs);
  let lines = all;
  if (all.length > lineCap) {
    const head = Math.ceil((lineCap - 1) * 0.75);
    const tail = lineCap - 1 - head;
    const dropped = all.slice(head, all.length - tail);
    const droppedBytes = dropped.reduce((n, l) => n + (l.hex === undefined ? 0 : l.hex.length / 2), 0);
    omittedBytes += droppedBytes;
    const gap: TranscriptLine = {
      atMs: dropped[0]!.atMs,
      dir: 'note',
      conn: dropped[0]!.conn,
      text: `${dropped.length} lines left out (cap ${lineCap} lines)`,
    };
    lines = [...all.slice(0, head), gap, ...all.slice(all.length - tail)];
  }
  return { lines, cap: { bytesPerConnection: cap.bytesPerConnection, bytesPerLine: cap.bytesPerLine, lines: lineCap }, omittedBytes };
}

function closeText(how: CloseKind, detail: string | undefined): string {
  const what: Record<CloseKind, string> = {
    end: 'peer closed (FIN)',
    reset: 'connection reset',
    error: 'socket error',
    overflow: 'stopped reading (too much unread data)',
    local: 'we closed',
  };
  return detail === undefined ? what[how] : `${what[how]}: ${detail}`;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

const hexDigits = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lower-case hex of bytes, no separators. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += hexDigits[b]!;
  return s;
}

/** A decoded record as a transcript shows it. */
export function describe(record: DecodedRecord): TranscriptRecord {
  return {
    type: record.type,
    typeName: recordTypeName(record.type),
    requestId: record.requestId,
    version: record.version,
    contentLength: record.content.length,
    paddingLength: record.paddingLength,
    reserved: record.reserved,
    summary: summarizeBody(record),
  };
}

/**
 * The body part of `describeRecord`'s line (its header part is in the record's own fields). Should the
 * describer's layout change, the whole line is kept rather than a wrong cut.
 */
export function summarizeBody(record: DecodedRecord): string {
  const line = describeRecord(record);
  const head = [recordTypeName(record.type), `id=${record.requestId}`, `len=${record.content.length}`, `pad=${record.paddingLength}`];
  if (record.version !== FCGI_VERSION_1) head.push(`version=${record.version}`);
  if (record.reserved !== 0) head.push(`reserved=0x${record.reserved.toString(16).padStart(2, '0')}`);
  const prefix = head.join(' ');
  if (line === prefix) return '';
  return line.startsWith(`${prefix} `) ? line.slice(prefix.length + 1) : line;
}
