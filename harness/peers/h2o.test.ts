import { describe, expect, it } from 'vitest';
import { h2oConfig, startH2o } from './h2o.ts';
import { webServerProbeTests } from './__fixtures__/probe-http.ts';

describe('h2o config', () => {
  it('keeps its files in the run folder and connects to the backend, without keep-alive by default', () => {
    const conf = h2oConfig('/tmp/run', 8081, { backend: 'tcp:127.0.0.1:9000', docroot: '/srv/www' });
    for (const line of ['user: "root"', 'pid-file: "/tmp/run/h2o.pid"', 'error-log: "/tmp/run/error.log"', '  port: 8081', 'fastcgi.document_root: "/srv/www"', 'fastcgi.timeout.keepalive: 0']) {
      expect(conf.split('\n')).toContain(line);
    }
    expect(conf).toContain('fastcgi.connect: { host: "127.0.0.1", port: 9000, type: tcp }');
  });

  it('reaches a Unix socket, keeps connections with keepConn, and sets params globally and per path', () => {
    const conf = h2oConfig('/tmp/run', 1, {
      backend: 'unix:/tmp/run/app.sock',
      keepConn: true,
      keepaliveMs: 500,
      params: { X_A: 'say "hi"' },
      routes: { '/status-404': { PROBE_ACTION: 'status' } },
    });
    expect(conf).toContain('fastcgi.connect: { port: "/tmp/run/app.sock", type: unix }');
    expect(conf).toContain('fastcgi.timeout.keepalive: 500');
    expect(conf).toContain('      "/status-404":\n        setenv: { X_A: "say \\"hi\\"", PROBE_ACTION: "status" }\n');
    expect(conf).toContain('      "/":\n        setenv: { X_A: "say \\"hi\\"" }\n');
  });

  it('sets fastcgi.timeout.io when asked, and leaves the default of h2o otherwise', () => {
    expect(h2oConfig('/tmp/run', 1, { backend: 'tcp:127.0.0.1:9000', ioTimeoutMs: 4000 }).split('\n')).toContain('fastcgi.timeout.io: 4000');
    expect(h2oConfig('/tmp/run', 1, { backend: 'tcp:127.0.0.1:9000' })).not.toContain('fastcgi.timeout.io');
    expect(() => h2oConfig('/d', 1, { backend: '127.0.0.1:9', ioTimeoutMs: 0 })).toThrow(/ioTimeoutMs/);
  });

  it('refuses what cannot be a param', () => {
    expect(() => h2oConfig('/d', 1, { backend: '127.0.0.1:9', params: { 'A: B': 'v' } })).toThrow(/identifier/);
    expect(() => h2oConfig('/d', 1, { backend: '127.0.0.1:9', params: { X: 'a\u0000' } })).toThrow(/control characters/);
  });
});

describe('h2o 2.2 (fastcgi handler) in front of the reference responder with the probe app', () => {
  webServerProbeTests('h2o', startH2o, { keepConn: true });
});
