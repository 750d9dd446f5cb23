import { describe } from 'vitest';
import { perlFcgiProbeSupport, startPerlFcgi } from './perl-fcgi.ts';
import { probeActionTests } from './__fixtures__/probe-actions.ts';

describe('the Perl probe on FCGI.pm over TCP', () => {
  probeActionTests('perl-fcgi', () => startPerlFcgi({ listen: 'tcp' }), perlFcgiProbeSupport);
});

describe('the Perl probe on FCGI.pm over a Unix socket', () => {
  probeActionTests('perl-fcgi', () => startPerlFcgi({ listen: 'unix', children: 1 }), perlFcgiProbeSupport);
});
