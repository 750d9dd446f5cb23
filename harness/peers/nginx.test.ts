import { describe, expect, it } from 'vitest';
import { FCGI_KEEP_CONN } from '../../spec/constants.ts';
import { requirePeer } from './availability.ts';
import { nginxConfig, startNginx } from './nginx.ts';
import { createRunFolder } from './process.ts';
import { expectedProbeResponse, phpCapabilities, referenceCapabilities, type ProbeCapabilities } from '../../reference/probe/model.ts';
import { patternBytes } from '../../suites/kit.ts';
import { startServe } from '../commands/serve.ts';
import { startPhpFpm } from './php-fpm.ts';
import { probeScript } from './peer.ts';
import { startTinyResponder, type TinyRequest } from './__fixtures__/tiny-responder.ts';

// A CGI response that shows what the backend received: the body echoes STDIN, headers echo params.
function echo(request: TinyRequest): Uint8Array {
  const status = request.params.get('QUERY_STRING') === 'status=404' ? 'Status: 404 Not Found\r\n' : '';
  const head = `${status}Content-Type: application/octet-stream\r\nX-Method: ${request.params.get('REQUEST_METHOD') ?? ''}\r\nX-Script: ${request.params.get('SCRIPT_FILENAME') ?? ''}\r\n\r\n`;
  const out = new Uint8Array(head.length + request.stdin.length);
  out.set(Buffer.from(head, 'latin1'), 0);
  out.set(request.stdin, head.length);
  return out;
}

async function withBackendAndNginx(
  options: { unix?: boolean; keepConn?: boolean; scriptFilename?: string },
  body: (url: string, backend: Awaited<ReturnType<typeof startTinyResponder>>) => Promise<void>,
): Promise<void> {
  const folder = createRunFolder('tiny-responder');
  const backend = await startTinyResponder(echo, options.unix ? `${folder.path}/tiny.sock` : undefined);
  try {
    const nginx = await startNginx({
      backend: backend.address,
      ...(options.keepConn === undefined ? {} : { keepConn: options.keepConn }),
      ...(options.scriptFilename === undefined ? {} : { scriptFilename: options.scriptFilename }),
    });
    try {
      await body(nginx.url, backend);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nnginx printed:\n${nginx.output()}`, { cause: err });
    } finally {
      await nginx.stop();
    }
  } finally {
    await backend.close();
    folder.remove();
  }
}

describe('nginx config', () => {
  it('keeps every path nginx writes inside the run folder and passes the backend', () => {
    const conf = nginxConfig('/tmp/run', 8081, { backend: 'unix:/tmp/run/app.sock', keepConn: true, keepalive: 2 });
    for (const temp of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) expect(conf).toContain(`${temp}_temp_path /tmp/run/${temp}_temp;`);
    expect(conf).toContain('server unix:/tmp/run/app.sock;');
    expect(conf).toContain('keepalive 2;');
    expect(conf).toContain('fastcgi_keep_conn on;');
    expect(conf).toContain('listen 127.0.0.1:8081;');
    expect(conf).toMatch(/^daemon off;\n/);
  });

  it('leaves keep-conn off unless asked', () => {
    const conf = nginxConfig('/tmp/run', 8081, { backend: '127.0.0.1:9000' });
    expect(conf).toContain('server 127.0.0.1:9000;');
    expect(conf).not.toContain('keepalive');
    expect(conf).not.toContain('fastcgi_keep_conn');
  });

  it('quotes param values and refuses control characters', () => {
    const conf = nginxConfig('/tmp/run', 1, { backend: '127.0.0.1:9', params: { X_A: 'say "hi" \\o/' } });
    expect(conf).toContain('fastcgi_param X_A "say \\"hi\\" \\\\o/";');
    expect(() => nginxConfig('/tmp/run', 1, { backend: '127.0.0.1:9', params: { X_B: 'a\nb' } })).toThrow(/control characters/);
  });
});

describe('nginx in front of a FastCGI backend', () => {
  it('returns the backend response over HTTP (TCP backend)', async (ctx) => {
    requirePeer('nginx', ctx);
    await withBackendAndNginx({ scriptFilename: '/srv/app.php' }, async (url, backend) => {
      const sent = Buffer.from('hello from the HTTP client \u0000\u00ff');
      const res = await fetch(`${url}echo`, { method: 'POST', body: sent });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-method')).toBe('POST');
      expect(res.headers.get('x-script')).toBe('/srv/app.php');
      expect(Buffer.from(await res.arrayBuffer())).toEqual(sent);
      expect(backend.requests).toHaveLength(1);
      expect(backend.requests[0]!.params.get('CONTENT_LENGTH')).toBe(String(sent.length));
      expect(backend.requests[0]!.flags & FCGI_KEEP_CONN).toBe(0);
    });
  });

  it('maps a CGI Status: header to the HTTP status (Unix socket backend)', async (ctx) => {
    requirePeer('nginx', ctx);
    await withBackendAndNginx({ unix: true }, async (url, backend) => {
      const res = await fetch(`${url}missing?status=404`);
      expect(res.status).toBe(404);
      expect(res.headers.get('x-method')).toBe('GET');
      await res.arrayBuffer();
      expect(backend.requests[0]!.params.get('SCRIPT_FILENAME')).toMatch(/\/probe-apps\/missing$/);
    });
  });

  it('sets FCGI_KEEP_CONN and reuses the connection with keepConn', async (ctx) => {
    requirePeer('nginx', ctx);
    await withBackendAndNginx({ keepConn: true }, async (url, backend) => {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${url}n${i}`, { method: 'POST', body: `request ${i}` });
        expect(await res.text()).toBe(`request ${i}`);
      }
      expect(backend.requests.map((r) => r.flags & FCGI_KEEP_CONN)).toEqual([FCGI_KEEP_CONN, FCGI_KEEP_CONN, FCGI_KEEP_CONN]);
      expect(backend.connections).toBe(1);
    });
  });
});

