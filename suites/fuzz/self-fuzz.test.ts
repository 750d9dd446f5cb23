// Self-fuzzing: the fuzzer's arbitraries drive the reference client against the reference responder (every
// answer as the probe contract predicts), and the whole fuzzer (plans, executor, model, liveness) against the
// embedded reference, which must come out clean. Bounded runs, fixed seeds, printed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleNames, type RoleName } from '../../spec/constants.ts';
import { Client, ClientError } from '../../reference/client/index.ts';
import { expectedProbeResponse, compareProbeResponse } from '../../reference/probe/model.ts';
import { startServe, type ServeHandle } from '../../harness/commands/serve.ts';
import { fuzz } from '../../harness/commands/fuzz.ts';
import { nonEmpty, requestSpec } from '../arbitraries/plan.ts';
import { paddingList } from '../arbitraries/plan.ts';
import { bytesOf, paramsOfRequest } from './plan.ts';

const SEED = 777_001;
console.log(`suites/fuzz self-fuzz: fast-check seed ${SEED}`);

let dir: string;
let serve: ServeHandle;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fcgispec-selffuzz-'));
  serve = await startServe({ listen: `unix:${join(dir, 'ref.sock')}`, log: false });
});
afterAll(async () => {
  await serve.close(0);
  rmSync(dir, { recursive: true, force: true });
});

describe('the reference client against the reference responder', () => {
  it('gets the answer the probe contract predicts for any request, multiplexed or not', async () => {
    // Small bodies keep the run short; large ones are the fuzzer's (and reference-findings.test.ts's) business.
    const spec = requestSpec({ roles: ['responder', 'authorizer', 'filter'], keepConn: true, maxParams: 1024, maxStdin: 20_000 }).map((r) => ({ ...r, abort: null }));
    const client = new Client(serve.address, { maxConnections: 3, multiplex: 'auto' });
    try {
      await fc.assert(
        fc.asyncProperty(nonEmpty(spec, 4), paddingList(), fc.integer({ min: 1, max: 65535 }), async (requests, padding, maxContent) => {
          await Promise.all(
            requests.map(async (r) => {
              const params = paramsOfRequest(r, {});
              const role = (roleNames as Record<number, RoleName | undefined>)[r.role];
              const records = { maxContent, padding: padding.length === 0 ? ('none' as const) : padding.map((p) => (p < 0 ? 0 : p)) };
              try {
                const res = await client.request({ role: r.role, params, stdin: bytesOf(r.stdin), ...(r.role === 3 ? { data: bytesOf(r.data) } : {}), records });
                expect(role).toBeDefined();
                const expected = expectedProbeResponse(role!, params.map(([name, value]) => ({ name, value })), bytesOf(r.stdin), bytesOf(r.data));
                expect(compareProbeResponse(expected, { stdout: res.stdout, stderr: res.stderr, appStatus: res.appStatus })).toEqual([]);
              } catch (err) {
                // An unknown role is rejected with FCGI_UNKNOWN_ROLE (§5.1), and only an unknown role.
                expect(role).toBeUndefined();
                expect(err).toBeInstanceOf(ClientError);
                expect((err as ClientError).code).toBe('E_REJECTED');
                expect((err as ClientError).protocolStatus).toBe(3);
              }
            }),
          );
        }),
        { seed: SEED, numRuns: 40 },
      );
    } finally {
      await client.close();
    }
  }, 60_000);
});

describe('the fuzzer against the embedded reference', () => {
  it('finds nothing in a bounded run', async () => {
    const out = { write: (_t: string) => true };
    const run = await fuzz({ embedded: true, runs: 40, seed: SEED, maxStdin: 60_000, quiet: true, replayFiles: false }, { stdout: out, env: {} });
    const failures = run.report.results.filter((r) => r.verdict !== 'pass');
    expect(failures.map((r) => `${r.id}: ${r.actual}`)).toEqual([]);
    expect(run.cases).toBe(40);
    expect(run.exitCode).toBe(0);
  }, 60_000);
});
