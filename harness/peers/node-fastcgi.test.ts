import { describe, expect, it } from 'vitest';
import { requirePeer } from './availability.ts';
import { nodeFastcgiMarker, nodeFastcgiProbeSupport, startNodeFastcgi } from './node-fastcgi.ts';
import { existsSync } from 'node:fs';
import { probeActionTests } from './__fixtures__/probe-actions.ts';

describe('node-fastcgi as a devDependency', () => {
  it('is installed by npm ci', (ctx) => {
    requirePeer('node-fastcgi', ctx);
    expect(existsSync(nodeFastcgiMarker)).toBe(true);
  });
});

describe('the Node.js probe on node-fastcgi over TCP', () => {
  probeActionTests('node-fastcgi', () => startNodeFastcgi({ listen: 'tcp' }), nodeFastcgiProbeSupport);
});

describe('the Node.js probe on node-fastcgi over a Unix socket', () => {
  probeActionTests('node-fastcgi', () => startNodeFastcgi({ listen: 'unix' }), nodeFastcgiProbeSupport);
});