// nginx passes the probe's control params from the query string: ?action=…&status=…
const probeParamsFromQuery = { PROBE_ACTION: '$arg_action', PROBE_STATUS: '$arg_status' };

/** Asks the probe behind nginx to echo a body and to answer 404, and checks both against the contract. */
async function checkProbeOverHttp(url: string, capabilities: ProbeCapabilities, output: () => string): Promise<void> {
  const body = patternBytes(100_000, 11);
  const echoExpected = expectedProbeResponse('responder', [['PROBE_ACTION', 'echo-stdin']], body, undefined, capabilities);
  const echoed = await fetch(`${url}probe?action=echo-stdin`, { method: 'POST', body });
  expect(echoed.status, output()).toBe(echoExpected.status);
  expect(Buffer.from(await echoed.arrayBuffer()).equals(Buffer.from(echoExpected.body)), 'echoed body differs from the body sent').toBe(true);

  const notFound = expectedProbeResponse('responder', [['PROBE_ACTION', 'status'], ['PROBE_STATUS', '404']], undefined, undefined, capabilities);
  const missing = await fetch(`${url}probe?action=status&status=404`);
  expect(missing.status, output()).toBe(notFound.status);
  expect(Buffer.from(await missing.arrayBuffer()).equals(Buffer.from(notFound.body))).toBe(true);
}

describe('nginx in front of the reference responder with the probe app (startServe)', () => {
  it.for([
    ['TCP', false],
    ['a Unix socket, keep-conn', true],
  ] as const)('returns the probe response over HTTP (%s)', async ([, unixAndKeepConn], ctx) => {
    requirePeer('nginx', ctx);
    const folder = createRunFolder('serve');
    const serve = await startServe({ listen: unixAndKeepConn ? `unix:${folder.path}/serve.sock` : 'tcp:127.0.0.1:0', log: false });
    try {
      const nginx = await startNginx({ backend: serve.address, keepConn: unixAndKeepConn, params: probeParamsFromQuery });
      try {
        await checkProbeOverHttp(nginx.url, referenceCapabilities, nginx.output);
      } finally {
        await nginx.stop();
      }
    } finally {
      await serve.close(0);
      folder.remove();
    }
  });
});

describe('nginx in front of php-fpm (two real peers)', () => {
  it('returns the PHP probe response over HTTP', async (ctx) => {
    requirePeer('nginx', ctx);
    requirePeer('php-fpm', ctx);
    const fpm = await startPhpFpm({ listen: 'unix', maxChildren: 2 });
    try {
      const nginx = await startNginx({ backend: fpm.address, keepConn: true, scriptFilename: probeScript, params: probeParamsFromQuery });
      try {
        await checkProbeOverHttp(nginx.url, phpCapabilities, () => `${nginx.output()}\n${fpm.output()}`);
      } finally {
        await nginx.stop();
      }
    } finally {
      await fpm.stop();
    }
  });
});
