/**
 * Compares two reports of the same target: per scenario, what got better or worse by verdict rank.
 * A regression is a scenario whose verdict got worse; scenarios only in one report are listed apart.
 */
import type { ComplianceReport, RequirementRollup, RollupVerdict } from './model.ts';
import { isVerdict, verdictRank } from './model.ts';

/** One scenario (or requirement) whose verdict changed. */
export interface VerdictChange {
  readonly id: string;
  readonly title: string;
  readonly from: RollupVerdict;
  readonly to: RollupVerdict;
}

export interface Comparison {
  /** Verdict rank went down (e.g. fail → pass). */
  readonly better: readonly VerdictChange[];
  /** Verdict rank went up (e.g. pass → warn): regressions. */
  readonly worse: readonly VerdictChange[];
  /** Scenarios only in the new report, with their verdict. */
  readonly added: readonly VerdictChange[];
  /** Scenarios only in the old report. */
  readonly removed: readonly VerdictChange[];
  readonly unchanged: number;
  /** Requirement rollups whose verdict changed (untested and untestable count as neither better nor worse). */
  readonly requirements: { readonly better: readonly VerdictChange[]; readonly worse: readonly VerdictChange[] };
  /** `worse.length`: the number of scenarios that regressed. */
  readonly regressions: number;
  /** Set when the two reports are of different targets (compared anyway). */
  readonly targetChanged?: { readonly from: string; readonly to: string };
}

/** Compares `before` with `after`, scenario by scenario, in `after`'s order. */
export function compareReports(before: ComplianceReport, after: ComplianceReport): Comparison {
  const old = new Map(before.results.map((r) => [r.id, r]));
  const seen = new Set<string>();
  const better: VerdictChange[] = [];
  const worse: VerdictChange[] = [];
  const added: VerdictChange[] = [];
  let unchanged = 0;
  for (const r of after.results) {
    seen.add(r.id);
    const was = old.get(r.id);
    if (was === undefined) {
      added.push({ id: r.id, title: r.title, from: 'untested', to: r.verdict });
      continue;
    }
    const d = verdictRank[r.verdict] - verdictRank[was.verdict];
    const change = { id: r.id, title: r.title, from: was.verdict, to: r.verdict };
    if (d < 0) better.push(change);
    else if (d > 0) worse.push(change);
    else unchanged++;
  }
  const removed = before.results.filter((r) => !seen.has(r.id)).map((r) => ({ id: r.id, title: r.title, from: r.verdict, to: 'untested' as const }));

  const oldReq = new Map(before.requirements.map((r) => [r.id, r]));
  const reqBetter: VerdictChange[] = [];
  const reqWorse: VerdictChange[] = [];
  for (const r of after.requirements) {
    const was: RequirementRollup | undefined = oldReq.get(r.id);
    const [from, to] = [was?.verdict, r.verdict];
    if (from === undefined || !isVerdict(from) || !isVerdict(to) || from === to) continue;
    (verdictRank[to] < verdictRank[from] ? reqBetter : reqWorse).push({ id: r.id, title: `§${r.section}`, from, to });
  }

  const from = targetKey(before);
  const to = targetKey(after);
  return {
    better,
    worse,
    added,
    removed,
    unchanged,
    requirements: { better: reqBetter, worse: reqWorse },
    regressions: worse.length,
    ...(from === to ? {} : { targetChanged: { from, to } }),
  };
}

function targetKey(r: ComplianceReport): string {
  return `${r.target.name} (${r.target.mode}, ${r.target.address})`;
}

/** The comparison as text lines for a terminal or a CI log (the caller escapes for its medium). */
export function formatComparison(c: Comparison): string[] {
  const out: string[] = [];
  if (c.targetChanged) out.push(`note: comparing different targets: ${c.targetChanged.from} → ${c.targetChanged.to}`);
  const list = (title: string, items: readonly VerdictChange[]): void => {
    if (items.length === 0) return;
    out.push(`${title} (${items.length}):`);
    for (const i of items) out.push(`  ${i.from} → ${i.to}  ${i.id}  ${i.title}`);
  };
  list('worse', c.worse);
  list('better', c.better);
  list('new scenarios', c.added);
  list('removed scenarios', c.removed);
  list('requirements worse', c.requirements.worse);
  list('requirements better', c.requirements.better);
  out.push(
    `${c.regressions} regression${c.regressions === 1 ? '' : 's'}, ${c.better.length} better, ${c.unchanged} unchanged, ` +
      `${c.added.length} new, ${c.removed.length} removed`,
  );
  return out;
}
