/**
 * `npm run bench [-- <section>...]`: runs the bench sections (all, or those named) and prints one table per
 * section with each figure's ratio to its baseline. Sizes come from the environment (`FCGISPEC_BENCH_MB`,
 * `FCGISPEC_BENCH_REPS`); figures are machine-dependent and never asserted by tests.
 */
import { codecSection } from './codec.ts';
import { fuzzSection } from './fuzz.ts';
import { compareSections } from './compare.ts';
import { peerSection } from './peer.ts';
import type { BenchRow, BenchSection } from './section.ts';

/** Every section, in run order. Add new ones here (client rps, fuzz, …). */
const sections: readonly BenchSection[] = [codecSection, peerSection, ...compareSections, fuzzSection];

function format(value: number): string {
  return value >= 100 || Number.isInteger(value) ? value.toFixed(0) : value.toPrecision(3);
}

/** The rows of one section as an aligned text table. */
function renderTable(section: BenchSection, rows: readonly BenchRow[]): string {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const body = rows.map((r) => {
    const base = r.baseline ? byName.get(r.baseline.name) : undefined;
    const ratio = r.ratio ?? (base && base.value > 0 ? r.value / base.value : undefined);
    const goal = r.baseline?.goal;
    const verdict = ratio === undefined || goal === undefined ? '' : ratio >= goal ? 'ok' : 'BELOW GOAL';
    return [
      r.name,
      `${format(r.value)} ${r.unit}`,
      ratio === undefined ? (r.baseline ? '?' : rows.some((o) => o.baseline?.name === r.name) ? 'baseline' : '') : `${ratio.toFixed(2)}×`,
      goal === undefined ? '' : `≥ ${goal}× ${verdict}`,
      r.note ?? '',
    ];
  });
  const head = ['benchmark', 'throughput', 'vs baseline', 'goal', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [`## ${section.name}: ${section.title}`, line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

async function main(argv: readonly string[]): Promise<void> {
  const unknown = argv.filter((name) => !sections.some((s) => s.name === name));
  if (unknown.length > 0) {
    process.stderr.write(`bench: no section ${unknown.join(', ')}; sections: ${sections.map((s) => s.name).join(', ')}\n`);
    process.exitCode = 2;
    return;
  }
  const chosen = argv.length > 0 ? sections.filter((s) => argv.includes(s.name)) : sections;
  process.stdout.write(`node ${process.version}, ${process.platform}/${process.arch}\n\n`);
  for (const section of chosen) {
    try {
      process.stdout.write(`${renderTable(section, await section.run())}\n\n`);
    } catch (err) {
      process.stderr.write(`bench: section ${section.name} failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
  }
}

await main(process.argv.slice(2));
