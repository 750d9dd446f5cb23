/**
 * `--embedded`: the reference responder with the probe app, started in this process on a Unix socket in a
 * temporary folder, so `fcgispec app --embedded` (and `npm start`) needs nothing else to run against.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAddress, type Address } from '../reference/address.ts';
import { startServe, type ServeHandle, type ServeOptions } from './commands/serve.ts';
import { formatFault } from '../reference/responder/faults.ts';
import { HarnessError } from './errors.ts';
import { RingBuffer, SpawnTarget, type ProcessLauncher, type Target } from './target.ts';

// The CLI, to start other instances of the reference responder as processes for the process scenarios.
const cliPath = fileURLToPath(new URL('./bin/fcgispec.js', import.meta.url));

/** How to start the embedded responder: `serve`'s options, less where it listens and logs. */
export type EmbeddedOptions = Omit<ServeOptions, 'listen' | 'log'>;

/** The in-process reference responder as a target. A restart closes it and starts a new one on the same path. */
export class EmbeddedTarget implements Target {
  readonly restartable = true;
  readonly #options: EmbeddedOptions;
  readonly #log = new RingBuffer(64 * 1024);
  #dir: string | undefined;
  #handle: ServeHandle | undefined;
  #address: Address | undefined;

  constructor(options: EmbeddedOptions = {}) {
    this.#options = options;
  }

  get address(): Address {
    if (!this.#address) throw new HarnessError('E_SPAWN', 'the embedded responder has not been started');
    return this.#address;
  }

  /**
   * The process scenarios (§2.2, §3.2, §7) need an application the harness starts itself: other instances
   * of the same reference responder, `fcgispec serve --listen fd:0` with the same options, as processes.
   */
  get launcher(): ProcessLauncher {
    const args = [cliPath, 'serve', '--listen', 'fd:0', '--quiet', ...serveArgs(this.#options)];
    return new SpawnTarget({ command: process.execPath, args }).launcher;
  }

  get description(): string {
    return `embedded reference responder${this.#address?.kind === 'unix' ? ` (unix:${this.#address.path})` : ''}`;
  }

  async start(): Promise<void> {
    this.#dir ??= mkdtempSync(join(tmpdir(), 'fcgispec-embedded-'));
    const path = join(this.#dir, 'reference.sock');
    rmSync(path, { force: true });
    this.#handle = await startServe({ ...this.#options, listen: `unix:${path}`, log: (line) => this.#log.push(Buffer.from(`${line}\n`)) });
    this.#address = parseAddress(this.#handle.address);
  }

  exited(): undefined {
    return undefined;
  }

  exitedDeliberately(): boolean {
    return false;
  }

  async restart(): Promise<void> {
    await this.#handle?.close(0);
    this.#handle = undefined;
    this.#log.push(Buffer.from('--- fcgispec: restarting the embedded responder ---\n'));
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
    await this.#handle?.close(1000);
    this.#handle = undefined;
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = undefined;
  }
}

/** A target for the embedded reference responder; its `start()` starts it. */
export function embeddedTarget(options: EmbeddedOptions = {}): Target {
  return new EmbeddedTarget(options);
}

// `serve`'s command line for the options the embedded responder runs with.
function serveArgs(o: EmbeddedOptions): string[] {
  const args: string[] = [];
  if (o.multiplex === false) args.push('--no-mpx');
  if (o.maxConns !== undefined) args.push('--max-conns', String(o.maxConns));
  if (o.maxReqs !== undefined) args.push('--max-reqs', String(o.maxReqs));
  for (const role of o.roles ?? []) args.push('--role', role);
  for (const fault of o.faults ?? []) args.push('--fault', typeof fault === 'string' ? fault : formatFault(fault));
  return args;
}
