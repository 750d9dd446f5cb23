import { describe } from 'vitest';
import { fcgiwrapProbeSupport, startFcgiwrap } from './fcgiwrap.ts';
import { probeActionTests } from './__fixtures__/probe-actions.ts';

describe('fcgiwrap running the CGI probe, over TCP', () => {
  probeActionTests('fcgiwrap', () => startFcgiwrap({ listen: 'tcp' }), fcgiwrapProbeSupport);
});

describe('fcgiwrap running the CGI probe, over a Unix socket', () => {
  probeActionTests('fcgiwrap', () => startFcgiwrap({ listen: 'unix', children: 1 }), fcgiwrapProbeSupport);
});
