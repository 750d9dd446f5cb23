/**
 * `fcgispec bench TARGET`: FastCGI-native load, in the spirit of h2load, that also checks the protocol at the
 * target's limits. Prints requests per second, bytes per second each way, latency percentiles, errors by
 * kind, protocolStatus counts, and conformance under load: every response judged on the wire by the suite's
 * validator, violations counted with a sample transcript. A live progress line on a TTY.
 *
 * Exit codes: 0 done without a violation, 1 a violation (or no request completed), 2 bad usage (`-m` above 1
 * against a target that does not claim FCGI_MPXS_CONNS included), 3 target unreachable.
 *
 * Also runnable on its own: `node --import tsx harness/commands/bench.ts TARGET ...`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import yargs, { type ArgumentsCamelCase, type Argv, type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { probeActions } from '../../reference/probe/model.ts';
import { writeJson } from '../../reports/json.ts';
import { HarnessError, exitCodes, usageError } from '../errors.ts';
import { runLoad, type LoadOptions, type LoadProgress, type LoadResult } from '../bench/load/runner.ts';
import { benchReport, formatLoadResult, formatMs } from '../bench/load/report.ts';
import { engineNames, type EngineName } from '../bench/load/engine.ts';
import { defaultCgiParams } from './app.ts';
import { toolVersion } from './options.ts';

/** Options of `runBench`, the programmatic form of the command. */
export interface BenchCommandOptions {
  readonly target: string;
  /** `NAME=VALUE`, in order; they override the CGI defaults. */
  readonly params?: readonly string[];
  /** A file sent as FCGI_STDIN of every request (CONTENT_LENGTH is set from its size unless given). */
  readonly stdin?: string;
  readonly connections?: number;
  readonly perConnection?: number;
  readonly requests?: number;
  /** `-D`: `10s`, `500ms`, `2m`, or seconds. */
  readonly duration?: string;
  readonly warmup?: string;
  readonly rate?: number;
  readonly keepConn?: boolean;
  readonly probe?: boolean;
  /** Sets PROBE_ACTION. */
  readonly probeAction?: string;
  /** Adds the usual CGI/1.1 variables (default true). */
  readonly cgiDefaults?: boolean;
  readonly validate?: boolean;
  readonly timeoutMs?: number;
  /** Writes the run as a JSON report (bench section + conformance scenario). */
  readonly json?: string;
  /** Target name in the report (default: its address, as `fcgispec app` names it). */
  readonly name?: string;
  /** `wire` (default) or `client` (the reference client's pool drives the load). */
  readonly engine?: EngineName;
  /** Live progress on stderr: `auto` (default) when stderr is a TTY. */
  readonly progress?: boolean | 'auto';
}

/** Where the command writes. */
export interface BenchIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stderrIsTty: boolean;
  readonly signal?: AbortSignal;
}

const processIo: BenchIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  stderrIsTty: process.stderr.isTTY === true,
};

