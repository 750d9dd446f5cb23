// Every deliberate fault of the web-server double, switched on alone, is reported as fail or warn by the
// scenario that covers it, citing the requirement the fault breaks; the same scenario passes against the
// clean double (so the finding is the fault's doing).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Verdict } from '../../reports/model.ts';
import type { RequirementId } from '../../spec/requirements.ts';
import { webServerScenarios } from '../../suites/web-server/index.ts';
import { R } from '../../suites/web-server/kit.ts';
import { clientCatalog } from '../commands/client.ts';
import { startBackend, type Backend } from './backend.ts';
import { doubleFaults, startDouble, type DoubleFault } from './double.ts';
import { runClientScenarios } from './runner.ts';

/** Each fault: the scenario that must catch it, the requirement it cites, and the verdict (by level). */
const matrix: Readonly<Record<DoubleFault, readonly [scenario: string, requirement: RequirementId, verdict: Verdict]>> = {
  'version-2': ['request.get.simple', 'FCGI-3.3-version-1', 'fail'],
  'reserved-nonzero': ['request.get.simple', 'FCGI-3.3-reserved-zero', 'warn'],
  'unaligned-padding': ['request.framing.aligned', 'FCGI-3.3-align-8', 'warn'],
  'no-params-end': ['request.get.simple', 'FCGI-6.1-inputs-sequential', 'fail'],
  'no-stdin-end': ['request.get.simple', 'FCGI-6.1-input-streams-sent', 'fail'],
  'growing-ids': ['connection.keep-conn', 'FCGI-3.3-small-request-ids', 'warn'],
  'no-content-length': ['request.params.post', 'FCGI-6.2-responder-params', 'fail'],
  'wrong-content-length': ['request.params.post', 'FCGI-6.2-responder-params', 'fail'],
  'nul-in-params': ['request.params.cgi', 'FCGI-6.1-params-no-nul', 'fail'],
  'drop-http-headers': ['request.params.cgi', 'FCGI-6.2-responder-params', 'fail'],
  'truncate-body': ['request.stdin.64k', 'FCGI-6.2-responder-stdin', 'fail'],
  'ignore-status': ['response.status.404', 'FCGI-6.1-status-honoured', 'fail'],
  'stderr-in-body': ['response.stderr.interleaved', 'FCGI-3.3-stream-value-web-server', 'fail'],
  'padding-in-body': ['response.padding.aligned-max', 'FCGI-3.3-padding-discarded-web-server', 'fail'],
  'drop-tiny-records': ['response.split.tiny-records', 'FCGI-3.3-stream-value-web-server', 'fail'],
  'rejection-as-200': ['rejection.overloaded', 'FCGI-5.5-rejection-handled', 'warn'],
  'truncated-as-success': ['response.close-before-end', R.invalidResponse, 'warn'],
  'no-abort': ['connection.abort-on-client-close', 'FCGI-5.4-abort-on-client-close', 'warn'],
  'serial-stdin': ['connection.reads-while-sending', 'FCGI-6.1-web-server-reads-while-sending', 'warn'],
};

let backend: Backend;

beforeAll(async () => {
  backend = await startBackend({ listen: 'tcp:127.0.0.1:0' });
});
afterAll(async () => {
  await backend?.close();
});

async function run(scenario: string, faults: readonly DoubleFault[]) {
  const double = await startDouble({ backend: backend.address, faults, timeoutMs: 1000 });
  try {
    const [result] = await runClientScenarios({
      scenarios: webServerScenarios.filter((s) => s.id === scenario),
      backend,
      trigger: new URL(double.url),
      catalog: clientCatalog,
      strict: false,
      seed: 3,
      timeoutScale: 0.5,
    });
    return result!;
  } finally {
    await double.close();
  }
}

describe('the double faults', () => {
  it('has an entry in the matrix for every fault', () => {
    expect(Object.keys(matrix).sort()).toEqual(Object.keys(doubleFaults).sort());
  });

  it.each(Object.entries(matrix) as [DoubleFault, (typeof matrix)[DoubleFault]][])('%s is reported by %s', async (fault, [scenario, requirement, verdict]) => {
    const faulty = await run(scenario, [fault]);
    expect(faulty.verdict, `${faulty.expected} / ${faulty.actual}`).toMatch(/^(fail|warn)$/);
    expect(faulty.findings).toContainEqual(expect.objectContaining({ requirement, verdict }));
    const clean = await run(scenario, []);
    expect(clean.verdict, `${clean.expected} / ${clean.actual}`).toBe('pass');
  }, 20_000);
});
