import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';
import type { Requirement } from './requirement.ts';
import { draftNotCovered, isRequirementId, requirement, requirementIds, requirements } from './requirements.ts';

const specUrl = new URL('../../shared/reference/fcgi-spec.html', import.meta.url);
const draftUrl = new URL('../../shared/reference/requirements.md', import.meta.url);

function readReference(url: URL, what: string): string {
  try {
    return readFileSync(url, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what} at ${fileURLToPath(url)}: ${(err as Error).message}`);
  }
}

const namedEntities: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', nbsp: ' ', copy: '©' };

/** The spec as plain text: tags stripped, entities decoded, whitespace collapsed. */
function specText(html: string): string {
  return collapse(
    html
      .replace(/<!--[\s\S]*?-->/g, '')
      .replace(/<[^>]*>/g, '')
      .replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref: string) => {
        if (ref.startsWith('#x') || ref.startsWith('#X')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
        if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
        return namedEntities[ref.toLowerCase()] ?? whole;
      }),
  );
}

function collapse(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** Draft ids from the first column of the table rows of requirements.md. */
function draftIdsOf(markdown: string): string[] {
  const ids: string[] = [];
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('|')) continue;
    const first = line.split('|')[1]?.trim() ?? '';
    if (/^FCGI-[0-9A-Z.]+-\d+$/.test(first)) ids.push(first);
  }
  return ids;
}

const entries = Object.entries(requirements) as [string, Requirement][];

describe('requirement catalog', () => {
  it('has entries, and the helpers agree with it', () => {
    expect(entries.length).toBeGreaterThan(0);
    expect(requirementIds).toEqual(Object.keys(requirements));
    for (const id of requirementIds) {
      expect(isRequirementId(id)).toBe(true);
      expect(requirement(id)).toBe(requirements[id]);
    }
    expect(isRequirementId('FCGI-9.9-no-such-requirement')).toBe(false);
    expect(isRequirementId('toString')).toBe(false);
  });

  it.each(entries)('%s: id is well formed and matches its section', (id, r) => {
    const m = /^FCGI-(\d(?:\.\d)?|A|B|X)-([a-z0-9-]+)$/.exec(id);
    expect(m, `malformed id ${id}`).not.toBeNull();
    expect(r.section).toBe(m?.[1]);
    // Slugs are words, never positional numbers.
    expect(m?.[2]).toMatch(/[a-z]/);
    expect(m?.[2]).not.toMatch(/^-|-$|--/);
  });

  it('has every field filled in', () => {
    for (const [id, r] of entries) {
      expect(r.summary.trim().length, `${id} summary`).toBeGreaterThan(10);
      expect(r.how.trim().length, `${id} how`).toBeGreaterThan(20);
      expect(r.quote.trim().length, `${id} quote`).toBeGreaterThan(0);
      if (r.levelReason !== undefined) expect(r.levelReason.trim().length, `${id} levelReason`).toBeGreaterThan(10);
    }
  });

  it('quotes the specification verbatim', () => {
    const text = specText(readReference(specUrl, 'the FastCGI specification (fcgi-spec.html)'));
    expect(text).toContain('FastCGI Specification');
    const missing = entries.filter(([, r]) => !text.includes(collapse(r.quote))).map(([id]) => id);
    expect(missing, 'entries whose quote is not in the spec text').toEqual([]);
  });

  it('maps every draft id exactly once: to entries or to draftNotCovered', () => {
    const draft = draftIdsOf(readReference(draftUrl, 'the draft catalog (requirements.md)'));
    expect(draft.length).toBeGreaterThan(100);
    const draftSet = new Set(draft);
    const claimed = new Set(entries.flatMap(([, r]) => r.draftIds ?? []));

    const unknownClaims = [...claimed].filter((d) => !draftSet.has(d));
    expect(unknownClaims, 'draftIds naming no draft entry').toEqual([]);
    const unknownNotCovered = Object.keys(draftNotCovered).filter((d) => !draftSet.has(d));
    expect(unknownNotCovered, 'draftNotCovered keys naming no draft entry').toEqual([]);

    const both = Object.keys(draftNotCovered).filter((d) => claimed.has(d));
    expect(both, 'draft ids both claimed and listed as not covered').toEqual([]);
    const neither = draft.filter((d) => !claimed.has(d) && !Object.hasOwn(draftNotCovered, d));
    expect(neither, 'draft ids neither claimed nor listed as not covered').toEqual([]);

    for (const [d, reason] of Object.entries(draftNotCovered)) expect(reason.trim(), `reason for ${d}`).not.toBe('');
    for (const [id, r] of entries) {
      const ids = r.draftIds ?? [];
      expect(new Set(ids).size, `${id} lists a draft id twice`).toBe(ids.length);
    }
  });

  it("explains why an 'untestable' entry cannot be checked", () => {
    for (const [id, r] of entries.filter(([, e]) => e.check === 'untestable')) {
      expect(r.how, id).toMatch(/\bnot observable\b|\bcannot\b|\boutside\b|\bbecause\b|\bno (?:record|trace)\b/i);
    }
  });

  it('gives a reason for every soft level', () => {
    for (const [id, r] of entries) {
      if (r.level === 'should' || r.level === 'info') expect(r.levelReason, `${id} (${r.level})`).toBeDefined();
    }
  });

  it('only mentions catalog ids that exist', () => {
    for (const [id, r] of entries) {
      const prose = [r.summary, r.how, r.levelReason ?? ''].join(' ');
      for (const ref of prose.match(/FCGI-[0-9A-Z.]+-[a-z0-9-]*[a-z][a-z0-9-]*/g) ?? []) {
        expect(isRequirementId(ref.replace(/[-.]+$/, '')), `${id} mentions ${ref}`).toBe(true);
      }
    }
  });
});
