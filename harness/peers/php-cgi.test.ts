import { describe, expect, it } from 'vitest';
import { phpCgiSpawnCommand, startPhpCgi } from './php-cgi.ts';
import { probeInteropTests } from './__fixtures__/probe-interop.ts';

describe('php-cgi spawn command', () => {
  it('passes the FastCGI settings in a clean environment', () => {
    const cmd = phpCgiSpawnCommand({ children: 3, maxRequests: 7 });
    expect(cmd.command).toBe('/usr/bin/php-cgi8.2');
    expect(cmd.args).toContain('-n');
    expect(cmd.env).toMatchObject({ PHP_FCGI_CHILDREN: '3', PHP_FCGI_MAX_REQUESTS: '7' });
    expect(Object.keys(cmd.env).sort()).toEqual(['LANG', 'PATH', 'PHP_FCGI_CHILDREN', 'PHP_FCGI_MAX_REQUESTS']);
  });
});

describe('php-cgi 8.2 spawned with a TCP listening socket as fd 0 serves the probe', () => {
  probeInteropTests('php-cgi', () => startPhpCgi({ listen: 'tcp' }));
});

describe('php-cgi 8.2 spawned with a Unix listening socket as fd 0 serves the probe', () => {
  probeInteropTests('php-cgi', () => startPhpCgi({ listen: 'unix', children: 0 }));
});
