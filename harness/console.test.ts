import { describe, expect, it } from 'vitest';
import { ConsoleProgress, progressLine, resultLines, summaryLines, useColor, useLiveLine, verboseLines, type ConsoleStream } from './console.ts';
import { fixtureReport, hostileText } from '../reports/__fixtures__/report.ts';

const zero = { pass: 0, info: 0, skip: 0, warn: 0, fail: 0, error: 0 };

class Capture implements ConsoleStream {
  text = '';
  constructor(readonly isTTY: boolean, readonly columns = 80) {}
  write(t: string): boolean {
    this.text += t;
    return true;
  }
}

function run(stream: Capture, options: { quiet?: boolean; verbose?: boolean; env?: Record<string, string> } = {}): string {
  const report = fixtureReport();
  const c = new ConsoleProgress({ stream, env: options.env ?? {}, ...(options.quiet ? { quiet: true } : {}), ...(options.verbose ? { verbose: true } : {}) });
  c.onStart(report.results.length);
  for (const r of report.results) {
    c.onScenarioStart(r.id);
    c.onScenarioEnd(r);
  }
  c.onEnd(report);
  return stream.text;
}

describe('formatting', () => {
  it('draws the live line with counts and the current scenario, never wider than the terminal', () => {
    expect(progressLine({ done: 3, total: 140, counts: { ...zero, fail: 2, warn: 1 }, current: 'record-layer.padding.max' }, 80)).toBe(
      '[  3/140] 2 fail, 1 warn  record-layer.padding.max',
    );
    expect(progressLine({ done: 0, total: 5, counts: zero }, 80)).toBe('[0/5] no failures');
    const narrow = progressLine({ done: 3, total: 140, counts: zero, current: 'x'.repeat(200) }, 40);
    expect(narrow).toHaveLength(39);
    expect(narrow.endsWith('…')).toBe(true);
    const colored = progressLine({ done: 1, total: 2, counts: { ...zero, fail: 1 }, current: 'a.b' }, 30, true);
    expect(colored.replace(/\x1b\[[0-9;]*m/g, '')).toBe('[1/2] 1 fail  a.b');
    expect(colored).toContain('\x1b[31m1 fail\x1b[0m');
  });

  it('prints a result with why it did not pass, escaping a peer’s bytes', () => {
    const [, , , , hostile] = fixtureReport().results;
    const lines = resultLines(hostile!);
    expect(lines[0]).toBe('FAIL   robustness.fuzz.output-direction  sends only application record types, whatever the request (813 ms)');
    expect(lines[1]).toMatch(/^ {7}FCGI-A-record-direction: expected only FCGI_STDOUT, .*; got FCGI_STDOUT echoed <script>/);
    expect(lines.join('\n')).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(lines[1]).toContain('\\u001b[31mred');
  });

  it('prints transcripts in verbose detail, escaped', () => {
    const lines = verboseLines(fixtureReport().results[1]!);
    expect(lines).toContain('       transcript:');
    expect(lines.some((l) => l.includes('FCGI_END_REQUEST id=1 len=8 pad=0: appStatus=255 FCGI_REQUEST_COMPLETE'))).toBe(true);
    expect(verboseLines(fixtureReport().results[4]!).join('\n')).not.toContain('\u001b');
  });

  it('summarizes the run', () => {
    expect(summaryLines(fixtureReport())).toEqual([
      '8 scenarios in 10.88 s: 2 pass, 1 info, 1 skip, 1 warn, 2 fail, 1 error',
      'requirements: 1 pass, 2 info, 1 warn, 2 fail, 1 error, 1 untested',
      'target example-app (tcp:127.0.0.1:9000), seed 42',
    ]);
    expect(summaryLines(fixtureReport(), false, true).slice(2, 5)).toEqual(['  fail record-layer.padding.max', '  fail robustness.fuzz.output-direction', '  error abort.mid-stdin']);
  });

  it('chooses colour and the live line from the stream and the environment', () => {
    const tty = new Capture(true);
    const pipe = new Capture(false);
    expect(useColor(tty, {})).toBe(true);
    expect(useColor(tty, { NO_COLOR: '1' })).toBe(false);
    expect(useColor(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(useColor(pipe, { FORCE_COLOR: '0' })).toBe(false);
    expect(useLiveLine(tty, {})).toBe(true);
    expect(useLiveLine(tty, { CI: 'true' })).toBe(false);
    expect(useLiveLine(pipe, {})).toBe(false);
  });
});

describe('ConsoleProgress', () => {
  it('on a terminal, redraws one line with \\r, clears it before printing what needs attention, and ends cleanly', () => {
    const out = run(new Capture(true), { env: { NO_COLOR: '1' } });
    expect(out.startsWith('\r\x1b[K[0/8] no failures')).toBe(true);
    expect(out).toContain('\r\x1b[K[0/8] no failures  record-layer.padding.any-length');
    // A failure: the live line is cleared, the result printed, the line drawn again.
    expect(out).toContain('\r\x1b[KFAIL   record-layer.padding.max');
    expect(out).toContain('\r\x1b[K[2/8] 1 fail');
    // Passing scenarios do not scroll by on a terminal.
    expect(out).not.toContain('PASS ');
    // The last thing is the summary on clean lines, with no live line left behind.
    expect(out.endsWith('target example-app (tcp:127.0.0.1:9000), seed 42\n')).toBe(true);
    expect(out.slice(out.lastIndexOf('\r\x1b[K'))).toMatch(/^\r\x1b\[K\n8 scenarios/);
    expect(out).not.toContain(hostileText.slice(0, 12) + '\u0000');
  });

  it('prints a note above the live line, escaped, and draws the line again', () => {
    const stream = new Capture(true);
    const c = new ConsoleProgress({ stream, env: { NO_COLOR: '1' } });
    c.onStart(2);
    c.onNote('target restarted \u001b[2J');
    expect(stream.text).toBe('\r\x1b[K[0/2] no failures\r\x1b[K  · target restarted \\u001b[2J\n\r\x1b[K[0/2] no failures');
  });

  it('in CI, prints plain lines only: one per scenario, no \\r, no colour', () => {
    const out = run(new Capture(true), { env: { CI: 'true', NO_COLOR: '1' } });
    expect(out).not.toContain('\r');
    expect(out).not.toContain('\x1b');
    const lines = out.split('\n');
    expect(lines[0]).toBe('running 8 scenarios');
    expect(lines.filter((l) => /^(PASS|INFO|SKIP|WARN|FAIL|ERROR) /.test(l))).toHaveLength(8);
  });

  it('when piped, behaves as in CI', () => {
    const out = run(new Capture(false));
    expect(out).not.toContain('\r');
    expect(out).toContain('PASS   multiplexing.interleaved');
  });

  it('quiet prints only the summary, listing what failed', () => {
    const out = run(new Capture(true), { quiet: true, env: { NO_COLOR: '1' } });
    expect(out).toBe(
      [
        '8 scenarios in 10.88 s: 2 pass, 1 info, 1 skip, 1 warn, 2 fail, 1 error',
        'requirements: 1 pass, 2 info, 1 warn, 2 fail, 1 error, 1 untested',
        '  fail record-layer.padding.max',
        '  fail robustness.fuzz.output-direction',
        '  error abort.mid-stdin',
        'target example-app (tcp:127.0.0.1:9000), seed 42',
        '',
      ].join('\n'),
    );
  });

  it('verbose prints every scenario and the transcripts of the ones that did not pass', () => {
    const out = run(new Capture(false), { verbose: true });
    expect(out).toContain('PASS   record-layer.padding.any-length');
    expect(out).toContain('FCGI_STDERR id=1 len=43 pad=5: "PHP Warning: <b>padding</b> not understood\\n"');
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
  });
});
