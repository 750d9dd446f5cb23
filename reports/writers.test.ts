import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { reportExtensions, writers, type ReportFormat } from './index.ts';
import { fixtureReport, hostileText } from './__fixtures__/report.ts';
import { validateReport, parseReport } from './schema.ts';
import { MARKDOWN_MAX_PER_VERDICT } from './markdown.ts';
import { escapeHtml, escapeMarkdown, escapeTerminal, escapeXml, markdownCode } from './escape.ts';
import type { ComplianceReport, ScenarioResult } from './model.ts';
import { hexDump, sectionOptions } from './html.ts';

const formats = Object.keys(writers) as ReportFormat[];

afterEach(() => {
  vi.useRealTimers();
});

describe('golden outputs of the fixture report', () => {
  it.each(formats)('%s', async (format) => {
    await expect(writers[format](fixtureReport())).toMatchFileSnapshot(`./__golden__/report${reportExtensions[format]}`);
  });
});

describe('every writer', () => {
  it.each(formats)('%s is a pure function of the model (same output at another time of day)', (format) => {
    const report = fixtureReport();
    vi.useFakeTimers({ now: new Date('2031-06-07T08:09:10Z') });
    const a = writers[format](report);
    vi.setSystemTime(new Date('1999-01-01T00:00:00Z'));
    expect(writers[format](report)).toBe(a);
  });

  it.each(formats)('%s renders an empty report', (format) => {
    const empty: ComplianceReport = { ...fixtureReport(), results: [], requirements: [], summary: { pass: 0, info: 0, skip: 0, warn: 0, fail: 0, error: 0, total: 0 } };
    expect(writers[format](empty).length).toBeGreaterThan(0);
  });
});

describe('JSON', () => {
  it('validates against report.schema.json and reads back equal', () => {
    const report = fixtureReport();
    const text = writers.json(report);
    expect(validateReport(JSON.parse(text))).toEqual([]);
    const back = parseReport(text);
    expect(back.ok && back.report).toEqual(JSON.parse(JSON.stringify(report)));
  });
});

