/**
 * The inline stylesheet and script of the HTML pages (report and matrix). Static text: the page's
 * Content-Security-Policy allows exactly these by hash, so nothing injected into a page can run or load.
 */
import { createHash } from 'node:crypto';

/** A CSP header value that allows only the given inline style and script, and no network at all. */
export function contentSecurityPolicy(style: string, script: string): string {
  const hash = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
  return `default-src 'none'; style-src ${hash(style)}; script-src ${hash(script)}; img-src data:; base-uri 'none'; form-action 'none'`;
}

export const pageStyle = `
:root {
  --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa; --bg: #ffffff; --accent: #0969da;
  --pass: #1a7f37; --pass-bg: #dafbe1; --info: #0969da; --info-bg: #ddf4ff; --skip: #59636e; --skip-bg: #eff2f5;
  --warn: #9a6700; --warn-bg: #fff8c5; --fail: #cf222e; --fail-bg: #ffebe9; --error: #8250df; --error-bg: #fbefff;
  --untested: #818b98; --untested-bg: #f6f8fa;
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html { background: var(--soft); }
body { margin: 0 auto; max-width: 1200px; padding: 24px 28px 48px; color: var(--fg); background: var(--bg);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; min-height: 100vh; }
h1 { font-size: 22px; margin: 0 0 4px; font-weight: 600; }
h1 .target-name { color: var(--accent); }
h2 { font-size: 17px; margin: 32px 0 10px; padding-bottom: 6px; border-bottom: 1px solid var(--line); font-weight: 600; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, .mono { font-family: var(--mono); font-size: 12.5px; }
.subtitle { color: var(--muted); margin: 0 0 16px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; padding: 12px 16px;
  background: var(--soft); border: 1px solid var(--line); border-radius: 8px; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
.summary { display: flex; flex-wrap: wrap; gap: 10px; margin: 18px 0 6px; }
.count { min-width: 92px; padding: 10px 14px; border-radius: 8px; border: 1px solid var(--line); background: var(--bg); }
.count .n { display: block; font-size: 24px; font-weight: 600; line-height: 1.2; }
.count .label { color: var(--muted); text-transform: uppercase; font-size: 11px; letter-spacing: .06em; }
.count[data-verdict="pass"] .n { color: var(--pass); } .count[data-verdict="info"] .n { color: var(--info); }
.count[data-verdict="skip"] .n { color: var(--skip); } .count[data-verdict="warn"] .n { color: var(--warn); }
.count[data-verdict="fail"] .n { color: var(--fail); } .count[data-verdict="error"] .n { color: var(--error); }
.count.total { background: var(--soft); }
svg.bar { display: block; width: 100%; height: 8px; border-radius: 4px; background: var(--soft); margin: 6px 0 0; }
.bar .v-pass { fill: var(--pass); } .bar .v-info { fill: var(--info); } .bar .v-skip { fill: #afb8c1; }
.bar .v-warn { fill: #d4a72c; } .bar .v-fail { fill: var(--fail); } .bar .v-error { fill: var(--error); } .bar .v-untested { fill: #d1d9e0; } .bar .v-untestable { fill: #eaeef2; }
.filters { position: sticky; top: 0; z-index: 2; display: flex; flex-wrap: wrap; align-items: center; gap: 8px 18px;
  margin: 18px -28px 0; padding: 10px 28px; background: var(--bg); border-bottom: 1px solid var(--line); }
.filters .group { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; }
.filters .group-label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .06em; margin-right: 2px; }
.filters label.chip { display: inline-flex; align-items: center; gap: 4px; padding: 2px 8px 2px 4px; border: 1px solid var(--line);
  border-radius: 999px; cursor: pointer; user-select: none; }
.filters select, .filters button { font: inherit; padding: 3px 8px; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); }
.filters button { cursor: pointer; }
.filters button:hover { background: var(--soft); }
#filter-status { color: var(--muted); margin-left: auto; }
.verdict { display: inline-block; min-width: 54px; padding: 0 6px; border-radius: 999px; font-size: 11.5px; font-weight: 600;
  text-align: center; text-transform: uppercase; letter-spacing: .04em; line-height: 20px; }
.v-pass { color: var(--pass); background: var(--pass-bg); } .v-info { color: var(--info); background: var(--info-bg); }
.v-skip { color: var(--skip); background: var(--skip-bg); } .v-warn { color: var(--warn); background: var(--warn-bg); }
.v-fail { color: var(--fail); background: var(--fail-bg); } .v-error { color: var(--error); background: var(--error-bg); }
.v-untested { color: var(--untested); background: var(--untested-bg); font-weight: 500; }
.v-untestable { color: var(--untested); background: var(--untested-bg); font-weight: 400; font-style: italic; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 5px 10px; border-bottom: 1px solid var(--line); }
th { font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; background: var(--soft); }
table.requirements td.scenarios a { margin-right: 8px; font-family: var(--mono); font-size: 12px; }
details.scenario, tr.requirement, .cell-detail { scroll-margin-top: 120px; }
details.scenario { border: 1px solid var(--line); border-radius: 8px; margin: 6px 0; background: var(--bg); }
details.scenario[data-verdict="fail"] { border-left: 4px solid var(--fail); }
details.scenario[data-verdict="error"] { border-left: 4px solid var(--error); }
details.scenario[data-verdict="warn"] { border-left: 4px solid var(--warn); }
details.scenario > summary { display: flex; align-items: baseline; gap: 10px; padding: 7px 12px; cursor: pointer; list-style: none; }
details.scenario > summary::-webkit-details-marker { display: none; }
details.scenario > summary::before { content: "▸"; color: var(--muted); width: 10px; }
details.scenario[open] > summary::before { content: "▾"; }
details.scenario[open] > summary { border-bottom: 1px solid var(--line); background: var(--soft); border-radius: 8px 8px 0 0; }
summary .sid { font-family: var(--mono); font-size: 12.5px; }
summary .title { flex: 1; color: var(--fg); }
summary .group, summary .dur { color: var(--muted); font-size: 12px; white-space: nowrap; }
.scenario-body { padding: 12px 16px 16px; }
dl.why { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 0 0 10px; }
dl.why dt { color: var(--muted); }
dl.why dd { margin: 0; font-family: var(--mono); font-size: 12.5px; white-space: pre-wrap; overflow-wrap: anywhere; }
h3 { font-size: 13px; margin: 14px 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .05em; }
table.transcript td { font-family: var(--mono); font-size: 12px; padding: 3px 8px; }
table.transcript td.time, table.transcript td.conn, table.transcript td.dir, table.transcript td.bytes { white-space: nowrap; color: var(--muted); }
table.transcript tr.dir-sent td.dir { color: var(--accent); }
table.transcript tr.dir-received td.dir { color: var(--pass); }
table.transcript tr.dir-closed td, table.transcript tr.dir-note td { color: var(--muted); font-style: italic; }
ul.records { list-style: none; margin: 0; padding: 0; }
ul.records li { overflow-wrap: anywhere; }
.rtype { font-weight: 600; }
.rhead { color: var(--muted); }
pre.hex { display: none; margin: 6px 0 2px; padding: 6px 8px; background: var(--soft); border-radius: 6px; font-size: 11.5px; line-height: 1.45; overflow-x: auto; }
body.show-hex pre.hex { display: block; }
.cap { color: var(--muted); font-size: 12px; margin: 6px 0 0; }
.empty { color: var(--muted); font-style: italic; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 10px; }
table.matrix { width: auto; }
table.matrix th.impl { text-align: center; white-space: nowrap; }
table.matrix td.cell { text-align: center; padding: 3px 6px; }
table.matrix td.cell a { display: block; }
table.matrix td.sid { font-family: var(--mono); font-size: 12px; white-space: nowrap; }
table.matrix td.none { color: var(--untested); text-align: center; }
table.matrix tr.group-row th { background: var(--bg); color: var(--fg); text-transform: none; font-size: 13px; padding-top: 14px; }
table.impls td.barcell { min-width: 160px; vertical-align: middle; }
.cell-detail { padding: 6px 0; border-bottom: 1px solid var(--line); }
.cell-detail:target { background: #fff8c5; }
.cell-detail dl.why { margin: 4px 0 0 24px; }
@media print { .filters { display: none; } details.scenario { break-inside: avoid; } }
`;