/** Milliseconds of a duration written `10s`, `250ms`, `1.5m`, or a bare number of seconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m)?\s*$/.exec(text);
  if (!m) throw usageError(`${flag} ${JSON.stringify(text)}: expected a duration such as 10s, 500ms or 2m`);
  const n = Number(m[1]);
  return n * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
}

function parseParams(list: readonly string[]): [string, string][] {
  return list.map((text) => {
    const eq = text.indexOf('=');
    if (eq <= 0) throw usageError(`--param ${JSON.stringify(text)}: expected NAME=VALUE`);
    return [text.slice(0, eq), text.slice(eq + 1)];
  });
}

function progressLine(p: LoadProgress): string {
  const when = p.phase === 'warmup' ? `warm-up ${formatMs(-p.elapsedMs)} left` : p.phase === 'drain' ? 'finishing' : formatMs(p.elapsedMs);
  return `${when}: ${p.requests} requests, ${p.recentRps.toFixed(0)} req/s, p99 ${formatMs(p.p99Ms)}, ${p.errors} errors, ${p.violations} violations`;
}

/** The load options the command line asks for. Throws `HarnessError` E_USAGE. */
export function loadOptionsOf(o: BenchCommandOptions): LoadOptions {
  if (typeof o.target !== 'string' || o.target === '') throw usageError('name the application: tcp:HOST:PORT, HOST:PORT or unix:PATH');
  if (o.probeAction !== undefined && !(probeActions as readonly string[]).includes(o.probeAction)) {
    throw usageError(`--probe-action ${JSON.stringify(o.probeAction)}: known actions are ${probeActions.join(', ')}`);
  }
  const given = parseParams(o.params ?? []);
  let stdin: Uint8Array | undefined;
  if (o.stdin !== undefined) {
    try {
      stdin = readFileSync(o.stdin);
    } catch (err) {
      throw usageError(`--stdin ${o.stdin}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  const has = (name: string): boolean => given.some(([n]) => n === name);
  const params: [string, string][] = [];
  if (o.cgiDefaults !== false) for (const [n, v] of Object.entries(defaultCgiParams)) if (!has(n)) params.push([n, v]);
  if (o.probeAction !== undefined && !has('PROBE_ACTION')) params.push(['PROBE_ACTION', o.probeAction]);
  if (stdin && !has('CONTENT_LENGTH')) params.push(['CONTENT_LENGTH', String(stdin.length)]);
  params.push(...given);
  return {
    target: o.target,
    params,
    ...(stdin ? { stdin } : {}),
    ...(o.connections === undefined ? {} : { connections: o.connections }),
    ...(o.perConnection === undefined ? {} : { perConnection: o.perConnection }),
    ...(o.requests === undefined ? {} : { requests: o.requests }),
    ...(o.duration === undefined ? {} : { durationMs: parseDuration(o.duration, '-D') }),
    ...(o.warmup === undefined ? {} : { warmupMs: parseDuration(o.warmup, '--warmup') }),
    ...(o.rate === undefined ? {} : { rate: o.rate }),
    ...(o.keepConn === undefined ? {} : { keepConn: o.keepConn }),
    ...(o.probe === undefined ? {} : { probe: o.probe }),
    ...(o.validate === undefined ? {} : { validate: o.validate }),
    ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
    ...(o.engine === undefined ? {} : { engine: o.engine }),
  };
}

/**
 * Runs the load, prints the figures, writes `--json`; resolves to the exit code (0, or 1 for violations or
 * no completed request). Throws `HarnessError`: E_USAGE for bad options, E_CONNECT when unreachable.
 */
export async function runBench(o: BenchCommandOptions, io: BenchIo = processIo): Promise<{ code: number; result: LoadResult }> {
  const load = loadOptionsOf(o);
  const live = o.progress === 'auto' || o.progress === undefined ? io.stderrIsTty : o.progress;
  const startedAt = new Date();
  const result = await runLoad({
    ...load,
    ...(io.signal ? { signal: io.signal } : {}),
    ...(live ? { onProgress: (p: LoadProgress) => io.stderr(`\r\x1b[K${progressLine(p)}`) } : {}),
  });
  if (live) io.stderr('\r\x1b[K');
  io.stdout(`${formatLoadResult(result).join('\n')}\n`);
  if (o.json !== undefined) {
    const text = writeJson(benchReport(result, { version: toolVersion() }, startedAt, o.name ?? result.target));
    try {
      mkdirSync(dirname(o.json), { recursive: true });
      writeFileSync(o.json, text);
    } catch (err) {
      throw new HarnessError('E_REPORT_WRITE', `cannot write ${o.json}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    io.stdout(`report written: ${o.json}\n`);
  }
  const code = result.violationCount > 0 || result.ok === 0 ? exitCodes.findings : exitCodes.ok;
  return { code, result };
}

interface BenchArgs {
  readonly target: string;
  readonly param?: string[];
  readonly stdin?: string;
  readonly c: number;
  readonly m: number;
  readonly n?: number;
  readonly D?: string;
  readonly warmup?: string;
  readonly rate?: number;
  readonly 'keep-conn': boolean;
  readonly probe: boolean;
  readonly 'probe-action'?: string;
  readonly 'cgi-defaults': boolean;
  readonly validate: boolean;
  readonly timeout: number;
  readonly json?: string;
  readonly name?: string;
  readonly engine: EngineName;
}

function builder(y: Argv): Argv<BenchArgs> {
  return y
    .positional('target', { type: 'string', describe: 'the application: tcp:HOST:PORT, HOST:PORT or unix:PATH' })
    .option('param', { alias: 'p', type: 'string', array: true, nargs: 1, describe: 'a param NAME=VALUE of every request, repeatable, in order' })
    .option('stdin', { type: 'string', describe: 'send FILE as FCGI_STDIN of every request (sets CONTENT_LENGTH unless given)' })
    .option('c', { alias: 'connections', type: 'number', default: 1, describe: 'connections at once' })
    .option('m', { alias: 'max-concurrent', type: 'number', default: 1, describe: 'requests at once per connection; above 1 multiplexes, which the target must claim (FCGI_MPXS_CONNS=1)' })
    .option('n', { alias: 'requests', type: 'number', describe: 'measured requests (default 1000 unless -D)' })
    .option('D', { alias: 'duration', type: 'string', describe: 'measure for this long instead: 10s, 500ms, 2m' })
    .option('warmup', { type: 'string', describe: 'load for this long before measuring, not counted' })
    .option('rate', { type: 'number', describe: 'requests per second over all connections (open loop; latency counts from each due time)' })
    .option('keep-conn', { type: 'boolean', default: true, describe: 'set FCGI_KEEP_CONN; --no-keep-conn opens a connection per request' })
    .option('probe', { type: 'boolean', default: false, describe: 'check every answer against the probe contract (the target runs a probe app)' })
    .option('probe-action', { type: 'string', describe: `set PROBE_ACTION (${probeActions.join(', ')}); PROBE_* arguments go in --param` })
    .option('cgi-defaults', { type: 'boolean', default: true, describe: 'add the usual CGI/1.1 variables (REQUEST_METHOD=GET, …); --no-cgi-defaults leaves them out' })
    .option('validate', { type: 'boolean', default: true, describe: 'judge every response on the wire; --no-validate only measures (to see what judging costs)' })
    .option('timeout', { type: 'number', default: 10_000, describe: 'connect timeout, and how long a request may go without a byte, in ms' })
    .option('engine', { choices: engineNames, default: 'wire' as EngineName, describe: 'wire: requests encoded once, answers read from the checked bytes (fast); client: the reference client drives the load' })
    .option('json', { type: 'string', describe: 'write the run as a JSON report (bench section and conformance under load)' })
    .option('name', { type: 'string', describe: 'target name in the report (default: its address, as fcgispec app names it, so report merge joins the two)' })
    .conflicts('n', 'D')
    .example('$0 bench unix:/run/php-fpm.sock -c 8 -D 10s --warmup 2s -p SCRIPT_FILENAME=/srv/www/index.php', 'load php-fpm directly')
    .example('$0 bench unix:/tmp/app.sock -c 4 -m 16 -n 100000 --probe --probe-action echo-param -p PROBE_NAME=X -p X=hi', 'multiplex and check every answer') as unknown as Argv<BenchArgs>;
}

async function handler(argv: ArgumentsCamelCase<BenchArgs>): Promise<void> {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  try {
    const { code } = await runBench(
      {
        target: argv.target,
        params: argv.param ?? [],
        ...(argv.stdin === undefined ? {} : { stdin: argv.stdin }),
        connections: argv.c,
        perConnection: argv.m,
        ...(argv.n === undefined ? {} : { requests: argv.n }),
        ...(argv.D === undefined ? {} : { duration: argv.D }),
        ...(argv.warmup === undefined ? {} : { warmup: argv.warmup }),
        ...(argv.rate === undefined ? {} : { rate: argv.rate }),
        keepConn: argv['keep-conn'],
        probe: argv.probe,
        ...(argv['probe-action'] === undefined ? {} : { probeAction: argv['probe-action'] }),
        cgiDefaults: argv['cgi-defaults'],
        validate: argv.validate,
        timeoutMs: argv.timeout,
        ...(argv.json === undefined ? {} : { json: argv.json }),
        ...(argv.name === undefined ? {} : { name: argv.name }),
        engine: argv.engine,
      },
      { ...processIo, signal: stop.signal },
    );
    process.exitCode = code;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

/** The `bench` command. */
export const benchCommand: CommandModule<object, BenchArgs> = {
  command: 'bench <target>',
  describe: 'FastCGI load against an application, with conformance checked under load (h2load-like)',
  builder,
  handler,
};

// Run directly: `node --import tsx harness/commands/bench.ts TARGET ...`.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await yargs(hideBin(process.argv))
      .scriptName('fcgispec-bench')
      .command({ ...benchCommand, command: '$0 <target>' })
      .strict()
      .fail((msg, err) => {
        process.stderr.write(`fcgispec bench: ${err instanceof HarnessError ? err.message : (msg ?? err?.message ?? 'bad usage')}\n`);
        process.exitCode = err instanceof HarnessError && err.code === 'E_CONNECT' ? exitCodes.unreachable : err instanceof HarnessError && err.code !== 'E_USAGE' ? exitCodes.findings : exitCodes.usage;
        throw err ?? new Error(msg);
      })
      .parseAsync();
  } catch {
    // Reported by fail() above.
  }
}
