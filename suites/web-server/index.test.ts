// The web-server scenario list: unique, well-formed ids; every cited requirement in the catalog, on the
// web-server side; responder faults that exist.
import { describe, expect, it } from 'vitest';
import { faultCatalog } from '../../reference/responder/faults.ts';
import { requirements } from '../../spec/requirements.ts';
import { webServerScenarios } from './index.ts';

describe('webServerScenarios', () => {
  it('has unique ids of the form area.name, none shadowed by the sanity check', () => {
    const ids = webServerScenarios.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^(request|response|rejection|connection)\.[a-z0-9.-]+$/);
    expect(ids).not.toContain('sanity.check');
  });

  it('cites requirements the catalog knows, none of them application-only', () => {
    for (const s of webServerScenarios) {
      for (const id of s.requirements) {
        const entry = Object.hasOwn(requirements, id) ? requirements[id] : undefined;
        expect(entry, `${s.id} cites ${id}`).toBeDefined();
        expect(entry?.side, `${s.id} cites ${id}`).not.toBe('application');
      }
    }
  });

  it('uses responder faults from the catalog, only legal ones (they exercise the web server, they do not break the protocol)', () => {
    for (const s of webServerScenarios) for (const f of s.faults ?? []) expect(faultCatalog[f.name].legal, `${s.id}: ${f.name}`).toBe(true);
  });

  it('covers what the issue asks for', () => {
    const ids = new Set<string>(webServerScenarios.map((s) => s.id));
    for (const id of ['request.stdin.10m', 'request.stdin.chunked', 'response.body.10m', 'response.padding.max-record', 'response.stall', 'response.close-before-end', 'rejection.cant-mpx-conn', 'rejection.overloaded', 'rejection.unknown-role', 'connection.abort-on-client-close', 'connection.multiplex', 'connection.get-values', 'connection.keep-conn']) {
      expect(ids.has(id), id).toBe(true);
    }
  });
});
