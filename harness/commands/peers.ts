/**
 * `fcgispec peers`: the real FastCGI implementations the interop run uses, by hand.
 * - `peers list`: each peer, whether it is installed here, and the command that installs it when not.
 * - `peers start NAME`: starts it in the foreground and prints where it listens (and the params its script
 *   needs) until Ctrl-C or `peers stop`; a web server is put in front of `--backend`, or of the reference
 *   responder with the probe app started in this process.
 * - `peers stop [NAME]`: stops the `peers start` processes of this machine (all, or those running NAME).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { HarnessError, exitCodes, usageError } from '../errors.ts';
import { peerAvailable } from '../peers/availability.ts';
import { createRunFolder } from '../peers/process.ts';
import { peers, isPeerName, type PeerName } from '../peers/registry.ts';
import type { RunningApplication, RunningPeer, RunningWebServer } from '../peers/peer.ts';
import { startServe, type ServeHandle } from './serve.ts';

/** Where the command writes; tests pass their own. */
export interface PeersIo {
  readonly stdout: (text: string) => void;
  /** Folder of the state files of running `peers start` processes. */
  readonly stateDir?: string;
}

const defaultIo: PeersIo = { stdout: (t) => process.stdout.write(t) };

/** The default folder of state files: one JSON file per running `peers start`. */
export const defaultStateDir = join(tmpdir(), 'fcgispec-peers');

/** One line of `peers list`. */
export interface PeerListing {
  readonly name: PeerName;
  readonly kind: 'application' | 'web-server';
  readonly available: boolean;
  readonly packages: readonly string[];
  /** The install command when missing. */
  readonly hint?: string;
}

/** Every registry peer with its availability. */
export function listPeers(): PeerListing[] {
  return (Object.keys(peers) as PeerName[]).map((name) => {
    const status = peerAvailable(name);
    const peer = peers[name];
    return { name, kind: peer.kind, available: status.available, packages: peer.packages, ...(status.available ? {} : { hint: status.hint }) };
  });
}

/** `peers list`: a table, or JSON. Returns the exit code (0). */
export function runPeersList(options: { readonly json?: boolean }, io: PeersIo = defaultIo): number {
  const list = listPeers();
  if (options.json) {
    io.stdout(`${JSON.stringify(list, null, 2)}\n`);
    return exitCodes.ok;
  }
  for (const p of list) {
    io.stdout(`${p.name.padEnd(13)} ${p.kind.padEnd(12)} ${p.available ? 'installed' : `MISSING   ${p.hint ?? ''}`}\n`);
  }
  const missing = list.filter((p) => !p.available);
  io.stdout(missing.length === 0 ? `all ${list.length} peers installed\n` : `${missing.length} of ${list.length} missing; the README's set-up installs them all (harness/peers/packages.txt)\n`);
  return exitCodes.ok;
}

/** What `peers start` records so that `peers stop` can find it. */
export interface PeerState {
  readonly name: PeerName;
  /** The `peers start` process. */
  readonly pid: number;
  /** The peer's process group. */
  readonly peerPid: number;
  readonly address?: string;
  readonly url?: string;
}

/** Options of `peers start`. */
export interface PeerStartOptions {
  readonly name: string;
  /** `tcp` or `unix` (applications). */
  readonly listen?: 'tcp' | 'unix';
  /** A web server's FastCGI backend; the reference responder with the probe app when absent. */
  readonly backend?: string;
  /** Web servers that can: keep backend connections (FCGI_KEEP_CONN). */
  readonly keepConn?: boolean;
}

/** A started peer, and the reference backend started for it. */
export interface StartedPeer {
  readonly name: PeerName;
  readonly peer: RunningPeer;
  readonly lines: readonly string[];
  stop(): Promise<void>;
}

/** The web servers whose launcher can keep backend connections. */
const keepConnServers: readonly PeerName[] = ['nginx', 'apache', 'h2o'];

function isApplication(p: RunningPeer): p is RunningApplication {
  return 'address' in p;
}

function isWebServer(p: RunningPeer): p is RunningWebServer {
  return 'url' in p;
}