// Small well-formedness check: balanced tags, no raw markup characters or XML-illegal characters in text.
function checkXml(xml: string): void {
  expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
  const body = xml.slice(xml.indexOf('\n') + 1);
  expect(body).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/);
  expect(body).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
  expect(body).not.toMatch(/&(?!(amp|lt|gt|quot|apos|#\d+);)/);
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w.-]*)((?:\s+[\w.-]+="[^"<]*")*)\s*(\/?)>/g;
  let at = 0;
  for (const m of body.matchAll(tag)) {
    expect(body.slice(at, m.index), 'text between tags').not.toContain('<');
    at = m.index + m[0].length;
    if (m[1]) expect(stack.pop()).toBe(m[2]);
    else if (!m[4]) stack.push(m[2]!);
  }
  expect(body.slice(at).trim()).toBe('');
  expect(stack).toEqual([]);
}

describe('JUnit', () => {
  const xml = writers.junit(fixtureReport());

  it('is well-formed XML even with a hostile peer’s bytes in it', () => {
    checkXml(xml);
    expect(xml).not.toContain('<script>');
    expect(xml).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;');
    expect(xml).toContain('\\u0000\\u001b[31mred');
  });

  it('maps fail → failure, error → error, skip → skipped, and keeps warn and info as properties and output', () => {
    const cases = xml.split('<testcase ').slice(1);
    const byName = (id: string): string => cases.find((c) => c.includes(`name="${id}:`))!;
    expect(byName('record-layer.padding.max')).toContain('<failure message=');
    expect(byName('abort.mid-stdin')).toContain('<error message="expected ; got E_TIMEOUT');
    expect(byName('keep-conn.second-request')).toContain('<skipped message="skipped: the profile says');
    for (const id of ['record-layer.reserved.nonzero', 'management.get-values.limits', 'multiplexing.interleaved']) {
      expect(byName(id)).not.toMatch(/<(failure|error|skipped)/);
    }
    expect(byName('record-layer.reserved.nonzero')).toContain('<property name="verdict" value="warn"/>');
    expect(byName('record-layer.reserved.nonzero')).toMatch(/<system-out>verdict: warn\n[\s\S]*transcript:/);
    expect(byName('management.get-values.limits')).toContain('<property name="observed.FCGI_MAX_CONNS" value="50"/>');
    expect(xml).toMatch(/<testsuites name="fcgispec example-app \(app\)" tests="8" failures="2" errors="1" skipped="1"/);
  });
});

describe('Markdown', () => {
  const md = writers.markdown(fixtureReport());

  it('leads with the counts, then lists fails, errors and warns one line each with a requirement', () => {
    expect(md.split('\n')[0]).toBe('## fcgispec: example-app: 1 error, 2 fail, 1 warn');
    expect(md).toContain('| 2 | 1 | 1 | 1 | 2 | 1 | 8 |');
    const items = md.split('\n').filter((l) => l.startsWith('- '));
    expect(items).toHaveLength(4);
    expect(items[0]).toMatch(/^- ❌ `record-layer.padding.max` `FCGI-3.3-padding-discarded` /);
  });

  it('cannot be turned into markup, mentions or a broken table by a peer', () => {
    expect(md).not.toMatch(/<script|@everyone/);
    expect(md).toContain('&lt;script&gt;');
    expect(md).toContain('@\u200beveryone');
    expect(md).toContain('\\| a \\| b \\|');
  });

  it('stays under the size of a GitHub comment however many failures there are', () => {
    const failing = fixtureReport().results[1]!;
    const many: ScenarioResult[] = Array.from({ length: 2000 }, (_, i) => ({
      ...failing,
      id: `record-layer.padding.case-${i}`,
      expected: 'x'.repeat(5000),
      actual: hostileText.repeat(50),
    }));
    const big = { ...fixtureReport(), results: many, summary: { pass: 0, info: 0, skip: 0, warn: 0, fail: 2000, error: 0, total: 2000 } };
    const text = writers.markdown(big);
    expect(text.length).toBeLessThan(65_536);
    expect(text).toContain(`- … and ${2000 - MARKDOWN_MAX_PER_VERDICT} more`);
  });
});

describe('HTML', () => {
  const html = writers.html(fixtureReport());

  it('is self-contained: no external resource, and a CSP that allows only its own inline style and script', () => {
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/<link\b/);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)![1]!.replaceAll('&#39;', "'");
    expect(csp).toMatch(/^default-src 'none';/);
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const hash = (t: string): string => createHash('sha256').update(t).digest('base64');
    expect(csp).toContain(`style-src 'sha256-${hash(style)}'`);
    expect(csp).toContain(`script-src 'sha256-${hash(script)}'`);
  });

  it('escapes everything: exactly one script element, and the hostile text only as text', () => {
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;');
    expect(html).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
  });

  it('has the hooks the filters and the browser test use', () => {
    for (const v of ['pass', 'info', 'skip', 'warn', 'fail', 'error', 'untested', 'untestable']) expect(html).toContain(`id="filter-verdict-${v}" value="${v}"`);
    expect(html).toContain('<option value="3.3">§3.3</option>');
    expect(html).toContain('<details class="scenario" id="scenario-record-layer.padding.max" data-filter data-verdict="fail" data-sections="3.3"');
    expect(html).toContain('<tr class="requirement" id="req-FCGI-4.2-unknown-type-reply" data-filter data-verdict="untested" data-sections="4.2">');
  });

  it('dumps hex with offsets and ASCII, and states bytes not kept', () => {
    const row = `0000  ${'00 01 02 41 42'.padEnd(23)}  ${''.padEnd(23)}  ...AB`;
    expect(hexDump('0001024142', 7)).toBe(`${row}\n… 2 more bytes not kept`);
    expect(hexDump('41'.repeat(17), 17).split('\n')).toEqual([`0000  ${'41 '.repeat(8).trim()}  ${'41 '.repeat(8).trim()}  ${'A'.repeat(16)}`, `0010  ${'41'.padEnd(23)}  ${''.padEnd(23)}  A`]);
  });

  it('offers each section, and a chapter when it has several sections', () => {
    expect(sectionOptions(['3.3', '3.10', '3.4', 'A', '4.1', '2.2'])).toEqual(['2.2', '3', '3.3', '3.4', '3.10', '4.1', 'A']);
  });
});

describe('escaping', () => {
  it.each([
    [escapeHtml('<a href="x">&\'</a>'), '&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;'],
    [escapeXml('a\nb\u0001\ud800'), 'a&#10;b\\u0001\\ud800'],
    [escapeMarkdown('*bold* [x](y) <b> @me\nnext'), '\\*bold\\* \\[x\\](y) &lt;b&gt; @\u200bme next'],
    [markdownCode('a``b'), '```a``b```'],
    [markdownCode('`x`'), '`` `x` ``'],
    [markdownCode('a|b', 120, true), '`a\\|b`'],
    [escapeTerminal('ok\u001b[2J\r\nnext\u009b'), 'ok\\u001b[2J\\u000d\\u000anext\\u009b'],
    [escapeTerminal('a\nb', true), 'a\nb'],
  ])('%s', (got, want) => {
    expect(got).toBe(want);
  });
});
