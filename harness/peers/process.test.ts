import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HarnessError } from '../errors.ts';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { encodeRecord } from '../../reference/codec/record.ts';
import { FCGI_GET_VALUES_RESULT } from '../../spec/constants.ts';
import { BoundedOutput, createRunFolder, freePort, groupRunning, launch, readTail, waitUntilAnswering, withFreePort, type PeerProcess } from './process.ts';

const started: PeerProcess[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()));
});

const node = process.execPath;

// Waits (bounded) until the shell script in the run folder has touched every named file.
async function untilTouched(folder: string, names: readonly string[]): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!names.every((n) => existsSync(join(folder, n)))) {
    if (Date.now() > deadline) throw new Error(`${names.join(', ')} not created in ${folder}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const sh = '/bin/sh';

describe('BoundedOutput', () => {
  it('keeps the last bytes and says how many it dropped', () => {
    const out = new BoundedOutput(10);
    out.push('0123456');
    out.push(Buffer.from('789abcdef'));
    expect(out.text()).toBe('[… 6 earlier bytes dropped …]\n6789abcdef');
  });

  it('keeps everything under the limit', () => {
    const out = new BoundedOutput(10);
    out.push('abc');
    expect(out.text()).toBe('abc');
  });
});

describe('readTail', () => {
  it('returns the end of a file and nothing for a missing one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fcgispec-tail-'));
    try {
      writeFileSync(join(dir, 'log'), 'first line\nsecond line\n');
      expect(readTail(join(dir, 'log'), 12)).toBe('[… 11 earlier bytes dropped …]\nsecond line\n');
      expect(readTail(join(dir, 'missing'))).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('launch', () => {
  it('waits until the peer accepts, then stop ends it and removes its run folder', async () => {
    const port = await freePort();
    const folder = createRunFolder('node-listener');
    const script = `require('node:net').createServer((s) => s.end()).listen(${port}, '127.0.0.1', () => console.error('listening'))`;
    const proc = await launch(folder, {
      name: 'node-listener',
      command: node,
      args: ['-e', script],
      env: {},
      readyAt: { kind: 'tcp', host: '127.0.0.1', port },
    });
    started.push(proc);
    expect(existsSync(folder.path)).toBe(true);
    expect(groupRunning(proc.pid)).toBe(true);
    await proc.stop();
    expect(groupRunning(proc.pid)).toBe(false);
    expect(proc.exited).toBe(true);
    expect(existsSync(folder.path)).toBe(false);
    expect(proc.output()).toContain('listening');
  });

  it('fails with what the peer printed when it exits before accepting, and cleans up', async () => {
    const folder = createRunFolder('early-exit');
    const failure = launch(folder, {
      name: 'early-exit',
      command: sh,
      args: ['-c', 'echo "bad config line 3" >&2; exit 3'],
      env: {},
      readyAt: { kind: 'tcp', host: '127.0.0.1', port: await freePort() },
    });
    await expect(failure).rejects.toThrow(HarnessError);
    await expect(failure).rejects.toThrow(/exited \(code 3\)[\s\S]*bad config line 3/);
    expect(existsSync(folder.path)).toBe(false);
  });

  it('gives up after the start timeout when the peer never listens', async () => {
    const folder = createRunFolder('never-listens');
    const failure = launch(folder, {
      name: 'never-listens',
      command: sh,
      args: ['-c', 'exec sleep 60'],
      env: {},
      readyAt: { kind: 'tcp', host: '127.0.0.1', port: await freePort() },
      startTimeoutMs: 200,
    });
    await expect(failure).rejects.toThrow(/did not accept on tcp:127\.0\.0\.1:\d+ within 200 ms/);
    expect(existsSync(folder.path)).toBe(false);
  });

  it('fails cleanly when the command does not exist', async () => {
    const folder = createRunFolder('missing');
    await expect(launch(folder, { name: 'missing', command: '/nonexistent/fcgispec-peer', args: [], env: {} })).rejects.toThrow(/cannot start/);
    expect(existsSync(folder.path)).toBe(false);
  });

  it('kills the whole group, workers that ignore TERM included, after the grace period', async () => {
    const folder = createRunFolder('stubborn');
    // The ignored TERM is inherited by the background worker, as by a forked FastCGI child.
    const proc = await launch(folder, {
      name: 'stubborn',
      command: sh,
      args: ['-c', 'trap "" TERM; sleep 60 & sleep 60 & touch ready; wait'],
      env: { PATH: '/usr/bin:/bin' },
      stopGraceMs: 200,
    });
    started.push(proc);
    await untilTouched(folder.path, ['ready']);
    expect(groupRunning(proc.pid)).toBe(true);
    await proc.stop();
    expect(groupRunning(proc.pid)).toBe(false);
    expect(existsSync(folder.path)).toBe(false);
  });

  it('stops workers left behind when the leader exits on TERM', async () => {
    const folder = createRunFolder('orphans');
    const proc = await launch(folder, {
      name: 'orphans',
      command: sh,
      // The leader exits on TERM at once; its worker ignores TERM and would outlive it.
      args: ['-c', '(trap "" TERM; touch worker; exec sleep 60) & trap "exit 0" TERM; touch leader; while :; do sleep 0.05; done'],
      env: { PATH: '/usr/bin:/bin' },
      stopGraceMs: 300,
    });
    started.push(proc);
    await untilTouched(folder.path, ['worker', 'leader']);
    await proc.stop();
    expect(proc.exited).toBe(true);
    expect(groupRunning(proc.pid)).toBe(false);
  });
});

describe('freePort', () => {
  it('returns a port that can be bound on 127.0.0.1', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});

describe('waitUntilAnswering', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((srv) => new Promise((r) => srv.close(r))));
  });
  async function serve(onData: (socket: Socket) => void): Promise<number> {
    const server = createServer((socket) => {
      socket.on('error', () => socket.destroy());
      socket.once('data', () => onData(socket));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  it('is satisfied by an FCGI_GET_VALUES_RESULT', async () => {
    const port = await serve((s) => s.end(encodeRecord({ type: FCGI_GET_VALUES_RESULT, requestId: 0 })));
    expect(await waitUntilAnswering({ kind: 'tcp', host: '127.0.0.1', port }, 2_000, () => undefined)).toBeUndefined();
  });

  it('reports a peer that accepts and closes without answering, within the bound', async () => {
    const port = await serve((s) => s.destroy());
    expect(await waitUntilAnswering({ kind: 'tcp', host: '127.0.0.1', port }, 2_000, () => undefined)).toMatch(/did not answer FCGI_GET_VALUES .* within 2000 ms \(last: (closed|no answer)/);
  });

  it('stops at once when the process has exited', async () => {
    const port = await freePort();
    expect(await waitUntilAnswering({ kind: 'tcp', host: '127.0.0.1', port }, 5_000, () => 'code 255')).toMatch(/^exited \(code 255\)/);
  });
});

describe('withFreePort', () => {
  it('tries another port when the first was taken meanwhile', async () => {
    const ports: number[] = [];
    const result = await withFreePort(async (port) => {
      ports.push(port);
      if (ports.length === 1) throw new Error(`bind() to 127.0.0.1:${port} failed (98: Address already in use)`);
      return 'bound';
    });
    expect(result).toBe('bound');
    expect(ports).toHaveLength(2);
  });

  it('does not retry other failures, and gives up after the tries', async () => {
    let calls = 0;
    await expect(withFreePort(async () => { calls++; throw new Error('bad config'); })).rejects.toThrow('bad config');
    expect(calls).toBe(1);
    await expect(withFreePort(async () => { calls++; throw new Error('EADDRINUSE'); }, 2)).rejects.toThrow('EADDRINUSE');
    expect(calls).toBe(3);
  });
});
