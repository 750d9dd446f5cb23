/**
 * `fcgispec serve`: runs the reference responder with the probe app until SIGINT/SIGTERM, logging one line
 * per request on stderr. `--listen fd:0` serves the listening socket inherited as FCGI_LISTENSOCK_FILENO,
 * which is how a web server spawns a FastCGI application (§2.2).
 *
 * Also runnable on its own: `node --import tsx harness/commands/serve.ts --listen ADDR ...`.
 */
import { pathToFileURL } from 'node:url';
import yargs, { type ArgumentsCamelCase, type Argv, type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { protocolStatusName, roleNames, type RoleName } from '../../spec/constants.ts';
import { AddressError, parseAddress } from '../../reference/address.ts';
import { createProbeHandler } from '../../reference/probe/app.ts';
import { createResponder, type Responder } from '../../reference/responder/responder.ts';
import { faultCatalog, FaultError, faultNames, parseFault, validateFaults, type Fault } from '../../reference/responder/faults.ts';
import type { RequestLogEntry } from '../../reference/responder/types.ts';
import { HarnessError, usageError, exitCodes } from '../errors.ts';

/** The apps `serve` can run. */
export const serveApps = ['probe'] as const;
export type ServeApp = (typeof serveApps)[number];

const allRoles = Object.values(roleNames) as RoleName[];

/** Options of `startServe`, the programmatic form of the command. */
export interface ServeOptions {
  /** `tcp:HOST:PORT`, `HOST:PORT`, `unix:PATH` or `fd:N`. */
  readonly listen: string;
  readonly app?: ServeApp;
  /** FCGI_MPXS_CONNS (default true). */
  readonly multiplex?: boolean;
  readonly maxConns?: number;
  readonly maxReqs?: number;
  /** Roles served (default all three). */
  readonly roles?: readonly RoleName[];
  /** Faults as objects or as `NAME[=ARG][@N]` text. */
  readonly faults?: readonly (Fault | string)[];
  /** Where request log lines go; `false` for none. Default: stderr. */
  readonly log?: ((line: string) => void) | false;
  /** Mode of a Unix socket once listening (default 0o666, so web servers running as other users can connect). */
  readonly unixMode?: number;
  /** FCGI_WEB_SERVER_ADDRS (default: the environment's). */
  readonly webServerAddrs?: string | null;
}

/** A running `serve`. */
export interface ServeHandle {
  /** The bound address as `tcp:HOST:PORT`, `unix:PATH` or `fd:N`. */
  readonly address: string;
  readonly responder: Responder;
  /** Stops accepting, lets active requests finish (up to `graceMs`), closes. */
  close(graceMs?: number): Promise<void>;
}

/** One log line per request: connection, id, role, action, status, bytes, milliseconds. */
export function formatRequestLog(e: RequestLogEntry): string {
  const action = e.param('PROBE_ACTION') ?? (e.protocolStatus === 0 ? 'echo-stdin' : '-');
  const status = e.protocolStatus !== 0 ? protocolStatusName(e.protocolStatus) : e.aborted ? 'aborted' : String(e.cgiStatus ?? '-');
  const faults = e.faults.length ? ` faults=${e.faults.join(',')}` : '';
  return `serve: conn=${e.connectionId} id=${e.requestId} role=${e.role} action=${action} status=${status} app=${e.appStatus} bytes=${e.stdoutBytes} ms=${e.durationMs.toFixed(1)}${faults}`;
}

// Log lines written to stderr once per turn of the event loop: one write for many requests under load.
function stderrLines(): (line: string) => void {
  let lines: string[] = [];
  const flush = (): void => {
    const text = `${lines.join('\n')}\n`;
    lines = [];
    process.stderr.write(text);
  };
  return (line) => {
    if (lines.push(line) === 1) setImmediate(flush);
  };
}

function toFaults(list: readonly (Fault | string)[]): Fault[] {
  try {
    const faults = list.map((f) => (typeof f === 'string' ? parseFault(f) : f));
    validateFaults(faults);
    return faults;
  } catch (err) {
    if (err instanceof FaultError) throw usageError(err.message);
    throw err;
  }
}

function positiveOption(value: number | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 1) throw usageError(`--${flag} must be a positive integer`);
  return value;
}

