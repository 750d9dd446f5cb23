/**
 * The application under test: a network address, or a command the harness spawns with a listening socket
 * as its descriptor 0, as spawn-fcgi and mod_fcgid start FastCGI applications. @see §2.2 FCGI_LISTENSOCK_FILENO
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { linkSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatAddress, type Address } from '../reference/address.ts';
import type { LaunchOptions, PipedRun, ProcessExit, SpawnTransport } from '../suites/define.ts';
import { HarnessError } from './errors.ts';

/** A target the runner connects to; spawn targets can also be restarted. */
export interface Target {
  /** Where scenarios connect (a spawn target may move to a new port when it restarts). */
  readonly address: Address;
  /** One line for people and reports: the address, and the command when spawned. */
  readonly description: string;
  /** Whether `restart` can bring the target back. */
  readonly restartable: boolean;
  start(): Promise<void>;
  /** How the process ended, if a process we started has ended since `start`; `undefined` otherwise. */
  exited(): string | undefined;
  /** The process ended with status 0: a deliberate exit (e.g. after PHP_FCGI_MAX_REQUESTS), not a crash. @see §7 */
  exitedDeliberately(): boolean;
  restart(): Promise<void>;
  /** The end of what the process wrote on stderr (and stdout), for error verdicts. */
  logTail(maxBytes?: number): string;
  /** A mark in the process's output, for `logSince`. */
  logMark(): number;
  /** What the process wrote since `mark` (at most `maxBytes`, the latest), as far as the log still holds it. */
  logSince(mark: number, maxBytes?: number): string;
  /** Stops the process and removes temporary files. */
  stop(): Promise<void>;
  /** Starts more processes of the same command, for process scenarios; only targets the harness spawns have it. */
  readonly launcher?: ProcessLauncher;
}

/** A process a `ProcessLauncher` started, with its own listening socket as fd 0. */
export interface LaunchedProcess {
  readonly address: Address;
  /** Sends a signal to the process (not its group); false when it has already ended. */
  signal(signal: NodeJS.Signals): boolean;
  /** How the process ended, or `undefined` if it still runs after `timeoutMs`. */
  waitExit(timeoutMs: number): Promise<ProcessExit | undefined>;
  output(maxBytes?: number): string;
  /** Stops the process group and removes its temporary files. */
  stop(): Promise<void>;
}

/** Starts the target's command again, apart from the target itself. @see §2.2 §3.2 §7 */
export interface ProcessLauncher {
  /** The transport of the target's own listening socket. */
  readonly transport: SpawnTransport;
  launch(options: LaunchOptions): Promise<LaunchedProcess>;
  runPiped(options: { readonly env: Readonly<Record<string, string>>; readonly stdin: Uint8Array; readonly timeoutMs: number }): Promise<PipedRun>;
}

/** A target that is already running somewhere: the harness only connects. */
export class NetworkTarget implements Target {
  readonly restartable = false;
  readonly address: Address;
  constructor(address: Address) {
    this.address = address;
  }
  get description(): string {
    return formatAddress(this.address);
  }
  async start(): Promise<void> {}
  exited(): undefined {
    return undefined;
  }
  exitedDeliberately(): boolean {
    return false;
  }
  async restart(): Promise<void> {
    throw new HarnessError('E_CONNECT', `${this.description} cannot be restarted by the harness`);
  }
  logTail(): string {
    return '';
  }
  logMark(): number {
    return 0;
  }
  logSince(): string {
    return '';
  }
  async stop(): Promise<void> {}
}

