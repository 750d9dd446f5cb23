/**
 * `fcgispec request TARGET`: one FastCGI request from the command line, a modern `cgi-fcgi`. Prints the
 * response body (with `-i`, stdout as the application wrote it, headers included), or with `--raw` every
 * record both ways with its time. The application's FCGI_STDERR goes to our stderr.
 *
 * Exit codes: 0 FCGI_REQUEST_COMPLETE, 1 anything else (rejected, protocol error, timeout, closed),
 * 2 bad usage, 3 target unreachable.
 *
 * Also runnable on its own: `node --import tsx harness/commands/request.ts TARGET ...`.
 */
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import yargs, { type ArgumentsCamelCase, type Argv, type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { FCGI_DATA_LAST_MOD, FCGI_DATA_LENGTH, roleNames, type RoleName } from '../../spec/constants.ts';
import { AddressError, parseAddress } from '../../reference/address.ts';
import { RecordDecoder } from '../../reference/codec/record.ts';
import { describeRecord } from '../../reference/codec/describe.ts';
import { parseCgiHead, parseCgiResponse } from '../../reference/cgi.ts';
import { ClientConnection, ClientError, type BodyInit, type TrafficEvent } from '../../reference/client/index.ts';
import { HarnessError, exitCodes, usageError } from '../errors.ts';

const allRoles = Object.values(roleNames) as RoleName[];

/** Options of `runRequest`, the programmatic form of the command. */
export interface RequestCommandOptions {
  /** `tcp:HOST:PORT`, `HOST:PORT` or `unix:PATH`. */
  readonly target: string;
  /** `NAME=VALUE` params, sent in order. */
  readonly params?: readonly string[];
  /** A file to send as FCGI_STDIN, or `-` for our stdin. */
  readonly stdin?: string;
  /** A file to send as FCGI_DATA (Filter role), or `-` for our stdin. */
  readonly data?: string;
  readonly role?: RoleName;
  /** Sets FCGI_KEEP_CONN (we close the connection ourselves after the request). */
  readonly keepConn?: boolean;
  /** Prints stdout as is, CGI headers included. */
  readonly include?: boolean;
  /** Prints every record sent and received, with its time, instead of the body. */
  readonly raw?: boolean;
  /** Connect timeout, and how long the application may stay silent (default 30 000 ms). */
  readonly timeoutMs?: number;
}

/** Where the command reads and writes. */
export interface RequestIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdin: Readable;
}

const processIo: RequestIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };

/** A body source: our stdin or a file, with its size and mtime when known. */
interface Source {
  readonly body: BodyInit;
  readonly size?: number;
  readonly mtimeSeconds?: number;
}

/**
 * Runs one request and prints the outcome; resolves to the exit code (0 complete, 1 otherwise). Throws
 * `HarnessError` E_USAGE for bad options and E_CONNECT when the target is unreachable.
 */