export const reportScript = `
'use strict';
(() => {
  const all = (s) => Array.from(document.querySelectorAll(s));
  const boxes = all('input.filter-verdict');
  const section = document.getElementById('filter-section');
  const status = document.getElementById('filter-status');
  const items = all('[data-filter]');
  const matches = (el, on, sec) => {
    if (!on.has(el.dataset.verdict)) return false;
    if (sec === '') return true;
    return (el.dataset.sections || '').split(' ').some((s) => s === sec || s.startsWith(sec + '.'));
  };
  const apply = () => {
    const on = new Set(boxes.filter((b) => b.checked).map((b) => b.value));
    const sec = section ? section.value : '';
    let shown = 0;
    let total = 0;
    for (const el of items) {
      const ok = matches(el, on, sec);
      el.hidden = !ok;
      if (el.classList.contains('scenario')) { total++; if (ok) shown++; }
    }
    if (status) status.textContent = 'showing ' + shown + ' of ' + total + ' scenarios';
  };
  for (const b of boxes) b.addEventListener('change', apply);
  if (section) section.addEventListener('change', apply);
  const hex = document.getElementById('toggle-hex');
  if (hex) hex.addEventListener('change', () => document.body.classList.toggle('show-hex', hex.checked));
  const expand = document.getElementById('expand-all');
  if (expand) expand.addEventListener('click', () => { for (const d of all('details.scenario')) if (!d.hidden) d.open = true; });
  const collapse = document.getElementById('collapse-all');
  if (collapse) collapse.addEventListener('click', () => { for (const d of all('details.scenario')) d.open = false; });
  const openTarget = () => {
    let id = location.hash.slice(1);
    try { id = decodeURIComponent(id); } catch (e) { /* a malformed hash is used as it is */ }
    const el = id ? document.getElementById(id) : null;
    if (el && el.tagName === 'DETAILS') { el.hidden = false; el.open = true; el.scrollIntoView(); }
  };
  window.addEventListener('hashchange', openTarget);
  apply();
  openTarget();
})();
`;

export const matrixScript = `
'use strict';
(() => {
  const diff = document.getElementById('only-differences');
  const bad = document.getElementById('only-not-pass');
  const status = document.getElementById('filter-status');
  const rows = Array.from(document.querySelectorAll('tr.matrix-row'));
  const apply = () => {
    let shown = 0;
    for (const r of rows) {
      const ok = (!diff.checked || r.dataset.uniform === 'false') && (!bad.checked || r.dataset.allPass === 'false');
      r.hidden = !ok;
      if (ok) shown++;
    }
    for (const g of document.querySelectorAll('tr.group-row')) {
      let any = false;
      for (let n = g.nextElementSibling; n && !n.classList.contains('group-row'); n = n.nextElementSibling) if (!n.hidden) { any = true; break; }
      g.hidden = !any;
    }
    status.textContent = 'showing ' + shown + ' of ' + rows.length + ' rows';
  };
  diff.addEventListener('change', apply);
  bad.addEventListener('change', apply);
  apply();
})();
`;