/** Starts one peer (and, for a web server without a backend, the reference responder in front of which it runs). */
export async function startPeer(options: PeerStartOptions): Promise<StartedPeer> {
  const name = options.name;
  if (!isPeerName(name)) throw usageError(`unknown peer "${name}"; known: ${Object.keys(peers).join(', ')}`);
  const status = peerAvailable(name);
  if (!status.available) throw new HarnessError('E_CONNECT', status.hint);
  const definition = peers[name];
  if (definition.kind === 'application') {
    if (options.backend !== undefined) throw usageError(`--backend is for web servers; ${name} is an application`);
    if (options.keepConn) throw usageError(`--keep-conn is for web servers; ${name} is an application`);
    const start = definition.start as (o: { listen?: 'tcp' | 'unix' }) => Promise<RunningApplication>;
    const app = await start(options.listen ? { listen: options.listen } : {});
    const params = Object.entries(app.params).map(([k, v]) => `--param ${k}=${v}`);
    return {
      name,
      peer: app,
      lines: [`${name}: listening on ${app.address} (pid ${app.pid})`, ...Object.entries(app.params).map(([k, v]) => `  param ${k}=${v}`), `test it: fcgispec app ${app.address} --probe ${params.join(' ')}`.trim()],
      stop: () => app.stop(),
    };
  }
  if (options.listen !== undefined) throw usageError(`--listen is for applications; ${name} is a web server (it listens on a free 127.0.0.1 port)`);
  if (options.keepConn && !keepConnServers.includes(name)) throw usageError(`--keep-conn: ${name} cannot keep backend connections here; ${keepConnServers.join(', ')} can`);
  let backend = options.backend;
  let serve: ServeHandle | undefined;
  let folder: { path: string; remove(): void } | undefined;
  if (backend === undefined) {
    folder = createRunFolder(`${name}-backend`);
    serve = await startServe({ listen: `unix:${folder.path}/reference.sock`, log: false });
    backend = serve.address;
  }
  try {
    const start = definition.start as (o: { backend: string; keepConn?: boolean }) => Promise<RunningWebServer>;
    const server = await start({ backend, ...(options.keepConn ? { keepConn: true } : {}) });
    const stopAll = async (): Promise<void> => {
      await server.stop();
      await serve?.close(500);
      folder?.remove();
    };
    return {
      name,
      peer: server,
      lines: [`${name}: serving ${server.url} (pid ${server.pid}), FastCGI backend ${backend}${serve ? ' (the reference responder with the probe app)' : ''}${options.keepConn ? ', keeping connections' : ''}`],
      stop: stopAll,
    };
  } catch (err) {
    await serve?.close(0);
    folder?.remove();
    throw err;
  }
}

function stateFile(dir: string, pid: number): string {
  return join(dir, `${pid}.json`);
}

