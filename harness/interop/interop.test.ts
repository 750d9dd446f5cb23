/**
 * The interop run in CI: each real application CI installs is started, run through the application suite
 * with its probe app and the fixed seed (nginx and Apache through the web-server suite), and gated by its
 * expectation file (harness/expectations/NAME.jsonc).
 * A verdict other than the file's (a new warn included), a listed failure that went away, or an error verdict
 * fails the test. A missing peer skips it, or fails it when FCGISPEC_REQUIRE_PEERS is set (CI sets it).
 * `npm run interop` runs every peer and writes the published matrix; this file writes nothing it keeps.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatGate } from '../../reports/expectations.ts';
import { requirePeer } from '../peers/availability.ts';
import type { PeerName } from '../peers/registry.ts';
import { runInterop } from './run.ts';

/**
 * The peers CI runs, each with a test timeout (about twice what a run takes on a loaded 2-core machine) and
 * the scenarios left out there. fcgiwrap starts a Perl CGI process per request (~30 ms): its scenarios of
 * hundreds of requests (two thirds of its run), and the FCGI_GET_VALUES queries that libfcgi leaves
 * unanswered until the scenario's deadline, are left to `npm run interop`; libfcgi, whose library fcgiwrap
 * uses, runs them all. The whole file takes about 5 minutes here.
 */
const ciPeers: readonly { readonly name: PeerName; readonly timeoutMs: number; readonly skip?: readonly string[] }[] = [
  { name: 'php-fpm', timeoutMs: 90_000 },
  { name: 'php-cgi', timeoutMs: 100_000 },
  { name: 'libfcgi', timeoutMs: 150_000 },
  { name: 'go-fcgi', timeoutMs: 120_000 },
  {
    name: 'fcgiwrap',
    timeoutMs: 200_000,
    skip: ['limits.long-kept-connection', 'limits.sequential-connections', 'params.split-every-offset*', 'record-layer.segments.every-offset*', 'keep-conn.sequential-50*', 'management.get-values.*'],
  },
  // Web servers, through the client suite in the configuration it ships for each.
  { name: 'nginx', timeoutMs: 60_000 },
  { name: 'apache', timeoutMs: 90_000 },
];

const out = mkdtempSync(join(tmpdir(), 'fcgispec-interop-ci-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the real peers give the verdicts their expectation files state', () => {
  for (const peer of ciPeers) {
    it(
      `${peer.name} (harness/expectations/${peer.name}.jsonc)`,
      async (ctx) => {
        requirePeer(peer.name, ctx);
        let text = '';
        const result = await runInterop({
          only: [peer.name],
          out,
          matrix: false,
          ...(peer.skip ? { skipScenarios: peer.skip } : {}),
          stdout: { write: (t: string) => (text += t) },
        });
        const outcome = result.outcomes[0];
        expect(outcome?.status, text).toBe('ran');
        if (outcome?.status !== 'ran') return;
        // Every line that fails the gate, with the verdicts and the file's reason: the failure message says what changed.
        const changes = [...formatGate(outcome.gate.gate).filter((l) => l.startsWith('✗')), ...outcome.gate.errors.map((id) => `✗ error ${id}`)];
        expect(changes, `${peer.name}: verdicts differ from harness/expectations/${peer.name}.jsonc (npm run interop -- --only ${peer.name} --update-expectations rewrites it)\n${text}`).toEqual([]);
        expect(outcome.gate.passed).toBe(true);
      },
      peer.timeoutMs,
    );
  }
});
