/**
 * Console progress of a run. On a terminal: one live line (done/total, failures so far, the current
 * scenario) redrawn with `\r` and cleared before anything else prints. In CI (`CI` set) or when the output
 * is not a terminal: one plain line per scenario. Then a final summary. `quiet` prints only the summary;
 * `verbose` prints every scenario and the transcripts of the ones that did not pass.
 *
 * The formatting functions are pure and exported; `ConsoleProgress` only decides what to write when.
 * Everything from a report is escaped for the terminal: a peer's bytes cannot move the cursor or recolour it.
 */
import type { ComplianceReport, ScenarioResult, Verdict } from '../reports/model.ts';
import { rollupVerdicts, verdicts } from '../reports/model.ts';
import { clip, escapeTerminal, formatDuration } from '../reports/escape.ts';
import { resultDetailText, transcriptText } from '../reports/text.ts';

/** Where progress goes: a writable stream, a terminal when `isTTY`. */
export interface ConsoleStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ConsoleOptions {
  readonly stream?: ConsoleStream;
  /** Environment to read `CI`, `NO_COLOR` and `FORCE_COLOR` from (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly quiet?: boolean;
  readonly verbose?: boolean;
}

/** What the live line shows. */
export interface ProgressState {
  readonly done: number;
  readonly total: number;
  readonly counts: Readonly<Record<Verdict, number>>;
  readonly current?: string;
}

type Paint = (code: string, text: string) => string;
const plain: Paint = (_code, text) => text;
const ansi: Paint = (code, text) => `\x1b[${code}m${text}\x1b[0m`;
const verdictColor: Readonly<Record<Verdict, string>> = { pass: '32', info: '34', skip: '90', warn: '33', fail: '31', error: '35' };

/** Whether to colour: a terminal without `NO_COLOR`, or `FORCE_COLOR` set (not `0`). */
export function useColor(stream: ConsoleStream, env: Readonly<Record<string, string | undefined>>): boolean {
  if (env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0') return true;
  return stream.isTTY === true && env['NO_COLOR'] === undefined;
}

/** Whether to draw a live line: a terminal, and not CI. */
export function useLiveLine(stream: ConsoleStream, env: Readonly<Record<string, string | undefined>>): boolean {
  return stream.isTTY === true && !env['CI'];
}

/** The live line, cut to `width - 1` columns so it never wraps (a wrapped line cannot be redrawn with `\r`). */
export function progressLine(state: ProgressState, width: number, color = false): string {
  const paint = color ? ansi : plain;
  const digits = String(state.total).length;
  const head = `[${String(state.done).padStart(digits)}/${state.total}]`;
  const bad = (['fail', 'error', 'warn'] as const).filter((v) => state.counts[v] > 0).map((v) => `${state.counts[v]} ${v}`);
  const tally = bad.length > 0 ? bad.join(', ') : 'no failures';
  const current = state.current === undefined ? '' : `  ${escapeTerminal(state.current)}`;
  const text = clip(`${head} ${tally}${current}`, Math.max(10, width - 1));
  // Colour is added after the cut, so escape sequences never count towards the width or get cut in half.
  const tallyAt = text.indexOf(tally);
  if (!color || tallyAt < 0) return text;
  const code = state.counts.fail + state.counts.error > 0 ? '31' : state.counts.warn > 0 ? '33' : '32';
  return `${paint('1', head)}${text.slice(head.length, tallyAt)}${paint(code, tally)}${text.slice(tallyAt + tally.length)}`;
}

/** One scenario's result: verdict, id, title, duration; for fail/warn/error, an indented line with why. */
export function resultLines(r: ScenarioResult, color = false): string[] {
  const paint = color ? ansi : plain;
  const label = paint(verdictColor[r.verdict], r.verdict.toUpperCase().padEnd(5));
  const lines = [`${label}  ${escapeTerminal(r.id)}  ${escapeTerminal(r.title)} ${paint('90', `(${formatDuration(r.durationMs)})`)}`];
  if (r.verdict === 'fail' || r.verdict === 'warn') {
    const f = r.findings.find((x) => x.verdict === r.verdict);
    const req = f?.requirement ?? r.requirements[0] ?? '';
    lines.push(`       ${req}: expected ${escapeTerminal(clip(r.expected, 200))}; got ${escapeTerminal(clip(r.actual, 200))}`);
  } else if (r.verdict === 'error') {
    lines.push(`       ${escapeTerminal(clip(r.actual || r.expected, 300))}`);
  } else if (r.verdict === 'skip' && (r.expected || r.actual)) {
    lines.push(`       ${paint('90', escapeTerminal(clip(r.expected || r.actual, 200)))}`);
  }
  return lines;
}

/** The detail and transcript of a result, indented, for verbose mode. */
export function verboseLines(r: ScenarioResult): string[] {
  const out = resultDetailText(r).map((l) => `       ${escapeTerminal(l)}`);
  if (r.transcript) out.push('       transcript:', ...transcriptText(r.transcript).map((l) => `       ${escapeTerminal(l)}`));
  return out;
}

/** The final summary: counts, duration, seed, and (when `listFailures`) the ids that did not pass. */
export function summaryLines(report: ComplianceReport, color = false, listFailures = false): string[] {
  const paint = color ? ansi : plain;
  const s = report.summary;
  const counts = verdicts.filter((v) => s[v] > 0).map((v) => paint(verdictColor[v], `${s[v]} ${v}`));
  const out = [
    `${paint('1', `${s.total} scenario${s.total === 1 ? '' : 's'}`)} in ${formatDuration(report.durationMs)}: ${counts.join(', ') || 'none ran'}`,
  ];
  const rollup = new Map<string, number>();
  for (const q of report.requirements) rollup.set(q.verdict, (rollup.get(q.verdict) ?? 0) + 1);
  if (report.requirements.length > 0) {
    const parts = rollupVerdicts.filter((v) => rollup.has(v)).map((v) => `${rollup.get(v)} ${v}`);
    out.push(`requirements: ${parts.join(', ')}`);
  }
  if (listFailures) {
    const bad = report.results.filter((r) => r.verdict === 'fail' || r.verdict === 'error');
    for (const r of bad.slice(0, 20)) out.push(`  ${paint(verdictColor[r.verdict], r.verdict)} ${escapeTerminal(r.id)}`);
    if (bad.length > 20) out.push(`  … and ${bad.length - 20} more`);
  }
  out.push(`target ${escapeTerminal(report.target.name)} (${escapeTerminal(report.target.address)}), seed ${report.seed}${report.strict ? ', strict' : ''}`);
  return out;
}

/** The runner's console: call `onStart`, then per scenario `onScenarioStart`/`onScenarioEnd`, then `onEnd`. */
export class ConsoleProgress {
  readonly #stream: ConsoleStream;
  readonly #color: boolean;
  readonly #live: boolean;
  readonly #quiet: boolean;
  readonly #verbose: boolean;
  #total = 0;
  #done = 0;
  #current: string | undefined;
  #counts: Record<Verdict, number> = { pass: 0, info: 0, skip: 0, warn: 0, fail: 0, error: 0 };
  #lineShown = false;

  constructor(options: ConsoleOptions = {}) {
    const env = options.env ?? process.env;
    this.#stream = options.stream ?? process.stderr;
    this.#color = useColor(this.#stream, env);
    this.#live = useLiveLine(this.#stream, env) && !options.quiet;
    this.#quiet = options.quiet ?? false;
    this.#verbose = (options.verbose ?? false) && !this.#quiet;
  }

  onStart(total: number): void {
    this.#total = total;
    if (this.#quiet) return;
    if (this.#live) this.#redraw();
    else this.#print([`running ${total} scenario${total === 1 ? '' : 's'}`]);
  }

  onScenarioStart(id: string): void {
    this.#current = id;
    if (this.#live) this.#redraw();
  }

  onScenarioEnd(result: ScenarioResult): void {
    this.#done++;
    this.#counts[result.verdict]++;
    this.#current = undefined;
    if (this.#quiet) return;
    const notable = result.verdict === 'fail' || result.verdict === 'error' || result.verdict === 'warn';
    // On a terminal only what needs attention scrolls by; in CI every scenario gets its line.
    if (!this.#live || notable || this.#verbose) {
      const lines = resultLines(result, this.#color);
      if (this.#verbose && result.verdict !== 'pass') lines.push(...verboseLines(result));
      this.#print(lines);
    }
    if (this.#live) this.#redraw();
  }

  /** A line of commentary from the runner (a restart, a target that went down), printed above the live line. */
  onNote(text: string): void {
    if (this.#quiet) return;
    this.#print([`  · ${escapeTerminal(text)}`]);
    if (this.#live) this.#redraw();
  }

  onEnd(report: ComplianceReport): void {
    this.#clear();
    const lines = summaryLines(report, this.#color, this.#quiet);
    this.#stream.write(`${this.#quiet ? '' : '\n'}${lines.join('\n')}\n`);
  }

  #print(lines: readonly string[]): void {
    this.#clear();
    this.#stream.write(`${lines.join('\n')}\n`);
  }

  #clear(): void {
    if (!this.#lineShown) return;
    this.#stream.write('\r\x1b[K');
    this.#lineShown = false;
  }

  #redraw(): void {
    const line = progressLine(
      { done: this.#done, total: this.#total, counts: this.#counts, ...(this.#current === undefined ? {} : { current: this.#current }) },
      this.#stream.columns ?? 80,
      this.#color,
    );
    this.#stream.write(`\r\x1b[K${line}`);
    this.#lineShown = true;
  }
}
