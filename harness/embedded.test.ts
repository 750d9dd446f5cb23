// The embedded reference responder as a target: it serves the probe contract, restarts on the same path, stops.
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedTarget } from './embedded.ts';
import { sanityCheck } from './liveness.ts';
import { queryGetValues } from './profile.ts';

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

  it('launches other instances as processes with their socket on fd 0, with the same options, for the process scenarios', async () => {
    const target = new EmbeddedTarget({ multiplex: false, faults: ['delay=1@3'] });
    targets.push(target);
    const launched = await target.launcher.launch({ transport: 'unix' });
    try {
      expect(launched.address.kind).toBe('unix');
      expect(await sanityCheck({ address: launched.address, baseParams: {}, probe: true, timeoutMs: 5000 })).toMatchObject({ ok: true });
      // --no-mpx reached the process.
      expect((await queryGetValues(launched.address, 5000)).values).toMatchObject({ FCGI_MPXS_CONNS: '0' });
      expect(launched.signal('SIGTERM')).toBe(true);
      expect(await launched.waitExit(5000)).toBeDefined();
    } finally {
      await launched.stop();
    }
  });
});
