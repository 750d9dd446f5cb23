// The catalog and the application suite check each other: every application-side requirement is cited by a
// scenario (or says why it cannot be), and every scenario is well named, well placed and cites real ids.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { requirements, type RequirementId } from '../spec/requirements.ts';
import { scenarioGroups, type Scenario } from './define.ts';
import { regressionScenarios } from './regressions/index.ts';
import { appScenarios } from './index.ts';

const catalog: Readonly<Record<string, (typeof requirements)[RequirementId]>> = requirements;
const cited = new Set<string>(appScenarios.flatMap((s) => s.requirements));

describe('catalog ↔ application suite', () => {
  it('cites every application-side requirement in some scenario, unless the catalog marks it untestable', () => {
    const uncovered = Object.entries(catalog)
      .filter(([id, r]) => (r.side === 'application' || r.side === 'both') && r.check !== 'untestable' && !cited.has(id))
      .map(([id]) => id);
    expect(uncovered).toEqual([]);
  });

  it('explains every untestable application-side requirement in its `how`', () => {
    const unexplained = Object.entries(catalog)
      .filter(([, r]) => (r.side === 'application' || r.side === 'both') && r.check === 'untestable' && r.how.trim().length < 40)
      .map(([id]) => id);
    expect(unexplained).toEqual([]);
  });

  it('cites only requirements that exist, and at least one per scenario', () => {
    for (const s of appScenarios) {
      expect(s.requirements.length, s.id).toBeGreaterThan(0);
      expect(s.requirements.filter((id) => !Object.hasOwn(catalog, id)), s.id).toEqual([]);
    }
  });

  it('cites no web-server-only requirement from an application scenario', () => {
    const misplaced = appScenarios.flatMap((s) => s.requirements.filter((id) => catalog[id]?.side === 'web-server').map((id) => `${s.id}: ${id}`));
    expect(misplaced).toEqual([]);
  });
});

describe('scenario ids and groups', () => {
  it('gives every scenario a unique id of dot-separated lowercase words', () => {
    const ids = appScenarios.map((s) => s.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/);
  });

  it('puts every scenario in a known group, named by the first part of its id', () => {
    for (const s of appScenarios) {
      expect(scenarioGroups, s.id).toContain(s.group);
      expect(s.id.split('.')[0], s.id).toBe(s.group);
    }
  });

  it("lists every scenario in the index of its group's folder, and every group's scenarios in the suite", async () => {
    const fromFolders: Scenario[] = [];
    // The web-server suite has scenarios of its own kind, listed by its own index.
    for (const group of scenarioGroups.filter((g) => g !== 'web-server')) {
      const index = new URL(`./${group}/index.ts`, import.meta.url);
      expect(existsSync(index), `suites/${group}/index.ts`).toBe(true);
      const { scenarios } = (await import(index.href)) as { scenarios: readonly Scenario[] };
      for (const s of scenarios) expect(s.group, `${s.id} listed in suites/${group}/index.ts`).toBe(group);
      fromFolders.push(...scenarios);
    }
    // The regression replays are loaded from their folder, one scenario per file.
    fromFolders.push(...regressionScenarios);
    expect(new Set(fromFolders)).toEqual(new Set(appScenarios));
    expect(fromFolders.length).toBe(appScenarios.length);
  });
});
