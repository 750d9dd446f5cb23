// The flow kit's pure helpers, then a sample of the flow groups' scenarios run against the reference responder:
// each must pass against it, and fail (or warn, or report) against a responder with the matching fault.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FCGI_BEGIN_REQUEST, FCGI_PARAMS, FCGI_STDIN } from '../spec/constants.ts';
import { requirements } from '../spec/requirements.ts';
import { recordsOf } from './kit.ts';
import { heldRequest, interleaveRecords, positiveInt, splitRecords } from './kit-flow.ts';
import { encodeRequestPlan } from '../harness/context.ts';
import { runScenarios } from '../harness/runner.ts';
import { NetworkTarget } from '../harness/target.ts';
import type { Catalog } from '../reports/summarize.ts';
import type { Verdict } from '../reports/model.ts';
import { createResponder, parseFault, type ResponderOptions } from '../reference/responder/index.ts';
import { probeHandler } from '../reference/probe/app.ts';
import type { Profile } from './define.ts';
import { scenarios as keepConn } from './keep-conn/index.ts';
import { scenarios as multiplexing } from './multiplexing/index.ts';
import { scenarios as abort } from './abort/index.ts';
import { scenarios as requestIds } from './request-ids/index.ts';
import { scenarios as robustness } from './robustness/index.ts';
import { scenarios as limits } from './limits/index.ts';

const all = [...keepConn, ...multiplexing, ...abort, ...requestIds, ...robustness, ...limits];

describe('flow kit helpers', () => {
  const request = (id: number, body: string): Uint8Array =>
    encodeRequestPlan({ requestId: id, stdin: new TextEncoder().encode(body), records: { maxContent: 4 } }, {});

  it('interleaves the records of several requests one by one, each in its own order', () => {
    const a = request(1, 'aaaaaaaaaa');
    const b = request(2, 'bb');
    const merged = recordsOf(interleaveRecords([a, b]));
    expect(merged.length).toBe(recordsOf(a).length + recordsOf(b).length);
    expect(merged.slice(0, 4).map((r) => r.requestId)).toEqual([1, 2, 1, 2]);
    for (const id of [1, 2]) {
      const own = merged.filter((r) => r.requestId === id).map((r) => [r.type, r.content.length]);
      expect(own).toEqual(recordsOf(id === 1 ? a : b).map((r) => [r.type, r.content.length]));
    }
  });

  it('splits a byte stream into whole records, padding included', () => {
    const bytes = request(3, 'hello world');
    const parts = splitRecords(bytes);
    expect(Buffer.concat(parts)).toEqual(Buffer.from(bytes));
    expect(parts.every((p) => recordsOf(p).length === 1)).toBe(true);
  });

  it('holds a request open: everything but the empty STDIN record', () => {
    const held = recordsOf(heldRequest({ baseParams: { A: 'b' } }, { requestId: 1, stdin: new Uint8Array(5) }));
    expect(held.map((r) => [r.type, r.content.length > 0])).toEqual([
      [FCGI_BEGIN_REQUEST, true],
      [FCGI_PARAMS, true],
      [FCGI_PARAMS, false],
      [FCGI_STDIN, true],
    ]);
  });

  it('reads positive decimal integers only', () => {
    expect(positiveInt('10')).toBe(10);
    expect(positiveInt(' 7 ')).toBe(7);
    for (const bad of ['0', '-1', '1.5', 'ten', '', undefined]) expect(positiveInt(bad)).toBeUndefined();
  });
});

describe('flow scenarios against the reference responder', () => {
  const dirs: string[] = [];
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0)) await s();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** Runs the scenarios `ids` against a reference responder with `options`; returns id → verdict. */
  async function run(ids: readonly string[], options: Partial<ResponderOptions> = {}): Promise<Record<string, Verdict>> {
    const dir = mkdtempSync(join(tmpdir(), 'fcgispec-flow-'));
    dirs.push(dir);
    const responder = createResponder({ handler: probeHandler, webServerAddrs: null, ...options });
    stops.push(() => responder.close({ graceMs: 50 }));
    const { address } = await responder.listen(`unix:${join(dir, 'app.sock')}`);
    const profile: Profile = { roles: ['responder'], multiplex: options.multiplex ?? true, keepConn: true, probe: true, maxConns: responder.maxConns, maxReqs: responder.maxReqs };
    const selected = ids.map((id) => {
      const s = all.find((x) => x.id === id);
      if (!s) throw new Error(`no scenario ${id}`);
      return s;
    });
    const results = await runScenarios({
      scenarios: selected,
      target: new NetworkTarget(address),
      profile,
      baseParams: {},
      catalog: requirements as unknown as Catalog,
      strict: false,
      seed: 7,
      timeoutScale: 0.5,
    });
    return Object.fromEntries(results.map((r) => [r.id, r.verdict]));
  }

  it('passes a sample of every group against the reference', async () => {
    const ids = [
      'keep-conn.clear-on-last',
      'keep-conn.padded-requests',
      'multiplexing.second-request-during-input',
      'multiplexing.concurrent-8',
      'abort.during-stdin',
      'abort.never-begun',
      'request-ids.byte-order',
      'request-ids.never-begun',
      'robustness.huge-name-length',
      'robustness.stall.half-header',
    ];
    const verdicts = await run(ids);
    expect(verdicts).toEqual(Object.fromEntries(ids.map((id) => [id, 'pass'])));
  }, 20_000);

  it.each([
    ['ignore-keep-conn', {}, 'keep-conn.sequential-5.framing', 'fail'],
    ['never-close', {}, 'keep-conn.clear-on-last', 'fail'],
    ['lie-mpxs', {}, 'multiplexing.second-request-during-input.framing', 'warn'],
    ['no-cant-mpx', { multiplex: false }, 'multiplexing.second-request-during-input.framing', 'warn'],
    ['ignore-abort', {}, 'abort.during-stdin', 'fail'],
    ['duplicate-end-request', {}, 'abort.during-params', 'fail'],
    ['reset-on-abort', {}, 'keep-conn.after-every-outcome', 'fail'],
  ] as const)('with the fault %s, %s gives %s', async (fault, options, id, verdict) => {
    const verdicts = await run([id], { ...options, faults: [parseFault(fault)] });
    expect(verdicts[id]).toBe(verdict);
  }, 20_000);

  it('reports a FCGI_MAX_REQS claim that requests run one at a time contradict', async () => {
    let chain: Promise<void> = Promise.resolve();
    const serial: ResponderOptions['handler'] = (req, res) => {
      const turn = chain.then(() => probeHandler(req, res));
      chain = turn.then(
        () => undefined,
        () => undefined,
      );
      return turn;
    };
    const verdicts = await run(['limits.max-reqs.multiplexed'], { handler: serial, maxReqs: 3 });
    expect(verdicts['limits.max-reqs.multiplexed']).toBe('warn') // FCGI-4.1-limits-honoured is should-level;
  }, 20_000);
});
