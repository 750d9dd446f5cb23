// The examples of the README's test-double section, run: every ```ts block of the document appears in this file verbatim
// (its imports merged at the top, `fcgispec/` read as the checkout's root), and every command of its ```sh
// block is run against the checkout's CLI with the exit code its comment states. The last describe checks
// both, so the document and the code cannot drift apart.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Client, ClientError } from '../../reference/client/index.ts';
import { createResponder, type Responder, type ResponderOptions } from '../../reference/responder/index.ts';
import { probeHandler } from '../../reference/probe/app.ts';

// ---- what the examples assume, outside the document ---------------------------------------------------------

// The application under test of the first example: the reference probe app (the document's default is php-fpm).
const probeApp = createResponder({ handler: probeHandler, webServerAddrs: null });
const savedApp = process.env['FCGI_APP'];
process.env['FCGI_APP'] = (await probeApp.listen('tcp:127.0.0.1:0')).text;
afterAll(async () => {
  if (savedApp === undefined) delete process.env['FCGI_APP'];
  else process.env['FCGI_APP'] = savedApp;
  await probeApp.close({ graceMs: 0 });
});

// The web-server code under test of the second example, a stand-in: it forwards a POST body to the FastCGI
// application over a kept connection and answers what a gateway would, 502 when the application fails.
const upstreams = new Map<string, Client>();
afterAll(() => {
  for (const c of upstreams.values()) c.destroy();
});
async function gateway(upstream: string, body: string): Promise<{ status: number; body: string }> {
  let client = upstreams.get(upstream);
  if (!client) upstreams.set(upstream, (client = new Client(upstream, { timeoutMs: 5000 })));
  try {
    const res = await client.request({ params: { REQUEST_METHOD: 'POST', CONTENT_LENGTH: String(Buffer.byteLength(body)) }, stdin: body });
    if (!res.cgi) return { status: 502, body: 'Bad Gateway' };
    return { status: res.cgi.status, body: Buffer.from(res.cgi.body).toString() };
  } catch {
    return { status: 502, body: 'Bad Gateway' };
  }
}

// ---- README test double: testing an application with the client -------------------------------------------------

// Where the application under test listens, e.g. unix:/run/php/php8.2-fpm.sock or tcp:127.0.0.1:9000.
const APP = process.env['FCGI_APP'] ?? 'unix:/run/php/php8.2-fpm.sock';

describe('my FastCGI application', () => {
  const client = new Client(APP, { timeoutMs: 5000 });
  afterAll(() => client.close());

  it('echoes a POST body', async () => {
    const res = await client.request({
      params: { SCRIPT_FILENAME: '/srv/probe.php', REQUEST_METHOD: 'POST', CONTENT_LENGTH: '5' },
      stdin: 'hello',
    });
    expect(res.protocolStatus).toBe(0); // FCGI_REQUEST_COMPLETE
    expect(res.cgi?.status).toBe(200);
    expect(Buffer.from(res.cgi!.body).toString()).toBe('hello');
  });

  it('ends an aborted request with FCGI_END_REQUEST', async () => {
    const params = { SCRIPT_FILENAME: '/srv/probe.php', PROBE_ACTION: 'sleep', PROBE_MS: '10000' };
    const error = await client.request({ params, signal: AbortSignal.timeout(100) }).catch((e: unknown) => e);
    expect(ClientError.is(error, 'E_ABORTED')).toBe(true);
    expect((error as ClientError).end?.protocolStatus).toBe(0); // the application answered FCGI_ABORT_REQUEST (§5.4)
  });
});

// ---- README test double: testing web-server code with the responder ---------------------------------------------

describe('my gateway in front of a FastCGI application', () => {
  const apps: Responder[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close({ graceMs: 0 });
  });
  async function backend(options: Omit<ResponderOptions, 'handler'> = {}): Promise<string> {
    const app = createResponder({ handler: probeHandler, ...options });
    apps.push(app);
    return (await app.listen('tcp:127.0.0.1:0')).text;
  }

  it('passes the answer through', async () => {
    expect(await gateway(await backend(), 'hello')).toEqual({ status: 200, body: 'hello' });
  });

  it('answers 502 when the application closes in the middle of a record, then recovers', async () => {
    const upstream = await backend({ faults: [{ name: 'close-mid-record', every: 2 }] });
    expect(await gateway(upstream, 'one')).toEqual({ status: 200, body: 'one' });
    expect((await gateway(upstream, 'two')).status).toBe(502);
    expect(await gateway(upstream, 'three')).toEqual({ status: 200, body: 'three' });
  });

  it('passes a handler’s own status and headers through', async () => {
    const app = createResponder({
      handler: async (req, res) => {
        await res.write(`Status: 201 Created\r\nContent-Type: text/plain\r\n\r\n${req.params.get('REQUEST_METHOD')}`);
        res.end(0); // appStatus; sends FCGI_END_REQUEST
      },
    });
    apps.push(app);
    expect(await gateway((await app.listen('tcp:127.0.0.1:0')).text, '')).toEqual({ status: 201, body: 'POST' });
  });
});

