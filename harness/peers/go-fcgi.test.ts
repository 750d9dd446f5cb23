import { describe } from 'vitest';
import { goFcgiProbeSupport, startGoFcgi } from './go-fcgi.ts';
import { probeActionTests } from './__fixtures__/probe-actions.ts';

describe('the Go probe on net/http/fcgi over TCP', () => {
  probeActionTests('go-fcgi', () => startGoFcgi({ listen: 'tcp' }), goFcgiProbeSupport);
});

describe('the Go probe on net/http/fcgi over a Unix socket', () => {
  probeActionTests('go-fcgi', () => startGoFcgi({ listen: 'unix' }), goFcgiProbeSupport);
});
