// The sanity request: served, echoed, refused, hung.
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startMiniApp } from './__fixtures__/mini-app.ts';
import { awaitServing, sanityCheck } from './liveness.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('sanityCheck', () => {
  it('passes a served request, with and without the probe echo', async () => {
    const app = await startMiniApp();
    cleanups.push(app.close);
    const address = { kind: 'tcp', host: '127.0.0.1', port: app.port } as const;
    expect(await sanityCheck({ address, baseParams: {}, probe: false, timeoutMs: 1000 })).toMatchObject({ ok: true });
    expect(await sanityCheck({ address, baseParams: {}, probe: true, timeoutMs: 1000 })).toMatchObject({ ok: true });
  });

  it('fails a probe echo that returns other bytes, and a request that is never answered', async () => {
    const app = await startMiniApp();
    cleanups.push(app.close);
    const address = { kind: 'tcp', host: '127.0.0.1', port: app.port } as const;
    // The base params override the request's own: SCRIPT_NAME /hang is never answered, and an app without
    // the probe contract answers "hello" to the echo.
    const hung = await sanityCheck({ address, baseParams: { SCRIPT_NAME: '/hang' }, probe: false, timeoutMs: 100 });
    expect(hung).toMatchObject({ ok: false, stage: 'reply', reason: expect.stringMatching(/no FCGI_END_REQUEST within 100 ms/) });
    const wrong = await sanityCheck({ address, baseParams: { PROBE_ACTION: 'nothing' }, probe: true, timeoutMs: 1000 });
    expect(wrong).toMatchObject({ ok: false, stage: 'reply', reason: expect.stringMatching(/the echo returned "hello"/) });
  });

  it('says when nothing listens, and retries within a window', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise((r) => server.close(r));
    const address = { kind: 'tcp', host: '127.0.0.1', port } as const;
    expect(await sanityCheck({ address, baseParams: {}, probe: false, timeoutMs: 500 })).toMatchObject({ ok: false, stage: 'connect' });
    const recovery = await awaitServing({ address, baseParams: {}, probe: false, timeoutMs: 500 }, 100, 20);
    expect(recovery.ok).toBe(false);
    expect(recovery.attempts).toBeGreaterThan(1);
    let calls = 0;
    const gaveUp = await awaitServing({ address, baseParams: {}, probe: false, timeoutMs: 500 }, 10_000, 10, () => ++calls > 0);
    expect(gaveUp.attempts).toBe(1);
  });
});
