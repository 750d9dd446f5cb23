import { describe, expect, it } from 'vitest';
import { caddyfile, startCaddy } from './caddy.ts';
import { webServerProbeTests } from './__fixtures__/probe-http.ts';

describe('Caddyfile', () => {
  it('turns off the admin API and automatic HTTPS and proxies to the backend over the fastcgi transport', () => {
    const conf = caddyfile('/tmp/run', 8081, { backend: 'tcp:127.0.0.1:9000', docroot: '/srv/www', split: '.php' });
    expect(conf).toMatch(/^\{\n {2}admin off\n {2}auto_https off\n/);
    expect(conf).toContain('storage file_system "/tmp/run/data"');
    expect(conf).toContain('http://127.0.0.1:8081 {');
    expect(conf).toContain('reverse_proxy 127.0.0.1:9000 {\n      transport fastcgi {\n        root "/srv/www"\n        split .php\n');
  });

  it('reaches a Unix socket and sets params globally and per path', () => {
    const conf = caddyfile('/tmp/run', 1, { backend: 'unix:/tmp/run/app.sock', params: { X_A: 'say "hi"' }, routes: { '/status-404': { PROBE_ACTION: 'status' } } });
    expect(conf).toContain('reverse_proxy unix//tmp/run/app.sock {');
    expect(conf).toContain('@route0 path /status-404 /status-404/*');
    expect(conf).toMatch(/handle @route0 \{\n[^]*env X_A "say \\"hi\\""\n[^]*env PROBE_ACTION "status"\n/);
  });

  it('sets read_timeout and write_timeout of the fastcgi transport, in every handle', () => {
    const conf = caddyfile('/tmp/run', 1, { backend: 'tcp:127.0.0.1:9000', readTimeoutMs: 7000, writeTimeoutMs: 2500, routes: { '/a': { X: 'y' } } });
    expect(conf.match(/^ +read_timeout 7000ms$/gm)).toHaveLength(2);
    expect(conf.match(/^ +write_timeout 2500ms$/gm)).toHaveLength(2);
    expect(caddyfile('/tmp/run', 1, { backend: 'tcp:127.0.0.1:9000' })).not.toMatch(/_timeout/);
    expect(() => caddyfile('/d', 1, { backend: '127.0.0.1:9', readTimeoutMs: -1 })).toThrow(/readTimeoutMs/);
  });

  it('refuses what its config syntax cannot quote', () => {
    expect(() => caddyfile('/d', 1, { backend: '127.0.0.1:9', params: { X: '{http.request.uri}' } })).toThrow(/cannot hold/);
    expect(() => caddyfile('/d', 1, { backend: '127.0.0.1:9', params: { X: 'a\\b' } })).toThrow(/cannot hold/);
    expect(() => caddyfile('/d', 1, { backend: '127.0.0.1:9', split: '.php }' })).toThrow(/split/);
  });
});

describe('Caddy 2.6 (reverse_proxy, fastcgi transport) in front of the reference responder with the probe app', () => {
  webServerProbeTests('caddy', startCaddy, { keepConn: false });
});
