import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../reference/client/index.ts';
import { FCGI_REQUEST_COMPLETE } from '../../spec/constants.ts';
import { requirePeer } from '../peers/availability.ts';
import { peers } from '../peers/registry.ts';
import { listPeers, readStates, runPeersList, runPeersStart, runPeersStop, startPeer } from './peers.ts';

const dirs: string[] = [];
function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fcgispec-peers-test-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('peers list', () => {
  it('lists every registry peer with its kind, and an install hint for each one missing', () => {
    const list = listPeers();
    expect(list.map((p) => p.name)).toEqual(Object.keys(peers));
    for (const p of list) {
      expect(p.kind).toBe(peers[p.name].kind);
      if (!p.available) expect(p.hint).toMatch(new RegExp(`^missing ${p.name}: apt-get install -y `));
    }
    let text = '';
    expect(runPeersList({}, { stdout: (t) => (text += t) })).toBe(0);
    expect(text.split('\n').filter((l) => /^\S/.test(l) && !/peers? (installed|missing)/.test(l) && !/of \d+ missing/.test(l))).toHaveLength(list.length);
    let json = '';
    runPeersList({ json: true }, { stdout: (t) => (json += t) });
    expect((JSON.parse(json) as unknown[]).length).toBe(list.length);
  });
});

describe('peers start', () => {
  it('refuses unknown peers and options that do not fit the kind of peer', async () => {
    await expect(startPeer({ name: 'no-such-peer' })).rejects.toThrow(/unknown peer "no-such-peer"/);
    await expect(startPeer({ name: 'php-fpm', backend: 'tcp:127.0.0.1:1' })).rejects.toThrow(/--backend is for web servers/);
    await expect(startPeer({ name: 'nginx', listen: 'unix' })).rejects.toThrow(/--listen is for applications/);
    await expect(startPeer({ name: 'caddy', keepConn: true })).rejects.toThrow(/cannot keep backend connections/);
  });

  it('starts an application, prints its address and params, serves a request, and stops when told', async (ctx) => {
    requirePeer('php-fpm', ctx);
    const dir = stateDir();
    let text = '';
    let release!: () => void;
    const until = new Promise<void>((r) => (release = r));
    const running = runPeersStart({ name: 'php-fpm', listen: 'unix' }, { stdout: (t) => (text += t), stateDir: dir }, until);
    for (let i = 0; i < 200 && !text.includes('running in the foreground'); i++) await new Promise((r) => setTimeout(r, 50));
    const address = /listening on (unix:\S+)/.exec(text)?.[1];
    expect(address, text).toBeDefined();
    expect(text).toMatch(/param SCRIPT_FILENAME=\S+probe\.php/);
    expect(readStates(dir)).toEqual([expect.objectContaining({ name: 'php-fpm', pid: process.pid, address })]);
    const params = [...text.matchAll(/param (\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!] as const);
    const client = new Client(address!, { timeoutMs: 10_000 });
    try {
      const res = await client.request({ params: [...params, ['REQUEST_METHOD', 'GET'], ['PROBE_ACTION', 'status'], ['PROBE_STATUS', '204']] });
      expect(res.protocolStatus).toBe(FCGI_REQUEST_COMPLETE);
      expect(res.stdout.toString('latin1')).toMatch(/^Status: 204/m);
    } finally {
      await client.close();
    }
    release();
    expect(await running).toBe(0);
    expect(text).toMatch(/php-fpm: stopped\n$/);
    expect(readdirSync(dir)).toEqual([]);
  }, 30_000);

  it('puts a web server in front of the reference responder when no backend is given', async (ctx) => {
    requirePeer('nginx', ctx);
    const started = await startPeer({ name: 'nginx' });
    try {
      expect(started.lines[0]).toMatch(/^nginx: serving http:\/\/127\.0\.0\.1:\d+\/ .*backend unix:.*the reference responder/);
      const url = /serving (\S+)/.exec(started.lines[0]!)![1]!;
      const res = await fetch(`${url}probe`, { method: 'POST', body: 'hello through nginx' });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('hello through nginx');
    } finally {
      await started.stop();
    }
  }, 30_000);
});

describe('peers stop', () => {
  it('drops state files of processes that are gone, and says when nothing runs', async () => {
    const dir = stateDir();
    writeFileSync(join(dir, '999999999.json'), JSON.stringify({ name: 'php-fpm', pid: 999_999_999, peerPid: 999_999_998 }));
    writeFileSync(join(dir, '12.json'), 'not json');
    let text = '';
    expect(await runPeersStop({}, { stdout: (t) => (text += t), stateDir: dir })).toBe(0);
    expect(text).toBe('no running peer started by fcgispec peers start\n');
    expect(readdirSync(dir)).toEqual([]);
    await expect(runPeersStop({ name: 'nope' }, { stdout: () => {}, stateDir: dir })).rejects.toThrow(/unknown peer/);
  });

  it('stops a `peers start` running in another process, which stops its peer', async (ctx) => {
    requirePeer('go-fcgi', ctx);
    const dir = stateDir();
    const fixture = fileURLToPath(new URL('../interop/__fixtures__/peers-start.ts', import.meta.url));
    const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
    const child = spawn(tsx, [fixture, 'peers', 'start', 'go-fcgi', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString()));
    child.stderr.on('data', (c: Buffer) => (text += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    try {
      for (let i = 0; i < 300 && !text.includes('running in the foreground'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(text).toMatch(/go-fcgi: listening on tcp:127\.0\.0\.1:\d+/);
      const [state] = readStates(dir);
      expect(state?.name).toBe('go-fcgi');
      let out = '';
      expect(await runPeersStop({ name: 'go-fcgi' }, { stdout: (t) => (out += t), stateDir: dir })).toBe(0);
      expect(out).toBe(`stopped go-fcgi (pid ${state!.pid})\n`);
      expect(await exited).toBe(0);
      expect(text).toMatch(/go-fcgi: stopped\n$/);
      // The peer's process group went with it.
      expect(() => process.kill(-state!.peerPid, 0)).toThrow();
    } finally {
      child.kill('SIGKILL');
    }
  }, 40_000);
});