/** A bounded byte ring: keeps the last `capacity` bytes written to it. */
export class RingBuffer {
  readonly #capacity: number;
  #chunks: Buffer[] = [];
  #length = 0;
  #written = 0;
  constructor(capacity: number) {
    this.#capacity = capacity;
  }
  /** Bytes pushed since creation (a mark for `since`). */
  get written(): number {
    return this.#written;
  }
  push(chunk: Buffer): void {
    this.#written += chunk.length;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    while (this.#length - (this.#chunks[0]?.length ?? 0) >= this.#capacity && this.#chunks.length > 1) {
      this.#length -= this.#chunks.shift()!.length;
    }
  }
  /** The last `maxBytes` bytes (at most the capacity), as text. */
  tail(maxBytes = this.#capacity): string {
    const all = Buffer.concat(this.#chunks);
    return all.subarray(Math.max(0, all.length - Math.min(maxBytes, this.#capacity))).toString('utf8');
  }
  /** The bytes pushed after `mark` (a `written` value), at most `maxBytes` of the latest, as text. */
  since(mark: number, maxBytes = this.#capacity): string {
    const wanted = Math.min(Math.max(0, this.#written - mark), maxBytes);
    return wanted === 0 ? '' : this.tail(wanted);
  }
  clear(): void {
    this.#chunks = [];
    this.#length = 0;
  }
}

/** Splits a command line into words: whitespace separates, quotes group, backslash escapes. No shell. */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new HarnessError('E_USAGE', `--spawn: unterminated ${quote} quote in ${JSON.stringify(text)}`);
  if (inWord) words.push(word);
  return words;
}

/** How to spawn a target. */
export interface SpawnOptions {
  readonly command: string;
  readonly args: readonly string[];
  /** Listen on a Unix socket in a temporary folder instead of TCP on 127.0.0.1. */
  readonly unix?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Bytes of stderr/stdout kept (default 64 KiB). */
  readonly logBytes?: number;
  /** How long SIGTERM has before SIGKILL (default 2000 ms). */
  readonly stopDeadlineMs?: number;
}

/**
 * A spawned target. Each start creates a listening socket, hands it to the child as descriptor 0 and closes
 * the harness's copy, so that only the child accepts (libuv makes descriptors 0–2 blocking in the child, which
 * is what FastCGI libraries expect, and which also changes the harness's copy). Restarts listen again at the
 * same address.
 */
export class SpawnTarget implements Target {
  readonly restartable = true;
  readonly #options: SpawnOptions;
  readonly #log: RingBuffer;
  #dir: string | undefined;
  #address: Address | undefined;
  #child: ChildProcess | undefined;
  #exit: string | undefined;
  #exitCode: number | null = null;
  #exitInfo: ProcessExit | undefined;
  #exitWaiters: (() => void)[] = [];
  #starts = 0;

  constructor(options: SpawnOptions) {
    this.#options = options;
    this.#log = new RingBuffer(options.logBytes ?? 64 * 1024);
  }

  get address(): Address {
    if (!this.#address) throw new HarnessError('E_SPAWN', 'the spawned target has not been started');
    return this.#address;
  }

  get description(): string {
    const cmd = [this.#options.command, ...this.#options.args].join(' ');
    return this.#address ? `spawn: ${cmd} (${formatAddress(this.#address)})` : `spawn: ${cmd}`;
  }

  /** The child's process id, while it runs. */
  get pid(): number | undefined {
    return this.#exit === undefined ? this.#child?.pid : undefined;
  }

  /** How many times the process was started. */
  get starts(): number {
    return this.#starts;
  }

  async start(): Promise<void> {
    const server = await this.#listen();
    const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) {
      server.close();
      throw new HarnessError('E_SPAWN', 'cannot get the listening socket descriptor on this platform');
    }
    this.#exit = undefined;
    this.#exitCode = null;
    this.#exitInfo = undefined;
    let child: ChildProcess;
    try {
      child = spawn(this.#options.command, [...this.#options.args], {
        stdio: [fd, 'pipe', 'pipe'],
        detached: true,
        env: this.#options.env ?? process.env,
        ...(this.#options.cwd ? { cwd: this.#options.cwd } : {}),
      });
    } catch (err) {
      server.close();
      throw new HarnessError('E_SPAWN', `cannot spawn ${this.#options.command}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    this.#starts++;
    this.#child = child;
    child.stdout?.on('data', (chunk: Buffer) => this.#log.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.#log.push(chunk));
    child.on('error', (err: NodeJS.ErrnoException) => this.#onExit(child, `could not be started: ${err.code ?? err.message}`));
    child.on('exit', (code, signal) => {
      if (child === this.#child && this.#exit === undefined) {
        this.#exitCode = code;
        this.#exitInfo = { code, signal };
      }
      this.#onExit(child, signal ? `killed by ${signal}` : `exited with code ${code}`);
    });
    // Only the child may accept: close our copy. For a Unix socket, closing unlinks the path, so the public
    // path is a hard link made first.
    if (this.#address?.kind === 'unix') {
      const listening = (server.address() as string | null) ?? '';
      rmQuiet(this.#address.path);
      linkSync(listening, this.#address.path);
    }
    server.close();
    // A command that does not exist fails asynchronously; give it a moment so start() can report it.
    await new Promise((r) => setTimeout(r, 20));
    if (this.#exit !== undefined) {
      throw new HarnessError('E_SPAWN', `${this.#options.command} ${this.#exit}${this.#tailLine()}`);
    }
  }

  exited(): string | undefined {
    return this.#exit;
  }

  exitedDeliberately(): boolean {
    return this.#exit !== undefined && this.#exitCode === 0;
  }

  /** Sends a signal to the process (not its group); false when it is not running. */
  signal(signal: NodeJS.Signals): boolean {
    const pid = this.pid;
    if (pid === undefined) return false;
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** How the process ended (status or signal), or `undefined` if it still runs after `timeoutMs`. */
  async waitExit(timeoutMs: number): Promise<ProcessExit | undefined> {
    if (this.#exit === undefined) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.#exitWaiters.push(done);
      });
    }
    if (this.#exit === undefined) return undefined;
    return this.#exitInfo ?? { code: null, signal: null };
  }

  /** Other processes of the same command, each with its own listening socket and environment. */
  get launcher(): ProcessLauncher {
    const options = this.#options;
    return {
      transport: options.unix ? 'unix' : 'tcp',
      launch: async (launch) => {
        const env = { ...(options.env ?? process.env) };
        for (const [k, v] of Object.entries(launch.env ?? {})) {
          if (v === null) delete env[k];
          else env[k] = v;
        }
        const child = new SpawnTarget({ ...options, unix: launch.transport === 'unix', env });
        try {
          await child.start();
        } catch (err) {
          await child.stop();
          throw err;
        }
        return {
          address: child.address,
          signal: (sig) => child.signal(sig),
          waitExit: (ms) => child.waitExit(ms),
          output: (maxBytes) => child.logTail(maxBytes),
          stop: () => child.stop(),
        };
      },
      runPiped: (run) => runPiped(options, run),
    };
  }

  async restart(): Promise<void> {
    await this.#kill();
    this.#log.push(Buffer.from(`\n--- fcgispec: restarting the target ---\n`));
    await this.start();
  }

  logTail(maxBytes = 4096): string {
    return this.#log.tail(maxBytes);
  }

  logMark(): number {
    return this.#log.written;
  }

  logSince(mark: number, maxBytes = 4096): string {
    return this.#log.since(mark, maxBytes);
  }

  async stop(): Promise<void> {
    await this.#kill();
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = undefined;
  }

  #tailLine(): string {
    const tail = this.#log.tail(512).trim().split('\n').slice(-3).join(' | ');
    return tail ? `; its output ends: ${tail}` : '';
  }

  #onExit(child: ChildProcess, how: string): void {
    if (child !== this.#child || this.#exit !== undefined) return;
    this.#exit = how;
    for (const w of this.#exitWaiters.splice(0)) w();
  }

  async #listen(): Promise<Server> {
    const server = createServer();
    const listen = (options: { host: string; port: number } | { path: string }): Promise<void> =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(options, () => {
          server.off('error', reject);
          resolve();
        });
      });
    if (this.#options.unix) {
      this.#dir ??= mkdtempSync(join(tmpdir(), 'fcgispec-spawn-'));
      this.#address = { kind: 'unix', path: join(this.#dir, 'app.sock') };
      const listening = join(this.#dir, `listen-${this.#starts}.sock`);
      rmQuiet(listening);
      await listen({ path: listening });
      return server;
    }
    const previous = this.#address?.kind === 'tcp' ? this.#address.port : 0;
    try {
      await listen({ host: '127.0.0.1', port: previous });
    } catch (err) {
      // The old port is taken (by a straggler of the old process group, or anyone): move to a new one.
      if (previous === 0) throw new HarnessError('E_SPAWN', `cannot listen on 127.0.0.1: ${String(err)}`, { cause: err });
      await listen({ host: '127.0.0.1', port: 0 });
    }
    const a = server.address();
    if (a === null || typeof a === 'string') throw new HarnessError('E_SPAWN', 'listening socket has no TCP address');
    this.#address = { kind: 'tcp', host: '127.0.0.1', port: a.port };
    return server;
  }

  // SIGTERM to the whole process group, SIGKILL after the deadline; resolves when the group is gone.
  async #kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.pid === undefined) return;
    const pgid = child.pid;
    if (!groupAlive(pgid)) return;
    signalGroup(pgid, 'SIGTERM');
    const deadline = Date.now() + (this.#options.stopDeadlineMs ?? 2000);
    while (groupAlive(pgid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (groupAlive(pgid)) {
      signalGroup(pgid, 'SIGKILL');
      const hard = Date.now() + 2000;
      while (groupAlive(pgid) && Date.now() < hard) await new Promise((r) => setTimeout(r, 20));
    }
    if (this.#exit === undefined) await new Promise<void>((r) => (this.#exit === undefined ? this.#exitWaiters.push(r) : r()));
  }
}

/**
 * Runs a spawn target's command with fd 0 a pipe, as a web server runs a CGI program: writes `stdin`, closes
 * it, and collects stdout (64 KiB at most) and stderr until the process ends or the deadline, when its group
 * is killed. @see §2.2
 */
export async function runPiped(
  options: SpawnOptions,
  run: { readonly env: Readonly<Record<string, string>>; readonly stdin: Uint8Array; readonly timeoutMs: number },
): Promise<PipedRun> {
  const started = performance.now();
  const stdout: Buffer[] = [];
  let stdoutBytes = 0;
  const stderr = new RingBuffer(8 * 1024);
  let child: ChildProcess;
  try {
    child = spawn(options.command, [...options.args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
      env: { ...(options.env ?? process.env), ...run.env },
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
  } catch (err) {
    throw new HarnessError('E_SPAWN', `cannot spawn ${options.command}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const exited = new Promise<ProcessExit | 'error'>((resolve) => {
    child.on('error', () => resolve('error'));
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    const room = 64 * 1024 - stdoutBytes;
    if (room > 0) {
      stdout.push(chunk.subarray(0, room));
      stdoutBytes += Math.min(room, chunk.length);
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  // The child may exit without reading its input: a broken pipe is not our error.
  child.stdin?.on('error', () => {});
  child.stdin?.end(run.stdin);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), run.timeoutMs);
  });
  const first = await Promise.race([exited, deadline]);
  clearTimeout(timer);
  const pgid = child.pid;
  if (pgid !== undefined && groupAlive(pgid)) {
    signalGroup(pgid, first === 'timeout' ? 'SIGKILL' : 'SIGTERM');
    const hard = Date.now() + 2000;
    while (groupAlive(pgid) && Date.now() < hard) await new Promise((r) => setTimeout(r, 20));
    if (groupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
  }
  if (first === 'error') throw new HarnessError('E_SPAWN', `cannot spawn ${options.command}${stderr.tail(200) ? `: ${stderr.tail(200)}` : ''}`);
  return {
    exit: first === 'timeout' ? undefined : first,
    stdout: new Uint8Array(Buffer.concat(stdout)),
    stderr: stderr.tail(),
    elapsedMs: Math.round(performance.now() - started),
  };
}

function rmQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // absent already
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is gone
  }
}

// A group whose leader is a zombie still answers signal 0, so this stays true until Node has reaped it.
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
