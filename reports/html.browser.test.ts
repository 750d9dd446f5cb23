/**
 * Opens the HTML report of the fixture in headless Chromium (through `playwright-core`) and uses it as a person
 * would: the summary shows, a failing scenario expands to its transcript and hex, the filters hide what they
 * should, and the page makes no request and raises no error. Saves a screenshot to `.artifacts/report.png`.
 *
 * Without Chromium or playwright-core the test is skipped, or fails when `CI` or `FCGISPEC_REQUIRE_PEERS` is set.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writers } from './index.ts';
import { writeMatrixHtml } from './matrix.ts';
import { buildReport } from './summarize.ts';
import { fixtureCatalog, fixtureReport } from './__fixtures__/report.ts';

const INSTALL = 'install chromium: apt-get install chromium; npm ci';
const CHROMIUM = '/usr/bin/chromium';
const mustRun = Boolean(process.env['CI'] || process.env['FCGISPEC_REQUIRE_PEERS']);
const artifacts = fileURLToPath(new URL('../.artifacts/', import.meta.url));

// The little of playwright-core's API this test uses, typed here so the test compiles without the package.
interface Locator {
  locator(selector: string): Locator;
  isVisible(): Promise<boolean>;
  textContent(): Promise<string | null>;
  click(): Promise<void>;
  setChecked(checked: boolean): Promise<void>;
  selectOption(value: string): Promise<unknown>;
  count(): Promise<number>;
  nth(index: number): Locator;
}
interface Page {
  goto(url: string): Promise<unknown>;
  locator(selector: string): Locator;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<unknown>;
  evaluate<R, A>(fn: (arg: A) => R, arg: A): Promise<R>;
  on(event: 'pageerror', listener: (error: Error) => void): void;
  on(event: 'console', listener: (message: { type(): string; text(): string }) => void): void;
  on(event: 'request', listener: (request: { url(): string }) => void): void;
}
interface BrowserContext {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}
interface Playwright {
  chromium: {
    launchPersistentContext(userDataDir: string, options: { executablePath: string; headless: boolean; args: string[]; viewport: { width: number; height: number } }): Promise<BrowserContext>;
  };
}

// Browser globals, used only inside `page.evaluate` callbacks (the project's tsconfig has no DOM lib).
interface DomElement {
  checkVisibility(): boolean;
  readonly textContent: string | null;
}
declare const document: { querySelectorAll(selector: string): Iterable<DomElement> & { readonly length: number } };
declare const window: { scrollTo(x: number, y: number): void };
declare class DOMParser {
  parseFromString(text: string, type: string): { querySelector(selector: string): DomElement | null };
}

async function loadPlaywright(): Promise<Playwright | string> {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing`;
  try {
    const name = 'playwright-core'; // a variable, so neither tsc nor vite resolves it ahead of time
    return (await import(/* @vite-ignore */ name)) as Playwright;
  } catch (err) {
    return `playwright-core cannot be imported (${(err as Error).message.split('\n')[0]})`;
  }
}

const playwright = await loadPlaywright();
const unavailable = typeof playwright === 'string' ? `${playwright}; ${INSTALL}` : undefined;