/** Starts the responder as `serve` does; resolves once listening. Throws `HarnessError` E_USAGE for bad options. */
export async function startServe(options: ServeOptions): Promise<ServeHandle> {
  let address;
  try {
    address = parseAddress(options.listen);
  } catch (err) {
    if (err instanceof AddressError) throw usageError(err.message);
    throw err;
  }
  const faults = toFaults(options.faults ?? []);
  for (const role of options.roles ?? []) if (!allRoles.includes(role)) throw usageError(`unknown role "${role}"; known: ${allRoles.join(', ')}`);
  const maxConns = positiveOption(options.maxConns, 'max-conns');
  const maxReqs = positiveOption(options.maxReqs, 'max-reqs');
  const log = options.log === undefined ? stderrLines() : options.log;
  const responder = createResponder({
    handler: createProbeHandler(),
    faults,
    ...(options.multiplex === undefined ? {} : { multiplex: options.multiplex }),
    ...(maxConns === undefined ? {} : { maxConns }),
    ...(maxReqs === undefined ? {} : { maxReqs }),
    ...(options.roles && options.roles.length > 0 ? { roles: options.roles } : {}),
    ...(options.webServerAddrs === undefined ? {} : { webServerAddrs: options.webServerAddrs }),
    ...(log ? { onRequestEnd: (e: RequestLogEntry) => log(formatRequestLog(e)), onConnectionError: (c: number, reason: string) => log(`serve: conn=${c} closed: ${reason}`) } : {}),
  });
  let bound;
  try {
    bound = await responder.listen(address, { unixMode: options.unixMode ?? 0o666 });
  } catch (err) {
    await responder.close({ graceMs: 0 });
    const code = (err as NodeJS.ErrnoException).code;
    throw new HarnessError('E_USAGE', `cannot listen on ${options.listen}: ${code ?? (err as Error).message}`, { cause: err });
  }
  return {
    address: bound.text,
    responder,
    close: (graceMs = 5000) => responder.close({ graceMs }),
  };
}

interface ServeArgs {
  readonly listen: string;
  readonly app: ServeApp;
  readonly mpx: boolean;
  readonly 'max-conns'?: number;
  readonly 'max-reqs'?: number;
  readonly role?: RoleName[];
  readonly fault?: string[];
  readonly quiet: boolean;
}

function builder(y: Argv): Argv<ServeArgs> {
  return y
    .option('listen', { type: 'string', demandOption: true, describe: 'tcp:HOST:PORT, HOST:PORT, unix:PATH, or fd:0 (the inherited listening socket)' })
    .option('app', { choices: serveApps, default: 'probe' as ServeApp, describe: 'the application to serve' })
    .option('mpx', { type: 'boolean', default: true, describe: 'serve concurrent requests per connection (--no-mpx: answer FCGI_CANT_MPX_CONN)' })
    .option('max-conns', { type: 'number', describe: 'FCGI_MAX_CONNS; extra connections are closed at once (default 1024)' })
    .option('max-reqs', { type: 'number', describe: 'FCGI_MAX_REQS; extra requests get FCGI_OVERLOADED (default 4096)' })
    .option('role', { type: 'string', array: true, choices: allRoles, describe: 'roles served, repeatable (default all); others get FCGI_UNKNOWN_ROLE' })
    .option('fault', {
      type: 'string',
      array: true,
      describe: `inject a fault, repeatable: NAME[=ARG][@N] (every Nth request). Faults: ${faultNames
        .map((n) => (faultCatalog[n].takesArg ? `${n}=${'argName' in faultCatalog[n] ? faultCatalog[n].argName : 'N'}` : n))
        .join(', ')}`,
    })
    .option('quiet', { type: 'boolean', default: false, describe: 'no per-request log lines' }) as unknown as Argv<ServeArgs>;
}

async function handler(argv: ArgumentsCamelCase<ServeArgs>): Promise<void> {
  const handle = await startServe({
    listen: argv.listen,
    app: argv.app,
    multiplex: argv.mpx,
    ...(argv['max-conns'] === undefined ? {} : { maxConns: argv['max-conns'] }),
    ...(argv['max-reqs'] === undefined ? {} : { maxReqs: argv['max-reqs'] }),
    ...(argv.role ? { roles: argv.role } : {}),
    ...(argv.fault ? { faults: argv.fault } : {}),
    ...(argv.quiet ? { log: false as const } : {}),
  });
  const faults = argv.fault?.length ? ` with faults ${argv.fault.join(' ')}` : '';
  process.stderr.write(`fcgispec serve: ${argv.app} app listening on ${handle.address}${faults}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.stderr.write('fcgispec serve: closing\n');
  await handle.close();
}

/** The `serve` command. */
export const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe: 'run the reference FastCGI application (probe app) on an address, with optional fault injection',
  builder,
  handler,
};

// Run directly (a spawned application, e.g. with the listening socket on fd 0).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await yargs(hideBin(process.argv))
    .scriptName('fcgispec-serve')
    .command({ ...serveCommand, command: '$0' })
    .strict()
    .fail((msg, err) => {
      process.stderr.write(`fcgispec serve: ${err instanceof HarnessError ? err.message : (msg ?? err?.message ?? 'bad usage')}\n`);
      process.exitCode = exitCodes.usage;
    })
    .parseAsync()
    .catch(() => undefined);
}