/** Reads every state file; drops (and deletes) the unreadable ones. */
export function readStates(dir: string = defaultStateDir): PeerState[] {
  if (!existsSync(dir)) return [];
  const out: PeerState[] = [];
  for (const file of readdirSync(dir).filter((f) => /^\d+\.json$/.test(f))) {
    try {
      const state = JSON.parse(readFileSync(join(dir, file), 'utf8')) as PeerState;
      if (typeof state.pid === 'number' && typeof state.name === 'string') out.push(state);
      else rmSync(join(dir, file), { force: true });
    } catch {
      rmSync(join(dir, file), { force: true });
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// A recorded pid is ours only while its command line is still a `peers start` (pids are reused).
function isPeersStart(pid: number): boolean {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const at = args.indexOf('peers');
    return at >= 0 && args[at + 1] === 'start';
  } catch {
    return false;
  }
}

/** Runs `peers start` until SIGINT or SIGTERM; prints where the peer is. Returns the exit code. */
export async function runPeersStart(options: PeerStartOptions, io: PeersIo = defaultIo, until?: Promise<unknown>): Promise<number> {
  const started = await startPeer(options);
  const dir = io.stateDir ?? defaultStateDir;
  mkdirSync(dir, { recursive: true });
  const state: PeerState = {
    name: started.name,
    pid: process.pid,
    peerPid: started.peer.pid,
    ...(isApplication(started.peer) ? { address: started.peer.address } : {}),
    ...(isWebServer(started.peer) ? { url: started.peer.url } : {}),
  };
  writeFileSync(stateFile(dir, process.pid), `${JSON.stringify(state)}\n`);
  for (const line of started.lines) io.stdout(`${line}\n`);
  io.stdout('running in the foreground; Ctrl-C (or fcgispec peers stop) stops it\n');
  // Signal handlers and unreferenced child processes do not keep Node running: this timer does, until stopped.
  const keepAlive = setInterval(() => {}, 1 << 30);
  let onSignal: (() => void) | undefined;
  const signalled = new Promise<void>((resolve) => {
    onSignal = resolve;
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  try {
    await Promise.race([signalled, ...(until ? [until] : [])]);
  } finally {
    if (onSignal) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    try {
      await started.stop();
    } finally {
      clearInterval(keepAlive);
      rmSync(stateFile(dir, process.pid), { force: true });
    }
    io.stdout(`${started.name}: stopped\n`);
  }
  return exitCodes.ok;
}

/** `peers stop [NAME]`: asks each running `peers start` (of NAME) to stop, and waits up to `waitMs` for it. */
export async function runPeersStop(options: { readonly name?: string; readonly waitMs?: number }, io: PeersIo = defaultIo): Promise<number> {
  if (options.name !== undefined && !isPeerName(options.name)) throw usageError(`unknown peer "${options.name}"; known: ${Object.keys(peers).join(', ')}`);
  const dir = io.stateDir ?? defaultStateDir;
  const states = readStates(dir).filter((s) => options.name === undefined || s.name === options.name);
  let stopped = 0;
  for (const s of states) {
    if (!alive(s.pid) || !isPeersStart(s.pid)) {
      rmSync(stateFile(dir, s.pid), { force: true });
      continue;
    }
    process.kill(s.pid, 'SIGTERM');
    const deadline = Date.now() + (options.waitMs ?? 15_000);
    while (alive(s.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (alive(s.pid)) {
      io.stdout(`${s.name} (pid ${s.pid}) did not stop within ${options.waitMs ?? 15_000} ms\n`);
      continue;
    }
    rmSync(stateFile(dir, s.pid), { force: true });
    io.stdout(`stopped ${s.name} (pid ${s.pid})\n`);
    stopped++;
  }
  if (stopped === 0) io.stdout(`no running ${options.name ?? 'peer'} started by fcgispec peers start\n`);
  return exitCodes.ok;
}

interface PeersArgv {
  action?: string;
  name?: string;
  json?: boolean;
  listen?: string;
  backend?: string;
  'keep-conn'?: boolean;
}

function builder(y: Argv<object>): Argv<PeersArgv> {
  return y
    .positional('action', { type: 'string', choices: ['list', 'start', 'stop'], describe: 'list | start NAME | stop [NAME]' })
    .positional('name', { type: 'string', describe: `peer: ${Object.keys(peers).join(', ')}` })
    .option('json', { type: 'boolean', describe: 'list: as JSON' })
    .option('listen', { type: 'string', choices: ['tcp', 'unix'], describe: 'start an application: on a free 127.0.0.1 port (tcp, the default) or a Unix socket' })
    .option('backend', { type: 'string', describe: 'start a web server: its FastCGI backend (tcp:HOST:PORT or unix:PATH); default: the reference responder' })
    .option('keep-conn', { type: 'boolean', describe: 'start nginx, apache or h2o: keep backend connections (FCGI_KEEP_CONN)' }) as unknown as Argv<PeersArgv>;
}

/** The yargs module of `fcgispec peers`. */
export const peersCommand: CommandModule<object, PeersArgv> = {
  command: 'peers <action> [name]',
  describe: 'list, start or stop the real FastCGI implementations the interop run uses',
  builder,
  handler: async (argv) => {
    switch (argv.action) {
      case 'list':
        process.exitCode = runPeersList({ json: argv.json === true });
        return;
      case 'start':
        if (argv.name === undefined) throw usageError('peers start needs a NAME (see fcgispec peers list)');
        process.exitCode = await runPeersStart({
          name: argv.name,
          ...(argv.listen === 'tcp' || argv.listen === 'unix' ? { listen: argv.listen } : {}),
          ...(argv.backend !== undefined ? { backend: argv.backend } : {}),
          ...(argv['keep-conn'] ? { keepConn: true } : {}),
        });
        return;
      case 'stop':
        process.exitCode = await runPeersStop(argv.name === undefined ? {} : { name: argv.name });
        return;
      default:
        throw usageError(`unknown action "${argv.action ?? ''}"; expected list, start NAME or stop [NAME]`);
    }
  },
};
