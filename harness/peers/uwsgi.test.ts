import { describe } from 'vitest';
import { startUwsgi, uwsgiProbeSupport } from './uwsgi.ts';
import { probeActionTests } from './__fixtures__/probe-actions.ts';

describe('uWSGI running the WSGI probe on a FastCGI socket over TCP', () => {
  probeActionTests('uwsgi', () => startUwsgi({ listen: 'tcp' }), uwsgiProbeSupport);
});

describe('uWSGI running the WSGI probe on a FastCGI socket over a Unix socket', () => {
  probeActionTests('uwsgi', () => startUwsgi({ listen: 'unix', processes: 1 }), uwsgiProbeSupport);
});
