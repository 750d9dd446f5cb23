import { describe, expect, it } from 'vitest';
import { phpFpmConfig, startPhpFpm } from './php-fpm.ts';
import { probeInteropTests } from './__fixtures__/probe-interop.ts';

describe('php-fpm 8.2 over TCP serves the probe', () => {
  probeInteropTests('php-fpm', () => startPhpFpm({ listen: 'tcp', maxChildren: 2 }));
});

describe('php-fpm 8.2 over a Unix socket serves the probe', () => {
  probeInteropTests('php-fpm', () => startPhpFpm({ listen: 'unix', maxChildren: 2 }));
});

describe('php-fpm config', () => {
  it('writes a static pool of its own, run as root, with the socket open to all', () => {
    const conf = phpFpmConfig('/tmp/run', '/tmp/run/fpm.sock', { maxChildren: 3, pool: { 'pm.max_requests': '10', 'php_admin_value[memory_limit]': '64M' } });
    expect(conf).toMatch(/^\[global\]\npid = \/tmp\/run\/php-fpm\.pid\nerror_log = \/tmp\/run\/php-fpm\.log\n/);
    for (const line of ['listen = /tmp/run/fpm.sock', 'listen.mode = 0666', 'user = root', 'pm = static', 'pm.max_children = 3', 'pm.max_requests = 10', 'php_admin_value[memory_limit] = 64M']) {
      expect(conf.split('\n')).toContain(line);
    }
  });

  it('quotes values with spaces and refuses quotes', () => {
    expect(phpFpmConfig('/d', '127.0.0.1:9', { pool: { 'php_value[include_path]': '.:/a b' } })).toContain('php_value[include_path] = ".:/a b"');
    expect(() => phpFpmConfig('/d', '127.0.0.1:9', { pool: { x: 'a"b' } })).toThrow(/quotes/);
  });
});
