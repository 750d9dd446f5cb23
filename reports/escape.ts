/**
 * Escaping for every output format. Everything in a report may hold a hostile peer's bytes, so every string
 * goes through one of these before it reaches a file or a terminal.
 */

// XML 1.0 cannot carry these at all, even as character references: C0 controls other than tab/LF/CR,
// lone surrogates, U+FFFE and U+FFFF.
const xmlInvalid = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// Lone surrogates cannot be written as UTF-8; they would silently become U+FFFD in a file.
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function visibleCode(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** Text for HTML element content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text
    .replace(xmlInvalid, visibleCode)
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Text for XML element content or a quoted attribute value; line breaks survive attribute normalization. */
export function escapeXml(text: string): string {
  return text
    .replace(xmlInvalid, visibleCode)
    .replace(/[&<>"'\n\r\t]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\n': '&#10;', '\r': '&#13;', '\t': '&#9;' })[c]!);
}

/** Text for XML element content (line breaks kept as they are). */
export function escapeXmlText(text: string): string {
  return text.replace(xmlInvalid, visibleCode).replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
}

/**
 * Inline Markdown text on one line: Markdown and HTML syntax neutralized, table pipes escaped, `@mentions`
 * broken with a zero-width space so a peer's bytes cannot ping anyone from a PR comment.
 */
export function escapeMarkdown(text: string, max = 200): string {
  const oneLine = clip(text.replace(/[\r\n\t]+/g, ' ').replace(/[\u0000-\u001f\u007f]/g, visibleCode).replace(loneSurrogate, visibleCode), max);
  return oneLine
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!)
    .replace(/@/g, '@\u200b');
}

/**
 * A Markdown code span that holds any text safely (fence longer than any backtick run inside). In a table
 * cell (`inTable`), pipes are escaped too, as GFM tables require even inside code.
 */
export function markdownCode(text: string, max = 120, inTable = false): string {
  const oneLine = clip(text.replace(/[\r\n\t]+/g, ' ').replace(/[\u0000-\u001f\u007f]/g, visibleCode).replace(loneSurrogate, visibleCode), max);
  const safe = inTable ? oneLine.replace(/\|/g, '\\|') : oneLine;
  const longest = Math.max(0, ...(safe.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = safe.startsWith('`') || safe.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${safe}${pad}${fence}`;
}

/**
 * Text safe for a terminal: C0/C1 controls (ESC starts colour and cursor sequences) and DEL shown as escapes.
 * Newlines are kept only when `multiline`.
 */
export function escapeTerminal(text: string, multiline = false): string {
  return text
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => (multiline && c === '\n' ? c : visibleCode(c)))
    .replace(loneSurrogate, visibleCode);
}

/** Cuts text to `max` characters, marking the cut with `…`. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  // Do not split a surrogate pair.
  if (end > 0 && /[\ud800-\udbff]/.test(text[end - 1]!)) end--;
  return `${text.slice(0, end)}…`;
}

/** Milliseconds for people: `850 ms`, `1.25 s`, `2 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}