// ---- the document itself ------------------------------------------------------------------------------------

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
// The section of the README that shows the reference peer as a test double, up to the next `## ` heading.
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const sectionStart = readme.indexOf('## Using the reference peer as a test double');
const doc = sectionStart < 0 ? '' : readme.slice(sectionStart, readme.indexOf('\n## ', sectionStart + 3) >>> 0);
const self = readFileSync(fileURLToPath(import.meta.url), 'utf8');

function blocks(lang: string): string[] {
  return [...doc.matchAll(new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```$', 'gm'))].map((m) => m[1]!);
}

/** `import { a, type B } from 'x';` lines as module → names. */
function imports(source: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const m of source.matchAll(/^import \{ ([^}]+) \} from '([^']+)';$/gm)) {
    const from = m[2]!.replace(/^fcgispec\//, '../../');
    const names = out.get(from) ?? new Set<string>();
    for (const n of m[1]!.split(',')) names.add(n.trim().replace(/^type /, ''));
    out.set(from, names);
  }
  return out;
}

describe('README: using the reference peer as a test double', () => {
  it('has the section', () => expect(doc.length).toBeGreaterThan(1000));

  it('shows TypeScript that runs in this file, verbatim', () => {
    const code = blocks('ts');
    expect(code.length).toBeGreaterThanOrEqual(2);
    const ours = imports(self);
    for (const block of code) {
      for (const [from, names] of imports(block)) {
        expect(from.startsWith('../../') || !from.includes('/'), `import from ${from}: fcgispec/… or a package`).toBe(true);
        for (const name of names) expect(ours.get(from)?.has(name), `${name} from ${from}`).toBe(true);
      }
      const body = block.replace(/^import .*\n/gm, '').trim();
      expect(self.includes(body), `a code block of the document is not in ${fileURLToPath(import.meta.url)}:\n${body.slice(0, 200)}`).toBe(true);
    }
  });

  it('links to files that exist', () => {
    for (const m of doc.matchAll(/\]\(([^)#:]+)\)/g)) expect(existsSync(join(root, m[1]!)), m[1]).toBe(true);
  });

  it('shows commands that exit as their comments say', async () => {
    const [sh] = blocks('sh');
    expect(sh).toBeDefined();
    const dir = await mkdtemp(join(tmpdir(), 'fcgispec-docs-'));
    const cli = join(root, 'harness/bin/fcgispec.js');
    const argv = (line: string): string[] => {
      const words = line.replace(/\s+#.*$/, '').replace(/&$/, '').trim().split(/\s+/);
      expect(words.slice(0, 2)).toEqual(['npx', 'fcgispec']);
      return words.slice(2).map((w) => w.replaceAll('/tmp/fcgispec-app.sock', join(dir, 'app.sock')));
    };
    const servers: ReturnType<typeof spawn>[] = [];
    try {
      let requests = 0;
      for (const line of sh!.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'))) {
        if (line.trim().endsWith('&')) {
          const server = spawn(process.execPath, [cli, ...argv(line)], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
          servers.push(server);
          await new Promise<void>((resolve, reject) => {
            let text = '';
            server.stderr!.on('data', (c: Buffer) => {
              text += c.toString();
              if (text.includes('listening on')) resolve();
            });
            server.once('exit', (code) => reject(new Error(`${line} exited with ${String(code)}: ${text}`)));
          });
          continue;
        }
        const expected = Number(/# exits (\d)/.exec(line)?.[1]);
        expect(Number.isInteger(expected), `${line}: say "# exits N"`).toBe(true);
        const code = await new Promise<number>((resolve) => {
          execFile(process.execPath, [cli, ...argv(line)], { cwd: root, timeout: 20_000 }, (err) => resolve(err ? Number((err as { code?: unknown }).code ?? -1) : 0));
        });
        expect(code, line).toBe(expected);
        requests++;
      }
      expect(requests).toBeGreaterThan(0);
    } finally {
      for (const s of servers) {
        const exited = new Promise((resolve) => s.once('exit', resolve));
        s.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
