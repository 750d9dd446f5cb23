// The embedded reference responder as a target: it serves the probe contract, restarts on the same path, stops.
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedTarget } from './embedded.ts';
import { sanityCheck } from './liveness.ts';

const targets: EmbeddedTarget[] = [];
afterEach(async () => {
  for (const t of targets.splice(0)) await t.stop();
});

describe('EmbeddedTarget', () => {
  it('serves the probe echo, restarts on the same socket path and cleans up when stopped', async () => {
    const target = new EmbeddedTarget();
    targets.push(target);
    await target.start();
    const address = target.address;
    expect(address.kind).toBe('unix');
    expect(await sanityCheck({ address, baseParams: {}, probe: true, timeoutMs: 2000 })).toMatchObject({ ok: true });
    const mark = target.logMark();
    await target.restart();
    expect(target.address).toEqual(address);
    expect(await sanityCheck({ address, baseParams: {}, probe: true, timeoutMs: 2000 })).toMatchObject({ ok: true });
    expect(target.logSince(mark)).toMatch(/restarting the embedded responder[\s\S]*serve: conn=1 id=1 role=responder action=echo-stdin/);
    expect(target.exited()).toBeUndefined();
    await target.stop();
    expect(address.kind === 'unix' && existsSync(dirname(address.path))).toBe(false);
  });
});