describe('HTML report in Chromium', () => {
  let context: BrowserContext | undefined;
  let dir = '';
  const errors: string[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    if (typeof playwright === 'string') return;
    dir = mkdtempSync(join(tmpdir(), 'fcgispec-browser-'));
    context = await playwright.chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(name: string, html: string): Promise<Page> {
    const file = join(dir, name);
    writeFileSync(file, html);
    const page = await context!.newPage();
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);
    return page;
  }

  const scenario = (page: Page, id: string): Locator => page.locator(`details.scenario[id="scenario-${id}"]`);
  // One round trip per count (a locator per element would be one per element).
  const visible = (page: Page, selector: string): Promise<number> =>
    page.evaluate((sel) => [...document.querySelectorAll(sel)].filter((el) => el.checkVisibility()).length, selector);

  it('shows the summary, expands a failing scenario to its transcript and hex, and filters by verdict and section', async (ctx) => {
    if (unavailable !== undefined) {
      if (mustRun) throw new Error(unavailable);
      ctx.skip(unavailable);
    }
    requests.length = 0;
    errors.length = 0;
    const page = await open('report.html', writers.html(fixtureReport()));

    // The summary: every count visible.
    expect(await page.locator('#summary .count[data-verdict="fail"] .n').textContent()).toBe('2');
    expect(await page.locator('#summary .count[data-verdict="total"] .n').textContent()).toBe('8');
    expect(await page.locator('#summary .count[data-verdict="pass"]').isVisible()).toBe(true);
    expect(await page.locator('#filter-status').textContent()).toBe('showing 8 of 8 scenarios');

    // A failing scenario expands to expected/actual and its decoded transcript; the hex view follows the toggle.
    const failing = scenario(page, 'record-layer.padding.max');
    const transcript = failing.locator('table.transcript');
    expect(await transcript.isVisible()).toBe(false);
    await failing.locator('summary').click();
    expect(await transcript.isVisible()).toBe(true);
    expect(await transcript.textContent()).toContain('FCGI_END_REQUEST');
    expect(await failing.locator('dd.actual').textContent()).toContain('PHP Warning: <b>padding</b> not understood');
    const hex = failing.locator('pre.hex').nth(0);
    expect(await hex.isVisible()).toBe(false);
    await page.locator('#toggle-hex').setChecked(true);
    expect(await hex.isVisible()).toBe(true);
    expect(await hex.textContent()).toMatch(/^0000 {2}01 01 00 01 00 08 ff 00 {2}00 01 00 00 00 00 00 00/);

    // The verdict filter hides passing scenarios and keeps the rest.
    await page.locator('#filter-verdict-pass').setChecked(false);
    expect(await visible(page, 'details.scenario[data-verdict="pass"]')).toBe(0);
    expect(await visible(page, 'details.scenario')).toBe(6);
    expect(await failing.isVisible()).toBe(true);
    expect(await page.locator('#filter-status').textContent()).toBe('showing 6 of 8 scenarios');
    await page.locator('#filter-verdict-pass').setChecked(true);

    // The section filter: one section, then a whole chapter.
    await page.locator('#filter-section').selectOption('4.1');
    expect(await visible(page, 'details.scenario')).toBe(1);
    expect(await scenario(page, 'management.get-values.limits').isVisible()).toBe(true);
    expect(await visible(page, '#requirements tr.requirement')).toBe(2);
    await page.locator('#filter-section').selectOption('4');
    expect(await visible(page, 'details.scenario')).toBe(1);
    expect(await visible(page, '#requirements tr.requirement')).toBe(3);
    await page.locator('#filter-section').selectOption('3.3');
    expect(await visible(page, 'details.scenario')).toBe(3);
    await page.locator('#filter-section').selectOption('');
    expect(await visible(page, 'details.scenario')).toBe(8);

    // The hostile scenario shows its peer's markup as text: no element was injected.
    await scenario(page, 'robustness.fuzz.output-direction').locator('summary').click();
    expect(await page.locator('script').count()).toBe(1);
    expect(await page.evaluate(() => document.querySelectorAll('b').length, null)).toBe(0);

    // The JUnit output of the same report parses as XML.
    const parseError = await page.evaluate((xml) => new DOMParser().parseFromString(xml, 'application/xml').querySelector('parsererror')?.textContent ?? '', writers.junit(fixtureReport()));
    expect(parseError).toBe('');

    // Self-contained: the page itself was the only request; no script error, no CSP violation.
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
    expect(errors).toEqual([]);

    mkdirSync(artifacts, { recursive: true });
    await page.evaluate(() => window.scrollTo(0, 0), null);
    await page.screenshot({ path: join(artifacts, 'report.png'), fullPage: true });
  }, 60_000);

  it('filters the matrix to the rows where implementations differ', async (ctx) => {
    if (unavailable !== undefined) {
      if (mustRun) throw new Error(unavailable);
      ctx.skip(unavailable);
    }
    errors.length = 0;
    const one = fixtureReport();
    const base = fixtureReport({ target: { ...one.target, name: 'second' } });
    const two = buildReport({
      ...base,
      results: base.results.map((r) => (r.id === 'record-layer.padding.max' ? { ...r, verdict: 'pass' as const, findings: [] } : r)),
      catalog: fixtureCatalog,
    });
    const page = await open('matrix.html', writeMatrixHtml([one, two]));
    const rows = '#matrix-scenarios tr.matrix-row';
    expect(await visible(page, rows)).toBe(8);
    await page.locator('#only-differences').setChecked(true);
    expect(await visible(page, rows)).toBe(1);
    // One scenario row and one requirement row (FCGI-3.3-padding-discarded: fail, then warn) differ.
    expect(await page.locator('#filter-status').textContent()).toBe('showing 2 of 16 rows');
    await page.locator('#matrix-scenarios a[href="#cell-0-scenario-record-layer.padding.max"]').click();
    expect(await page.locator('[id="cell-0-scenario-record-layer.padding.max"]').isVisible()).toBe(true);
    expect(errors).toEqual([]);
    mkdirSync(artifacts, { recursive: true });
    await page.locator('#only-differences').setChecked(false);
    await page.evaluate(() => window.scrollTo(0, 0), null);
    await page.screenshot({ path: join(artifacts, 'matrix.png'), fullPage: false });
  }, 60_000);
});