export async function runRequest(options: RequestCommandOptions, io: RequestIo = processIo): Promise<number> {
  if (typeof options.target !== 'string' || options.target === '') throw usageError('name the application: tcp:HOST:PORT, HOST:PORT or unix:PATH');
  const params = parseParams(options.params ?? []);
  try {
    const address = parseAddress(options.target);
    if (address.kind === 'fd') throw usageError(`cannot send a request to ${options.target}: give tcp:HOST:PORT, HOST:PORT or unix:PATH`);
  } catch (err) {
    if (err instanceof AddressError) throw usageError(err.message);
    throw err;
  }
  const role = options.role ?? 'responder';
  if (!allRoles.includes(role)) throw usageError(`unknown role "${role}"; known: ${allRoles.join(', ')}`);
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) throw usageError('--timeout must be a positive number of milliseconds');
  if (options.stdin === '-' && options.data === '-') throw usageError('--stdin and --data cannot both read our stdin');
  const stdin = options.stdin === undefined ? undefined : await openSource(options.stdin, '--stdin', io);
  const data = options.data === undefined ? undefined : await openSource(options.data, '--data', io);
  // Applications read CONTENT_LENGTH bytes of stdin (§6.2) and FCGI_DATA_LENGTH bytes of data (§6.4): fill them in from file sizes.
  const has = (name: string): boolean => params.some(([n]) => n === name);
  if (stdin?.size !== undefined && !has('CONTENT_LENGTH')) params.push(['CONTENT_LENGTH', String(stdin.size)]);
  if (role === 'filter' && data?.size !== undefined) {
    if (!has(FCGI_DATA_LENGTH)) params.push([FCGI_DATA_LENGTH, String(data.size)]);
    if (!has(FCGI_DATA_LAST_MOD)) params.push([FCGI_DATA_LAST_MOD, String(data.mtimeSeconds)]);
  }

  const clockOrigin = performance.now();
  const sentDecoder = new RecordDecoder();
  const rawLine = (atMs: number, arrow: string, text: string): void => void io.stdout.write(`+${atMs.toFixed(3)}ms ${arrow} ${text}\n`);
  const onTraffic = (e: TrafficEvent): void => {
    if (e.dir === 'sent') for (const r of sentDecoder.push(e.bytes)) rawLine(e.atMs, '→', describeRecord(r));
    else if (e.dir === 'received') rawLine(e.atMs, '←', describeRecord(e.record));
    else rawLine(e.atMs, '✕', `closed (${e.how}: ${e.detail})`);
  };

  let conn: ClientConnection;
  try {
    conn = await ClientConnection.connect(options.target, {
      connectTimeoutMs: timeoutMs,
      timeoutMs,
      clockOrigin,
      ...(options.raw ? { onTraffic } : {}),
    });
  } catch (err) {
    if (ClientError.is(err, 'E_CONNECT')) throw new HarnessError('E_CONNECT', err.message, { cause: err });
    if (ClientError.is(err, 'E_USAGE')) throw usageError(err.message);
    throw err;
  }

  const keepConn = options.keepConn ?? false;
  const h = conn.stream({
    role,
    keepConn,
    params,
    ...(stdin ? { stdin: stdin.body } : {}),
    ...(data ? { data: data.body } : {}),
  });
  const output = options.raw ? discard(h.stdout) : options.include ? copy(h.stdout, io.stdout) : copyBody(h.stdout, io.stdout, io.stderr);
  const outputs = Promise.all([output, copy(h.stderr, io.stderr)]);
  outputs.catch((err: unknown) => h.abort(err));
  let code: number = exitCodes.ok;
  try {
    await h.ended;
    await outputs;
  } catch (err) {
    code = exitCodes.findings;
    io.stderr.write(`fcgispec: ${describeError(err)}\n`);
  }
  if (keepConn || code !== exitCodes.ok) conn.destroy('the request is done');
  else await closedWithin(conn, 1000);
  return code;
}

function parseParams(list: readonly string[]): [string, string][] {
  return list.map((text) => {
    const eq = text.indexOf('=');
    if (eq <= 0) throw usageError(`--param ${JSON.stringify(text)}: expected NAME=VALUE`);
    return [text.slice(0, eq), text.slice(eq + 1)];
  });
}

