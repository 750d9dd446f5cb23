/**
 * Plain-text renderings shared by the JUnit writer (system-out) and the console (verbose mode). Pure; the
 * caller escapes the result for its medium.
 */
import type { ScenarioResult, Transcript, TranscriptLine, TranscriptRecord } from './model.ts';

const arrows: Record<TranscriptLine['dir'], string> = { sent: '→', received: '←', closed: '×', note: '·' };

/** One record as one line: `FCGI_PARAMS id=1 len=45 pad=3: 2 pairs: …`. */
export function recordLine(r: TranscriptRecord): string {
  const header = [`id=${r.requestId}`, `len=${r.contentLength}`, `pad=${r.paddingLength}`];
  if (r.version !== 1) header.push(`version=${r.version}`);
  if (r.reserved !== 0) header.push(`reserved=0x${r.reserved.toString(16).padStart(2, '0')}`);
  return `${r.typeName} ${header.join(' ')}${r.summary ? `: ${r.summary}` : ''}`;
}

/** A transcript as text lines: time, connection, direction, then each decoded record (no hex). */
export function transcriptText(t: Transcript): string[] {
  const out: string[] = [];
  for (const line of t.lines) {
    const time = `${line.atMs.toFixed(1).padStart(9)} ms`;
    const prefix = `${time}  #${line.conn} ${arrows[line.dir]} `;
    const bytes = line.byteLength === undefined ? '' : `${line.byteLength} B`;
    const first = line.records?.[0];
    if (line.dir === 'sent' || line.dir === 'received') {
      out.push(`${prefix}${bytes.padEnd(8)}${first ? recordLine(first) : line.hex === undefined ? '' : '(no complete record yet)'}`);
      for (const r of line.records?.slice(1) ?? []) out.push(`${' '.repeat(prefix.length + 8)}${recordLine(r)}`);
      if (line.text !== undefined) out.push(`${' '.repeat(prefix.length + 8)}${line.text}`);
    } else {
      out.push(`${prefix}${line.text ?? ''}`);
    }
  }
  out.push(capLine(t));
  return out;
}

/** States the transcript's caps and what they left out. */
export function capLine(t: Transcript): string {
  const kept = `caps: ${t.cap.bytesPerLine} bytes of hex per line, ${t.cap.bytesPerConnection} per connection, ${t.cap.lines} lines`;
  return t.omittedBytes > 0 ? `(${kept}; ${t.omittedBytes} bytes not shown)` : `(${kept}; nothing left out)`;
}

/** The why of a result as text lines: expected, actual, findings, observations, replay. */
export function resultDetailText(r: ScenarioResult): string[] {
  const out: string[] = [];
  if (r.requirements.length > 0) out.push(`requirements: ${r.requirements.join(', ')}`);
  if (r.expected) out.push(`expected: ${r.expected}`);
  if (r.actual) out.push(`actual:   ${r.actual}`);
  for (const f of r.findings) out.push(`finding: ${f.verdict} ${f.requirement}: expected ${f.expected}; got ${f.actual}`);
  for (const [k, v] of Object.entries(r.observations)) out.push(`observed: ${k} = ${String(v)}`);
  if (r.replay) out.push(`replay: seed ${r.replay.seed}, path ${JSON.stringify(r.replay.path)}${r.replay.file ? `, file ${r.replay.file}` : ''}`);
  return out;
}
