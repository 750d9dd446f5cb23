/**
 * The one place where results are counted and rolled up per requirement. Writers read the result and never
 * recount or reclassify.
 */
import type { RequirementId } from '../spec/requirements.ts';
import type { CheckMethod, Level, Side } from '../spec/requirement.ts';
import {
  REPORT_SCHEMA_VERSION,
  verdictRank,
  verdicts,
  worse,
  type BenchSection,
  type ComplianceReport,
  type ReportTarget,
  type RequirementRollup,
  type ScenarioResult,
  type Verdict,
} from './model.ts';

/** What `summarize` needs to know of a catalog entry (the `requirements` catalog satisfies it). */
export interface CatalogEntry {
  readonly section: string;
  readonly level: Level;
  readonly side?: Side;
  /** `untestable`: no scenario can check it; its rollup says so instead of `untested`. */
  readonly check?: CheckMethod;
}

/** A requirement catalog, or a part of one. */
export type Catalog = Readonly<Partial<Record<RequirementId, CatalogEntry>>>;

export interface SummarizeOptions {
  /**
   * Lists only the catalog's requirements that bind the side under test (`app` → application and both,
   * `client` → web-server and both); requirements a result names are always listed.
   */
  readonly mode?: ReportTarget['mode'];
}

export interface Summary {
  readonly summary: ComplianceReport['summary'];
  readonly requirements: readonly RequirementRollup[];
}

/**
 * Counts results per verdict and rolls them up per requirement: the worst verdict among the scenarios that
 * check it and ran (a skipped one does not hide what another found), `skip` where all of them skipped,
 * `untested` where none ran. A scenario whose `fail`/`warn` is explained by findings about other
 * requirements counts as a `pass` for the requirements it has no finding about. Requirements are listed in
 * catalog order, then any a result names that the catalog lacks (section `?`).
 */
export function summarize(results: readonly ScenarioResult[], catalog: Catalog, options: SummarizeOptions = {}): Summary {
  const counts = Object.fromEntries(verdicts.map((v) => [v, 0])) as Record<Verdict, number>;
  for (const r of results) counts[r.verdict]++;

  const byRequirement = new Map<RequirementId, { verdict: Verdict; scenarios: string[] }>();
  for (const r of results) {
    const checked = new Set<RequirementId>(r.requirements);
    for (const f of r.findings) checked.add(f.requirement);
    for (const id of checked) {
      const v = verdictFor(r, id);
      const entry = byRequirement.get(id);
      if (entry === undefined) byRequirement.set(id, { verdict: v, scenarios: [r.id] });
      else {
        entry.verdict = entry.verdict === 'skip' ? v : v === 'skip' ? entry.verdict : worse(entry.verdict, v);
        if (!entry.scenarios.includes(r.id)) entry.scenarios.push(r.id);
      }
    }
  }

  const sides = options.mode === 'app' ? ['application', 'both'] : options.mode === 'client' ? ['web-server', 'both'] : undefined;
  const rollup: RequirementRollup[] = [];
  const listed = new Set<string>();
  for (const [id, entry] of Object.entries(catalog) as [RequirementId, CatalogEntry | undefined][]) {
    if (entry === undefined) continue;
    const ran = byRequirement.get(id);
    if (ran === undefined && sides !== undefined && entry.side !== undefined && !sides.includes(entry.side)) continue;
    listed.add(id);
    rollup.push({ id, section: entry.section, level: entry.level, verdict: ran?.verdict ?? (entry.check === 'untestable' ? 'untestable' : 'untested'), scenarios: ran?.scenarios ?? [] });
  }
  for (const [id, ran] of byRequirement) {
    if (!listed.has(id)) rollup.push({ id, section: '?', level: 'must', verdict: ran.verdict, scenarios: ran.scenarios });
  }
  return { summary: { ...counts, total: results.length }, requirements: rollup };
}

// The verdict scenario `r` gives requirement `id`.
function verdictFor(r: ScenarioResult, id: RequirementId): Verdict {
  if (r.verdict === 'skip' || r.verdict === 'error') return r.verdict;
  const own = r.findings.filter((f) => f.requirement === id);
  if (own.length > 0) return own.map((f) => f.verdict).reduce(worse);
  const explainedElsewhere = verdictRank[r.verdict] >= verdictRank.warn && r.findings.some((f) => f.verdict === r.verdict);
  return explainedElsewhere ? 'pass' : r.verdict;
}

/** Everything the runner knows at the end of a run; `buildReport` adds the summary and rollup. */
export interface ReportInput {
  readonly tool: ComplianceReport['tool'];
  readonly target: ReportTarget;
  /** ISO 8601. */
  readonly startedAt: string;
  readonly durationMs: number;
  readonly seed: number;
  readonly strict: boolean;
  readonly results: readonly ScenarioResult[];
  readonly catalog: Catalog;
  readonly bench?: BenchSection;
}

/** Assembles a ComplianceReport: the only constructor of one. */
export function buildReport(input: ReportInput): ComplianceReport {
  const { summary, requirements } = summarize(input.results, input.catalog, { mode: input.target.mode });
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: input.tool,
    target: input.target,
    startedAt: input.startedAt,
    durationMs: input.durationMs,
    seed: input.seed,
    strict: input.strict,
    summary,
    results: input.results,
    requirements,
    ...(input.bench === undefined ? {} : { bench: input.bench }),
  };
}

/** The catalog entries a report already carries (its rollup), to summarize it again after a merge. */
export function catalogOf(report: ComplianceReport): Catalog {
  const out: Partial<Record<RequirementId, CatalogEntry>> = {};
  for (const r of report.requirements) {
    if (r.section !== '?') out[r.id] = { section: r.section, level: r.level, ...(r.verdict === 'untestable' ? { check: 'untestable' as const } : {}) };
  }
  return out;
}
