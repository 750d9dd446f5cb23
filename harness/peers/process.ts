/**
 * What every real-peer launcher shares: a run folder per instance, a free loopback port, a child in its own
 * process group, a bounded capture of what it printed, a bounded wait until it accepts connections, and a stop
 * by group (TERM, then KILL after a deadline) that always removes the run folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectTo, formatAddress, type Address } from '../../reference/address.ts';
import { RawConnection } from '../../reference/client/raw-connection.ts';
import { encodeNameValuePairs } from '../../reference/codec/name-value.ts';
import { FCGI_GET_VALUES, FCGI_MAX_CONNS, FCGI_NULL_REQUEST_ID } from '../../spec/constants.ts';
import { HarnessError } from '../errors.ts';

/** Keeps the last `limit` bytes written to it, and counts what it dropped. */
export class BoundedOutput {
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #held = 0;
  #dropped = 0;

  constructor(limit = 64 * 1024) {
    this.#limit = limit;
  }

  push(chunk: Buffer | string): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.#chunks.push(bytes);
    this.#held += bytes.length;
    while (this.#held > this.#limit) {
      const first = this.#chunks[0]!;
      const excess = this.#held - this.#limit;
      if (first.length <= excess) {
        this.#chunks.shift();
        this.#held -= first.length;
        this.#dropped += first.length;
      } else {
        this.#chunks[0] = first.subarray(excess);
        this.#held -= excess;
        this.#dropped += excess;
      }
    }
  }

  text(): string {
    const body = Buffer.concat(this.#chunks).toString('utf8');
    return this.#dropped > 0 ? `[… ${this.#dropped} earlier bytes dropped …]\n${body}` : body;
  }
}

/** The last `limit` bytes of a file, or '' when it cannot be read. Never throws. */
export function readTail(path: string, limit = 16 * 1024): string {
  let fd: number | undefined;
  try {
    const size = statSync(path).size;
    const length = Math.min(size, limit);
    const buf = Buffer.alloc(length);
    fd = openSync(path, 'r');
    readSync(fd, buf, 0, length, size - length);
    return (size > limit ? `[… ${size - limit} earlier bytes dropped …]\n` : '') + buf.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A temporary folder that holds one peer instance's config, sockets, logs and pid file. */
export interface RunFolder {
  readonly path: string;
  /** Removes the folder and everything in it; safe to call twice. */
  remove(): void;
}

/** Creates a run folder under the system temp dir; mode 0755 so that workers running as another user can reach sockets in it. */
export function createRunFolder(peer: string): RunFolder {
  const path = mkdtempSync(join(tmpdir(), `fcgispec-${peer.replace(/[^A-Za-z0-9_.-]/g, '_')}-`));
  chmodSync(path, 0o755);
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A TCP port on `host` that was free a moment ago (the kernel picked it; another process could still take it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/**
 * Runs `attempt` with a free port, and again with another (up to `tries` times) when the port was taken
 * between our pick and the peer's bind: parallel test files pick ports at the same time.
 */
export async function withFreePort<T>(attempt: (port: number) => Promise<T>, tries = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt(await freePort());
    } catch (err) {
      if (i >= tries || !/Address already in use|EADDRINUSE/.test((err as Error).message)) throw err;
    }
  }
}

/** How to start one peer process. */
export interface LaunchSpec {
  /** Short name used in messages, e.g. `php-fpm`. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** The child's whole environment (nothing is inherited): peers must not see the test runner's variables. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** A listening server whose socket the child gets as fd 0 (spawn mode, §2.2). The caller closes its own copy. */
  readonly listenSocket?: Server;
  /** Where the peer accepts connections once it is ready; without it, ready means spawned. */
  readonly readyAt?: Address;
  /** Log files whose tails are added to `output()`. */
  readonly logFiles?: readonly string[];
  /** Bound on the wait for readiness, 10 s by default. */
  readonly startTimeoutMs?: number;
  /** Time between TERM and KILL when stopping, 5 s by default. */
  readonly stopGraceMs?: number;
}

/** A running peer process. `stop()` ends its whole process group and removes its run folder. */
export interface PeerProcess {
  readonly name: string;
  readonly pid: number;
  readonly runFolder: string;
  /** Whether the group leader has exited. */
  readonly exited: boolean;
  /** How the leader exited (`code 3`, `signal SIGTERM`), once it has. */
  readonly exitStatus: string | undefined;
  /** What the process printed (bounded) followed by the tails of its log files. */
  output(): string;
  /** TERM to the group, KILL after the grace period; idempotent; always removes the run folder. */
  stop(): Promise<void>;
}

// Groups still running, so that a dying test worker does not leave peers behind.
const live = new Map<number, RunFolder>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const [pid, folder] of live) {
      signalGroup(pid, 'SIGKILL');
      folder.remove();
    }
  });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone
  }
}

/**
 * Whether any process of group `pgid` still runs. Zombies do not count: orphaned workers are reaped by
 * init whenever it gets to it, and waiting for that would only slow every stop down.
 */
export function groupRunning(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return probeGroup(pgid); // no procfs: zombies count, which only makes stop wait longer
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses, so parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
  }
  return false;
}

function probeGroup(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(condition: () => boolean, timeoutMs: number, stepMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await sleep(stepMs);
  }
  return true;
}

