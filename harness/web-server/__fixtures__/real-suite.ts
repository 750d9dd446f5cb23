// The whole client suite against one real web server in front of the backend, as the *.real.test.ts files run
// it: no scenario may end in error, and every verdict other than pass must be one the note explains (listed
// per server, with the verdicts a race inside the server can give).
import { describe, expect, it } from 'vitest';
import type { ScenarioResult, Verdict } from '../../../reports/model.ts';
import { webServerScenarios } from '../../../suites/web-server/index.ts';
import { R } from '../../../suites/web-server/kit.ts';
import { clientCatalog } from '../../commands/client.ts';
import { requirePeer } from '../../peers/availability.ts';
import { startBackend } from '../backend.ts';
import { runClientScenarios, sanityRequest } from '../runner.ts';
import { clientSuiteServers, type ClientSuiteServer } from '../servers.ts';

/** The verdicts other than `pass` a scenario may have against the server. */
export type KnownVerdicts = Readonly<Record<string, readonly Verdict[]>>;

function line(r: ScenarioResult): string {
  return `${r.verdict} ${r.id}: ${r.expected} / ${r.actual}`;
}

/** Runs the suite against `name` (skipped when it is not installed, failed when FCGISPEC_REQUIRE_PEERS is set). */
export function realServerSuite(name: ClientSuiteServer, known: KnownVerdicts): void {
  describe(`the client suite against ${name}`, () => {
    it('runs every scenario without an error; every fail, warn and info is a known one', async (ctx) => {
      requirePeer(name, ctx);
      const backend = await startBackend({ listen: 'tcp:127.0.0.1:0' });
      const server = await clientSuiteServers[name].start(backend.address);
      try {
        const trigger = new URL(server.url);
        expect(await sanityRequest(backend, trigger, 5000)).toMatchObject({ ok: true });
        const results = await runClientScenarios({ scenarios: webServerScenarios, backend, trigger, catalog: clientCatalog, strict: false, seed: 1 });
        // The verdict table, for the log of the CI run.
        console.log(`${name}:\n${results.filter((r) => r.verdict !== 'pass').map(line).join('\n')}`);
        expect(results.filter((r) => r.verdict === 'error').map(line)).toEqual([]);
        const unexplained = results.filter((r) => !(known[r.id] ?? ['pass']).includes(r.verdict)).map(line);
        expect(unexplained, server.output().slice(-2000)).toEqual([]);
        // Every shipped configuration sets a backend timeout below the scenario's 8 s bound: the server gives up.
        const stall = results.find((r) => r.id === 'response.stall')!;
        expect(stall.findings.find((f) => f.requirement === R.stallTimeout)?.actual).toMatch(/^gave up after \d+(\.\d+)? ms/);
      } finally {
        await server.stop();
        await backend.close();
      }
    }, 150_000);
  });
}
