import { describe, expect, it } from 'vitest';
import { requirePeer } from './availability.ts';
import { buildLibfcgiProbe, libfcgiProbeSupport, startLibfcgi } from './libfcgi.ts';
import { probeActionTests } from './__fixtures__/probe-actions.ts';

describe('the C probe build', () => {
  it('is cached: a second build of the same source reuses the first', async (ctx) => {
    requirePeer('libfcgi', ctx);
    const first = await buildLibfcgiProbe();
    const second = await buildLibfcgiProbe();
    expect(second.dir).toBe(first.dir);
    expect(second.built).toBe(false);
  });
});

describe('the C probe on libfcgi, spawned by spawn-fcgi on TCP', () => {
  probeActionTests('libfcgi', () => startLibfcgi({ listen: 'tcp' }), libfcgiProbeSupport);
});

describe('the C probe on libfcgi, spawned by spawn-fcgi on a Unix socket', () => {
  probeActionTests('libfcgi', () => startLibfcgi({ listen: 'unix', children: 1 }), libfcgiProbeSupport);
});
