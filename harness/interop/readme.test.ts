/**
 * The README's interop section stays in step with the published run: its matrix is the group tables of
 * reports/interop/matrix.md (which `npm run interop` copies in), and every deviation it lists names real
 * requirements and says where it was confirmed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requirements } from '../../spec/requirements.ts';
import { README_MATRIX_END, README_MATRIX_START, defaultInteropOut, defaultReadme, readmeMatrix, readmeMatrixBlock, withReadmeMatrix } from './run.ts';

const readme = readFileSync(defaultReadme, 'utf8');
const matrixMd = readFileSync(join(defaultInteropOut, 'matrix.md'), 'utf8');

/** The README's list of deviations: the lines of its "Deviations" section that start a list item. */
function deviationLines(text: string): string[] {
  const section = /^### Deviations found\n([\s\S]*?)(?=^## )/m.exec(text)?.[1] ?? '';
  return section.split('\n').filter((l) => l.startsWith('- '));
}

describe('the README interop section', () => {
  it('shows the group tables of reports/interop/matrix.md (npm run interop rewrites them)', () => {
    const block = readmeMatrixBlock(readme);
    expect(block, `README.md has no ${README_MATRIX_START} block`).toBeDefined();
    expect(block).toBe(readmeMatrix(matrixMd));
    // Both tables, each with every implementation the run published.
    expect(block).toMatch(/^### Applications\n\n\| group \| reference \| php-fpm \| php-cgi \| fcgiwrap \| libfcgi \| go-fcgi \|/m);
    expect(block).toMatch(/^### Web servers\n\n\| group \| nginx \| apache \|/m);
  });

  it('lists each deviation once, on one line, with requirement ids from the catalog and where it was confirmed', () => {
    const lines = deviationLines(readme);
    expect(lines.length).toBeGreaterThan(30);
    expect(new Set(lines).size).toBe(lines.length);
    for (const line of lines) {
      const ids = line.match(/FCGI-[A-Za-z0-9.]+-[a-z0-9-]+/g) ?? [];
      expect(ids.length, line).toBeGreaterThan(0);
      // The web-server suite's own ids (not in the catalog yet) count as known.
      for (const id of ids) expect(Object.hasOwn(requirements, id), `${id} in: ${line}`).toBe(true);
      // A link to the peer's source or to its tracker.
      expect(line, line).toMatch(/\]\(https:\/\/[^)]+\)/);
    }
  });
});

describe('withReadmeMatrix', () => {
  const matrix = ['# Interop matrix', '', 'intro', '', '## Applications', '', '| group | a |', '', 'legend', '', '## Web servers', '', '| group | w |', '', '## Application scenarios', '', 'long table', ''].join('\n');

  it('takes the group tables only, headings one level down', () => {
    expect(readmeMatrix(matrix)).toBe(['### Applications', '', '| group | a |', '', 'legend', '', '### Web servers', '', '| group | w |'].join('\n'));
  });

  it('replaces the block between the markers and nothing else, and refuses a README without them', () => {
    const text = `# Title\n\nbefore\n\n${README_MATRIX_START}\n\nold table\n\n${README_MATRIX_END}\n\nafter\n`;
    const next = withReadmeMatrix(text, matrix);
    expect(next.startsWith(`# Title\n\nbefore\n\n${README_MATRIX_START}\n\n### Applications`)).toBe(true);
    expect(next.endsWith(`| group | w |\n\n${README_MATRIX_END}\n\nafter\n`)).toBe(true);
    expect(withReadmeMatrix(next, matrix)).toBe(next);
    expect(() => withReadmeMatrix('# no markers\n', matrix)).toThrow(/no <!-- interop-matrix/);
  });
});