/** Fd of a listening server's socket; Node has no public accessor, and `stdio` cannot take a `net.Server`. */
export function serverFd(server: Server): number {
  const fd = (server as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new HarnessError('E_SPAWN', 'the listening socket has no file descriptor (is it listening?)');
  return fd;
}

/**
 * Starts a peer in its own process group inside `folder` and waits until it is ready. On any failure the
 * group is killed, the folder removed, and a `HarnessError('E_SPAWN')` thrown with what the peer printed.
 * From success on, the returned process owns the folder.
 */
export async function launch(folder: RunFolder, spec: LaunchSpec): Promise<PeerProcess> {
  installExitHook();
  const captured = new BoundedOutput();
  let child: ChildProcess;
  try {
    child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd ?? folder.path,
      env: { ...spec.env },
      detached: true,
      stdio: [spec.listenSocket ? serverFd(spec.listenSocket) : 'ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    folder.remove();
    throw new HarnessError('E_SPAWN', `${spec.name}: cannot start ${spec.command}: ${(err as Error).message}`, { cause: err });
  }
  child.stdout?.on('data', (d: Buffer) => captured.push(d));
  child.stderr?.on('data', (d: Buffer) => captured.push(d));
  // A forgotten peer must not keep its parent alive; the exit hook kills it.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
  let exitedWith: string | undefined;
  let spawnError: Error | undefined;
  child.once('exit', (code, signal) => {
    exitedWith = signal ? `signal ${signal}` : `code ${code}`;
  });
  child.once('error', (err) => {
    spawnError = err;
    exitedWith ??= `error ${err.message}`;
  });
  const spawned = await new Promise<boolean>((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', () => resolve(false));
  });
  const pid = child.pid;
  if (!spawned || pid === undefined) {
    folder.remove();
    throw new HarnessError('E_SPAWN', `${spec.name}: cannot start ${spec.command}: ${spawnError?.message ?? 'no pid'}`, { cause: spawnError });
  }
  live.set(pid, folder);

  const output = (): string => {
    const parts = [captured.text()];
    for (const file of spec.logFiles ?? []) {
      const tail = readTail(file);
      if (tail) parts.push(`--- ${file} ---\n${tail}`);
    }
    return parts.join('\n').trim();
  };

  let stopping: Promise<void> | undefined;
  const grace = spec.stopGraceMs ?? 5_000;
  // Done when the leader has exited and no other member of its group is still running.
  const gone = (): boolean => exitedWith !== undefined && !groupRunning(pid);
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      try {
        if (!gone()) {
          signalGroup(pid, 'SIGTERM');
          if (!(await waitFor(gone, grace))) {
            signalGroup(pid, 'SIGKILL');
            await waitFor(gone, 2_000);
          }
        }
      } finally {
        live.delete(pid);
        folder.remove();
      }
    })());

  const instance: PeerProcess = {
    name: spec.name,
    pid,
    runFolder: folder.path,
    get exited() {
      return exitedWith !== undefined;
    },
    get exitStatus() {
      return exitedWith;
    },
    output,
    stop,
  };

  if (spec.readyAt) {
    const problem = await waitUntilAccepting(spec.readyAt, spec.startTimeoutMs ?? 10_000, () => exitedWith);
    if (problem) {
      const text = output();
      await stop();
      throw new HarnessError('E_SPAWN', `${spec.name} (${spec.command}) ${problem}${text ? `; it printed:\n${text}` : ''}`);
    }
  }
  return instance;
}

/** Polls `address` until a connection is accepted; returns why not, or undefined once it is. Bounded by `timeoutMs`. */
async function waitUntilAccepting(address: Address, timeoutMs: number, exitedWith: () => string | undefined): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const exit = exitedWith();
    if (exit !== undefined) return `exited (${exit}) before accepting on ${formatAddress(address)}`;
    const left = deadline - Date.now();
    if (left <= 0) return `did not accept on ${formatAddress(address)} within ${timeoutMs} ms (last: ${last})`;
    try {
      const socket = await connectTo(address, Math.min(left, 1_000));
      socket.destroy();
      return undefined;
    } catch (err) {
      last = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    }
    await sleep(Math.min(25, Math.max(0, deadline - Date.now())));
  }
}

/**
 * Waits until a FastCGI application at `address` answers an FCGI_GET_VALUES query with any record: for spawn
 * mode, where the socket accepts (into its backlog) before the application does. Returns why not, or
 * undefined once it answered. Bounded by `timeoutMs`; stops early when `exitedWith()` reports an exit.
 * @see §4.1
 */
export async function waitUntilAnswering(address: Address, timeoutMs: number, exitedWith: () => string | undefined): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const exit = exitedWith();
    if (exit !== undefined) return `exited (${exit}) before answering on ${formatAddress(address)}`;
    const left = deadline - Date.now();
    if (left <= 0) return `did not answer FCGI_GET_VALUES on ${formatAddress(address)} within ${timeoutMs} ms (last: ${last})`;
    let conn: RawConnection | undefined;
    try {
      conn = await RawConnection.connect(address, { timeoutMs: Math.min(left, 1_000) });
      await conn.sendRecord({ type: FCGI_GET_VALUES, requestId: FCGI_NULL_REQUEST_ID, content: encodeNameValuePairs({ [FCGI_MAX_CONNS]: '' }) });
      const event = await conn.next(Math.max(1, Math.min(deadline - Date.now(), 1_000)));
      if (event.kind === 'record') return undefined;
      last = event.kind === 'closed' ? `closed (${event.how})` : 'no answer';
    } catch (err) {
      last = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    } finally {
      conn?.destroy();
    }
    await sleep(Math.min(25, Math.max(0, deadline - Date.now())));
  }
}
