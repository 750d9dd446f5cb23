// What the fuzzer found in the reference responder itself, kept as plans it must now pass. (Regression replays of
// other targets live in suites/regressions/; these are bugs of ours, so they stay tests.)
import { describe, expect, it } from 'vitest';
import { requirements } from '../../spec/requirements.ts';
import { FCGI_FILTER } from '../../spec/constants.ts';
import { embeddedTarget } from '../../harness/embedded.ts';
import { runScenarios } from '../../harness/runner.ts';
import { defaultCgiParams } from '../../harness/commands/app.ts';
import type { Profile } from '../define.ts';
import { regressionScenario } from './regressions.ts';
import { REPLAY_FORMAT, REPLAY_VERSION, type ReplayFile } from './replay.ts';
import type { FuzzPlan } from './plan.ts';

const profile: Profile = { roles: ['responder', 'authorizer', 'filter'], multiplex: true, keepConn: true, probe: true };

function replayOf(title: string, plan: FuzzPlan): ReplayFile {
  return {
    format: REPLAY_FORMAT,
    version: REPLAY_VERSION,
    title,
    tool: 'fcgispec test',
    createdAt: '2024-07-27T00:00:00.000Z',
    target: { name: 'reference', address: 'embedded' },
    seed: 20_240_727,
    path: '69:1:2:2:3:3:3:8:8:7:7',
    options: { probe: true, baseParams: {}, profile, appStatus: 'exact', strict: false, barrier: false, timeouts: { replyMs: 2000, closeMs: 2000, quietMs: 200 } },
    plan,
    records: [],
    traffic: [],
    omittedTrafficBytes: 0,
    verdict: 'fail',
    findings: [{ requirement: 'FCGI-5.5-end-request-once', verdict: 'fail', expected: 'FCGI_END_REQUEST for request 1', actual: 'none before the case gave up waiting' }],
  };
}

describe('failures the fuzzer found in the reference responder', () => {
  it('a handler collecting up to 64 KiB of FCGI_STDIN that arrives as exactly 65535 + 1 bytes is answered', async () => {
    // Found by seed 20240727: the probe collects FCGI_STDIN up to 64 KiB; with exactly that much held and the
    // stream not ended, the connection stopped reading while the collector waited for one byte more (or the end)
    // to decide, and the request never ended.
    const stall = replayOf('reference: FCGI_STDIN of exactly 64 KiB held by a collecting handler stalls', {
      connections: [
        {
          batches: [
            {
              requests: [
                { id: 1, role: FCGI_FILTER, keepConn: false, params: [['PROBE_ACTION', 'echo-data']], stdin: { pattern: 0, length: 131_077 }, data: '', abort: null, chunks: [65_535, 1], longLengths: false },
              ],
              extras: [],
              order: [],
            },
          ],
          delivery: { padding: [], paddingByte: 0, writes: [] },
        },
      ],
    });
    const target = embeddedTarget();
    await target.start();
    try {
      const results = await runScenarios({
        scenarios: [regressionScenario(stall, 'reference-stdin-64k-stall.replay.json')],
        target,
        profile,
        baseParams: defaultCgiParams,
        catalog: requirements,
        strict: false,
        seed: 1,
      });
      expect(results.map((r) => `${r.verdict}${r.verdict === 'pass' ? '' : `: ${r.actual}`}`)).toEqual(['pass']);
    } finally {
      await target.stop();
    }
  }, 30_000);
});