async function openSource(path: string, flag: string, io: RequestIo): Promise<Source> {
  if (path === '-') return { body: io.stdin };
  try {
    const st = await stat(path);
    if (!st.isFile()) throw usageError(`${flag} ${path}: not a file`);
    return { body: createReadStream(path), size: st.size, mtimeSeconds: Math.floor(st.mtimeMs / 1000) };
  } catch (err) {
    if (err instanceof HarnessError) throw err;
    throw usageError(`${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function describeError(err: unknown): string {
  if (!ClientError.is(err)) return err instanceof Error ? err.message : String(err);
  return `${err.code}: ${err.message}${err.hex ? ` [bytes: ${err.hex}]` : ''}`;
}

// Writes with backpressure; a write error (EPIPE from `| head`) rejects.
async function write(dst: Writable, chunk: Uint8Array): Promise<void> {
  if (!dst.write(chunk)) await once(dst, 'drain');
}

// A response stream ends early (destroyed) when the request fails; `ended` says why, so that is not an error here.
function isPrematureClose(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ERR_STREAM_PREMATURE_CLOSE';
}

async function copy(src: Readable, dst: Writable): Promise<void> {
  try {
    for await (const chunk of src) await write(dst, chunk as Buffer);
  } catch (err) {
    if (!isPrematureClose(err)) throw err;
  }
}

async function discard(src: Readable): Promise<void> {
  try {
    for await (const _ of src);
  } catch (err) {
    if (!isPrematureClose(err)) throw err;
  }
}

// Prints the body: holds stdout until the CGI header block is complete, then streams what follows it.
async function copyBody(src: Readable, dst: Writable, warn: Writable): Promise<void> {
  let head: Buffer | undefined = Buffer.alloc(0);
  const notCgi = async (bytes: Buffer, message: string): Promise<void> => {
    warn.write(`fcgispec: stdout is not a CGI response (${message}); printing it as is\n`);
    await write(dst, bytes);
  };
  try {
    for await (const chunk of src) {
      if (!head) {
        await write(dst, chunk as Buffer);
        continue;
      }
      head = Buffer.concat([head, chunk as Buffer]);
      const parsed = parseCgiHead(head);
      if (parsed.kind === 'incomplete') continue;
      const bytes: Buffer = head;
      head = undefined;
      if (parsed.kind === 'error') await notCgi(bytes, parsed.error.message);
      else await write(dst, bytes.subarray(parsed.head.headerLength));
    }
  } catch (err) {
    if (isPrematureClose(err)) return;
    throw err;
  }
  if (head) {
    const parsed = parseCgiResponse(head);
    if (parsed.kind === 'error') await notCgi(head, parsed.error.message);
    else await write(dst, parsed.response.body);
  }
}

// Without FCGI_KEEP_CONN the application closes (§3.5); give it a moment, so `--raw` shows who closed.
async function closedWithin(conn: ClientConnection, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([conn.whenClosed(), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
  conn.destroy('the request is done');
}

interface RequestArgs {
  readonly target: string;
  readonly param?: string[];
  readonly stdin?: string;
  readonly data?: string;
  readonly role: RoleName;
  readonly 'keep-conn': boolean;
  readonly include: boolean;
  readonly raw: boolean;
  readonly timeout: number;
}

function builder(y: Argv): Argv<RequestArgs> {
  return y
    .positional('target', { type: 'string', describe: 'the application: tcp:HOST:PORT, HOST:PORT or unix:PATH' })
    .option('param', { alias: 'p', type: 'string', array: true, nargs: 1, describe: 'a param NAME=VALUE, repeatable, sent in order' })
    .option('stdin', { type: 'string', describe: 'send FILE (or - for our stdin) as FCGI_STDIN; sets CONTENT_LENGTH for a file unless given' })
    .option('data', { type: 'string', describe: 'send FILE (or -) as FCGI_DATA; for --role filter sets FCGI_DATA_LENGTH and FCGI_DATA_LAST_MOD unless given' })
    .option('role', { choices: allRoles, default: 'responder' as RoleName, describe: 'the role asked for in FCGI_BEGIN_REQUEST' })
    .option('keep-conn', { type: 'boolean', default: false, describe: 'set FCGI_KEEP_CONN (we close the connection after the request)' })
    .option('include', { alias: 'i', type: 'boolean', default: false, describe: 'print stdout as is, CGI headers included' })
    .option('raw', { type: 'boolean', default: false, describe: 'print every record sent (→) and received (←) with its time, instead of the body' })
    .option('timeout', { type: 'number', default: 30_000, describe: 'connect timeout, and how long the application may stay silent, in ms' })
    .example('$0 request 127.0.0.1:9000 -p SCRIPT_FILENAME=/srv/www/index.php -p REQUEST_METHOD=GET', 'ask php-fpm for a page')
    .example('$0 request unix:/run/app.sock --raw --stdin body.json -p REQUEST_METHOD=POST', 'show the records of a POST') as unknown as Argv<RequestArgs>;
}

async function handler(argv: ArgumentsCamelCase<RequestArgs>): Promise<void> {
  process.exitCode = await runRequest({
    target: argv.target,
    params: argv.param ?? [],
    ...(argv.stdin === undefined ? {} : { stdin: argv.stdin }),
    ...(argv.data === undefined ? {} : { data: argv.data }),
    role: argv.role,
    keepConn: argv['keep-conn'],
    include: argv.include,
    raw: argv.raw,
    timeoutMs: argv.timeout,
  });
}

/** The `request` command. */
export const requestCommand: CommandModule<object, RequestArgs> = {
  command: 'request <target>',
  describe: 'send one FastCGI request and print the response (a modern cgi-fcgi)',
  builder,
  handler,
};

// Run directly: `node --import tsx harness/commands/request.ts TARGET ...`.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await yargs(hideBin(process.argv))
      .scriptName('fcgispec-request')
      .command({ ...requestCommand, command: '$0 <target>' })
      .strict()
      .fail((msg, err) => {
        process.stderr.write(`fcgispec request: ${err instanceof HarnessError ? err.message : (msg ?? err?.message ?? 'bad usage')}\n`);
        process.exitCode = err instanceof HarnessError && err.code === 'E_CONNECT' ? exitCodes.unreachable : exitCodes.usage;
        // Stop here: yargs would otherwise run the handler after a failed validation.
        throw err ?? new Error(msg);
      })
      .parseAsync();
  } catch {
    // Reported by fail() above.
  }
}
