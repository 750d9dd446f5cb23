// Replay files: parsing (bounded, one-line errors), and a file dropped into a folder becoming a scenario that
// passes against the reference and fails against the fault it was found with, through the ordinary runner.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { requirements } from '../../spec/requirements.ts';
import { embeddedTarget } from '../../harness/embedded.ts';
import { runScenarios } from '../../harness/runner.ts';
import { defaultCgiParams } from '../../harness/commands/app.ts';
import type { Profile } from '../define.ts';
import { regressionScenarios } from '../regressions/index.ts';
import { loadRegressionScenarios, regressionId } from './regressions.ts';
import { formatReplay, parseReplay, ReplayError, REPLAY_FORMAT, REPLAY_VERSION, type ReplayFile } from './replay.ts';

const profile: Profile = { roles: ['responder', 'authorizer', 'filter'], multiplex: true, keepConn: true, probe: true };

const file: ReplayFile = {
  format: REPLAY_FORMAT,
  version: REPLAY_VERSION,
  title: 'FCGI-5.1-unknown-role against reference (wrong-unknown-role)',
  tool: 'fcgispec test',
  createdAt: '2024-01-01T00:00:00.000Z',
  target: { name: 'reference (wrong-unknown-role)', address: 'embedded --fault wrong-unknown-role' },
  seed: 1,
  path: '0:0',
  options: { probe: true, baseParams: {}, profile, appStatus: 'exact', strict: false, barrier: false, timeouts: { replyMs: 2000, closeMs: 2000, quietMs: 200 } },
  plan: {
    connections: [
      {
        batches: [{ requests: [{ id: 1, role: 7, keepConn: true, params: [['PROBE_ACTION', 'echo-stdin']], stdin: 'hi', data: '', abort: null, chunks: [], longLengths: false }], extras: [], order: [] }],
        delivery: { padding: [], paddingByte: 0, writes: [] },
      },
    ],
  },
  records: [],
  traffic: [],
  omittedTrafficBytes: 0,
  verdict: 'fail',
  findings: [{ requirement: 'FCGI-5.1-unknown-role', verdict: 'fail', expected: 'FCGI_UNKNOWN_ROLE', actual: 'served' }],
};

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('replay files', () => {
  it('read back what was written', () => {
    const again = parseReplay(JSON.parse(formatReplay(file)));
    expect(again.plan).toEqual(file.plan);
    expect(again.options).toEqual(file.options);
    expect(again.findings).toEqual(file.findings);
  });

  it('refuse what is not one, in one line', () => {
    const bad = (over: Record<string, unknown>): string => {
      try {
        parseReplay({ ...JSON.parse(formatReplay(file)), ...over });
      } catch (err) {
        expect(err).toBeInstanceOf(ReplayError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad({ format: 'other' })).toMatch(/not a replay file/);
    expect(bad({ version: 99 })).toMatch(/version 99/);
    expect(bad({ plan: { connections: 'x' } })).toMatch(/plan.connections: expected an array/);
    expect(bad({ plan: { connections: Array.from({ length: 9 }, () => ({ batches: [] })) } })).toMatch(/more than 4 entries/);
    expect(bad({ findings: [{ requirement: 'FCGI-0-nope', verdict: 'fail' }] })).toMatch(/unknown requirement/);
    expect(bad({ plan: { connections: [{ batches: [{ requests: [{ id: 0, role: 1, keepConn: true }] }] }] } })).toMatch(/\.id: expected an integer in 1\.\.65535/);
    expect(bad({ plan: { connections: [{ batches: [{ requests: [{ id: 1, role: 1, keepConn: true, stdin: { hex: 'abc' } }] }] }] } })).toMatch(/even number of hex digits/);
  });
});

describe('regression scenarios', () => {
  it('load every replay file in a folder as a scenario that runs through the ordinary runner', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fcgispec-regressions-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'Unknown Role.replay.json'), formatReplay(file));
    writeFileSync(join(dir, 'notes.txt'), 'not a replay file');
    const scenarios = loadRegressionScenarios(dir);
    expect(scenarios.map((s) => s.id)).toEqual(['robustness.regression.unknown-role']);
    expect(scenarios[0]!.requirements).toEqual(['FCGI-5.1-unknown-role']);
    const run = async (faults: string[]): Promise<string> => {
      const target = embeddedTarget({ faults });
      await target.start();
      try {
        const [result] = await runScenarios({ scenarios, target, profile, baseParams: defaultCgiParams, catalog: requirements, strict: false, seed: 1 });
        return `${result!.verdict}${result!.findings.length ? `: ${result!.findings.map((f) => f.requirement).join(', ')}` : ''}`;
      } finally {
        await target.stop();
      }
    };
    expect(await run([])).toBe('pass');
    expect(await run(['wrong-unknown-role'])).toBe('fail: FCGI-5.1-unknown-role');
  }, 30_000);

  it('names scenarios after their files', () => {
    expect(regressionId('php-fpm-s123.replay.json')).toBe('robustness.regression.php-fpm-s123');
    expect(regressionId('__.replay.json')).toBe('robustness.regression.replay');
  });

  it('ships the regressions folder as a list the suite can include, each passing the catalog check', () => {
    for (const s of regressionScenarios) {
      expect(s.id).toMatch(/^robustness\.regression\./);
      for (const r of s.requirements) expect(Object.hasOwn(requirements, r)).toBe(true);
    }
  });
});
