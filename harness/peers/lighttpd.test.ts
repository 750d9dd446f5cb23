import { describe, expect, it } from 'vitest';
import { lighttpdConfig, startLighttpd } from './lighttpd.ts';
import { webServerProbeTests } from './__fixtures__/probe-http.ts';

describe('lighttpd config', () => {
  it('keeps its files in the run folder and passes every request to the backend', () => {
    const conf = lighttpdConfig('/tmp/run', 8081, { backend: 'tcp:127.0.0.1:9000', docroot: '/srv/www' }).split('\n');
    for (const line of ['server.document-root = "/srv/www"', 'server.port = 8081', 'server.errorlog = "/tmp/run/error.log"', 'server.upload-dirs = ( "/tmp/run" )']) {
      expect(conf).toContain(line);
    }
    expect(conf).toContain('fastcgi.server = ( "/" => ( ( "host" => "127.0.0.1", "port" => 9000, "check-local" => "disable" ) ) )');
  });

  it('reaches a Unix socket and sets params globally and per path', () => {
    const conf = lighttpdConfig('/tmp/run', 1, {
      backend: 'unix:/tmp/run/app.sock',
      params: { X_A: 'say "hi"' },
      routes: { '/status.404': { PROBE_ACTION: 'status' } },
    });
    expect(conf).toContain('"socket" => "/tmp/run/app.sock"');
    expect(conf).toContain('setenv.add-environment = ( "X_A" => "say \\"hi\\"" )');
    expect(conf).toContain('$HTTP["url"] =~ "^/status[.]404(/|$)" {\n  setenv.add-environment += ( "PROBE_ACTION" => "status" )\n}');
  });

  it('sets the backend read and write timeouts on the host, whole seconds only', () => {
    const conf = lighttpdConfig('/tmp/run', 1, { backend: 'tcp:127.0.0.1:9000', readTimeoutS: 3, writeTimeoutS: 5 });
    expect(conf).toContain('fastcgi.server = ( "/" => ( ( "host" => "127.0.0.1", "port" => 9000, "check-local" => "disable", "read-timeout" => 3, "write-timeout" => 5 ) ) )');
    expect(() => lighttpdConfig('/d', 1, { backend: '127.0.0.1:9', readTimeoutS: 0 })).toThrow(/read/);
    expect(() => lighttpdConfig('/d', 1, { backend: '127.0.0.1:9', writeTimeoutS: 1.5 })).toThrow(/write/);
  });

  it('refuses what its config syntax cannot quote', () => {
    expect(() => lighttpdConfig('/d', 1, { backend: '127.0.0.1:9', params: { X: 'a\\b' } })).toThrow(/cannot hold/);
    expect(() => lighttpdConfig('/d', 1, { backend: '127.0.0.1:9', params: { X: 'a\nb' } })).toThrow(/control characters/);
    expect(() => lighttpdConfig('/d', 1, { backend: '127.0.0.1:9', routes: { '/a b': {} } })).toThrow(/route/);
  });
});

describe('lighttpd 1.4 (mod_fastcgi) in front of the reference responder with the probe app', () => {
  webServerProbeTests('lighttpd', startLighttpd, { keepConn: false });
});
