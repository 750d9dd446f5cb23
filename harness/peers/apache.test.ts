import { describe, expect, it } from 'vitest';
import { apacheConfig, startApache } from './apache.ts';
import { webServerProbeTests } from './__fixtures__/probe-http.ts';

describe('Apache config', () => {
  it('keeps its files in the run folder and proxies to the backend with the GENERIC backend type', () => {
    const conf = apacheConfig('/tmp/run', 8081, { backend: 'tcp:127.0.0.1:9000', docroot: '/srv/www' }).split('\n');
    for (const line of ['ServerRoot "/tmp/run"', 'PidFile "/tmp/run/apache2.pid"', 'ErrorLog "/tmp/run/error.log"', 'Listen 127.0.0.1:8081', 'User www-data', 'ProxyFCGIBackendType GENERIC']) {
      expect(conf).toContain(line);
    }
    expect(conf).toContain('ProxyPass "/" "fcgi://127.0.0.1:9000/srv/www/" enablereuse=off');
  });

  it('reaches a Unix socket, reuses connections with keepConn, and sets params globally and per path', () => {
    const conf = apacheConfig('/tmp/run', 1, {
      backend: 'unix:/tmp/run/app.sock',
      docroot: '/srv',
      keepConn: true,
      params: { X_A: 'say "hi"' },
      routes: { '/status-404': { PROBE_ACTION: 'status' } },
    });
    expect(conf).toContain('ProxyPass "/" "unix:/tmp/run/app.sock|fcgi://localhost/srv/" enablereuse=on');
    expect(conf).toContain('SetEnv X_A "say \\"hi\\""');
    expect(conf).toContain('<Location "/status-404">\n  SetEnv PROBE_ACTION "status"\n</Location>');
  });

  it('refuses what its config syntax cannot quote', () => {
    expect(() => apacheConfig('/d', 1, { backend: '127.0.0.1:9', params: { X: 'a\\b' } })).toThrow(/cannot hold/);
    expect(() => apacheConfig('/d', 1, { backend: '127.0.0.1:9', params: { X: '${HOME}' } })).toThrow(/cannot hold/);
    expect(() => apacheConfig('/d', 1, { backend: '127.0.0.1:9', params: { 'X-Y': 'v' } })).toThrow(/identifier/);
    expect(() => apacheConfig('/d', 1, { backend: 'fd:0' })).toThrow(/cannot connect/);
  });
});

describe('Apache 2.4 (mod_proxy_fcgi) in front of the reference responder with the probe app', () => {
  webServerProbeTests('apache', startApache, { keepConn: true });
});
