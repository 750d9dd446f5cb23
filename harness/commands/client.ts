/**
 * `fcgispec client --listen ADDR --trigger URL`: runs the web-server conformance suite against a FastCGI
 * client (nginx, Apache mod_proxy_fcgi, lighttpd, Caddy, h2o, …). The harness runs the instrumented backend at
 * ADDR; the web server under test passes every request under URL to it. `--exec "CMD"` starts the web server
 * and stops it afterwards; `--server NAME` starts one of the shipped configurations instead.
 * @see §5 §6
 */
import { randomInt } from 'node:crypto';
import { basename } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { AddressError, parseAddress } from '../../reference/address.ts';
import { buildReport, type Catalog } from '../../reports/summarize.ts';
import { requirements } from '../../spec/requirements.ts';
import type { WebServerScenario } from '../../suites/web-server/define.ts';
import { webServerScenarios } from '../../suites/web-server/index.ts';
import { ConsoleProgress, type ConsoleStream } from '../console.ts';
import { makeTimeouts } from '../context.ts';
import { HarnessError, exitCodes } from '../errors.ts';
import { createRunFolder, launch } from '../peers/process.ts';
import { exitCodeOf, selectScenarios } from '../runner.ts';
import { splitCommand } from '../target.ts';
import { startBackend, type Backend } from '../web-server/backend.ts';
import { runClientScenarios, sanityRequest, type SanityOutcome } from '../web-server/runner.ts';
import { clientSuiteServers, isClientSuiteServer } from '../web-server/servers.ts';
import {
  checkSuiteFlags,
  pick,
  publishReport,
  readExpectations,
  reportOutputs,
  selectedScenarios,
  suiteFlagOptions,
  suiteFlagsFrom,
  toolVersion,
  usage,
  writeTextFile,
  type SuiteArgv,
  type SuiteFlags,
} from './options.ts';

/** The options of `fcgispec client`, parsed. */
export interface ClientOptions extends SuiteFlags {
  /** Where the backend listens: `tcp:HOST:PORT`, `HOST:PORT` or `unix:PATH`. */
  readonly listen?: string;
  /** The URL under which the web server passes requests to the backend. */
  readonly trigger?: string;
  /** A command that starts the web server (in the foreground); stopped after the run. */
  readonly exec?: string;
  /** Start a shipped configuration of this web server instead (nginx, apache, lighttpd, caddy, h2o). */
  readonly server?: string;
  /** Claim FCGI_MPXS_CONNS=1 (default true). */
  readonly mpx?: boolean;
}

/** Where the command writes; tests pass their own (and may narrow the scenarios). */
export interface ClientIo {
  readonly stdout: ConsoleStream;
  readonly scenarios?: readonly WebServerScenario[];
}

/** The catalog the client suite grades and reports with: the requirement catalog. */
export const clientCatalog: Catalog = requirements;

/** One `--list` entry. */
export interface ClientScenarioListing {
  readonly id: string;
  readonly title: string;
  readonly requirements: readonly string[];
  readonly faults: readonly string[];
}

/** The `--list` entries. */
export function listClientScenarios(scenarios: readonly WebServerScenario[]): ClientScenarioListing[] {
  return scenarios.map((s) => ({ id: s.id, title: s.title, requirements: [...s.requirements], faults: (s.faults ?? []).map((f) => (f.arg === undefined ? f.name : `${f.name}=${f.arg}`)) }));
}

function parseTrigger(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usage(`--trigger ${JSON.stringify(text)}: expected an http:// URL`);
  }
  if (url.protocol !== 'http:') throw usage(`--trigger ${text}: only http:// URLs are supported`);
  return url;
}

/** A web server the command started, and how to stop it. */
interface Started {
  readonly trigger: URL;
  readonly description: string;
  exited(): string | undefined;
  output(): string;
  stop(): Promise<void>;
}

async function startServer(o: ClientOptions, backend: Backend, trigger: URL | undefined): Promise<Started | undefined> {
  if (o.server !== undefined) {
    const preset = clientSuiteServers[o.server as keyof typeof clientSuiteServers];
    try {
      const running = await preset.start(backend.address);
      return { trigger: new URL(running.url), description: preset.description, exited: () => undefined, output: running.output, stop: running.stop };
    } catch (err) {
      throw new HarnessError('E_CONNECT', `cannot start ${o.server}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, { cause: err });
    }
  }
  if (o.exec === undefined || trigger === undefined) return undefined;
  const words = splitCommand(o.exec);
  if (words.length === 0) throw usage('--exec needs a command');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env['FCGISPEC_LISTEN'] = backend.address;
  try {
    const proc = await launch(createRunFolder('client-exec'), {
      name: basename(words[0]!),
      command: words[0]!,
      args: words.slice(1),
      env,
      cwd: process.cwd(),
      readyAt: { kind: 'tcp', host: trigger.hostname.replace(/^\[|\]$/g, ''), port: trigger.port === '' ? 80 : Number(trigger.port) },
      stopGraceMs: 3000,
    });
    return { trigger, description: o.exec, exited: () => proc.exitStatus, output: () => proc.output(), stop: proc.stop };
  } catch (err) {
    throw new HarnessError('E_CONNECT', `--exec did not start a web server answering at ${trigger.host}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, { cause: err });
  }
}

/** Runs `fcgispec client`; returns the exit code. Usage problems throw E_USAGE, a set-up that does not pass requests E_CONNECT. */
export async function runClient(o: ClientOptions, io: ClientIo = { stdout: process.stdout }): Promise<number> {
  checkSuiteFlags(o);
  const selected = selectedScenarios(io.scenarios ?? webServerScenarios, o, selectScenarios);

  if (o.list) {
    const listing = listClientScenarios(selected);
    if (o.json === '') io.stdout.write(`${JSON.stringify(listing, null, 2)}\n`);
    else if (o.json !== undefined) writeTextFile(o.json, `${JSON.stringify(listing, null, 2)}\n`);
    else for (const s of listing) io.stdout.write(`${s.id}  ${s.title}  [${s.requirements.join(', ')}]${s.faults.length ? ` faults ${s.faults.join(' ')}` : ''}\n`);
    return exitCodes.ok;
  }

  if (o.server !== undefined && !isClientSuiteServer(o.server)) throw usage(`--server ${o.server}: known servers are ${Object.keys(clientSuiteServers).join(', ')}`);
  if (o.server !== undefined && (o.exec !== undefined || o.trigger !== undefined)) throw usage('--server starts its own web server: leave out --exec and --trigger');
  if (o.server === undefined && o.trigger === undefined) throw usage('name the --trigger URL the web server passes to --listen (or --server NAME to start a shipped configuration)');
  if (o.server === undefined && o.listen === undefined) throw usage('name the address to --listen on (tcp:HOST:PORT or unix:PATH), where the web server sends its FastCGI requests');
  const trigger = o.trigger === undefined ? undefined : parseTrigger(o.trigger);
  const listen = o.listen ?? 'tcp:127.0.0.1:0';
  try {
    if (parseAddress(listen).kind === 'fd') throw usage(`--listen ${listen}: the backend listens on TCP or a Unix socket`);
  } catch (err) {
    if (err instanceof AddressError) throw usage(`--listen: ${err.message}`);
    throw err;
  }
  const expectations = o.expect !== undefined ? readExpectations(o.expect) : undefined;
  reportOutputs(o); // a bad report flag is found before anything runs
  const strict = o.strict === true;
  const seed = o.seed ?? randomInt(0, 2 ** 31 - 1);
  const timeouts = makeTimeouts(o.timeoutScale ?? 1);
  const say = (text: string): void => {
    if (!o.quiet) io.stdout.write(text);
  };

  let backend: Backend;
  try {
    backend = await startBackend({ listen, multiplex: o.mpx ?? true });
  } catch (err) {
    throw usage(`cannot listen on ${listen}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let started: Started | undefined;
  try {
    started = await startServer(o, backend, trigger);
    const url = started?.trigger ?? trigger!;
    say(`fcgispec client: backend ${backend.address}, trigger ${url.href}${started ? ` (${started.description})` : ''}, seed ${seed}${strict ? ', strict' : ''}\n`);

    // Before the suite: does a tagged request get through to the backend and back?
    const deadline = performance.now() + timeouts.scale(started ? 5000 : 2000);
    let sanity: SanityOutcome;
    for (;;) {
      sanity = await sanityRequest(backend, url, timeouts.scale(5000));
      if (sanity.ok || sanity.stage === 'tag' || performance.now() > deadline || started?.exited() !== undefined) break;
      await new Promise((r) => setTimeout(r, timeouts.scale(200)));
    }
    if (!sanity.ok) {
      const tail = started?.output().trim().split('\n').slice(-3).join(' | ');
      const message = `the web server at ${url.href} does not pass requests to ${backend.address}: ${sanity.reason}${tail ? `; its output ends: ${tail}` : ''}`;
      throw new HarnessError(sanity.stage === 'tag' ? 'E_USAGE' : 'E_CONNECT', message);
    }

    const startedAt = new Date();
    const t0 = performance.now();
    const progress = new ConsoleProgress({ stream: io.stdout, quiet: o.quiet === true, verbose: o.verbose === true });
    progress.onStart(selected.length);
    const results = await runClientScenarios({
      scenarios: selected,
      backend,
      trigger: url,
      catalog: clientCatalog,
      strict,
      seed,
      timeoutScale: o.timeoutScale ?? 1,
      ...(o.timeout !== undefined ? { timeoutMs: o.timeout } : {}),
      ...(started ? { exited: started.exited } : {}),
      listener: {
        onScenarioStart: (s) => progress.onScenarioStart(s.id),
        onScenarioEnd: (r) => progress.onScenarioEnd(r),
        onNote: (text) => progress.onNote(text),
      },
    });
    const report = buildReport({
      tool: { name: 'fcgispec', version: toolVersion(), suiteVersion: toolVersion() },
      target: {
        name: o.name ?? o.server ?? url.host,
        address: url.href,
        mode: 'client',
        profile: {
          backend: backend.address,
          mpxsConns: o.mpx ?? true,
          ...(started ? { server: started.description } : {}),
          getValues: backend.managementLog().length,
        },
        params: {},
      },
      startedAt: startedAt.toISOString(),
      durationMs: Math.round(performance.now() - t0),
      seed,
      strict,
      results,
      catalog: clientCatalog,
    });
    progress.onEnd(report);
    return publishReport(report, o, expectations, io.stdout, exitCodeOf(results));
  } finally {
    await started?.stop();
    await backend.close();
  }
}

interface ClientArgv extends SuiteArgv {
  listen?: string;
  trigger?: string;
  exec?: string;
  server?: string;
  mpx?: boolean;
}

/** Maps parsed argv to `ClientOptions`, leaving out what was not given. */
export function clientOptionsFrom(argv: ClientArgv): ClientOptions {
  return {
    ...suiteFlagsFrom(argv),
    ...pick<ClientOptions, 'listen'>('listen', argv.listen),
    ...pick<ClientOptions, 'trigger'>('trigger', argv.trigger),
    ...pick<ClientOptions, 'exec'>('exec', argv.exec),
    ...pick<ClientOptions, 'server'>('server', argv.server),
    ...pick<ClientOptions, 'mpx'>('mpx', argv.mpx),
  };
}

function builder(y: Argv<object>): Argv<ClientArgv> {
  return suiteFlagOptions(
    y
      .option('listen', { type: 'string', describe: 'where the backend listens: tcp:HOST:PORT, HOST:PORT or unix:PATH (the web server sends its FastCGI requests here)' })
      .option('trigger', { type: 'string', describe: 'http:// URL under which the web server passes requests to --listen' })
      .option('exec', { type: 'string', describe: 'start the web server with "CMD ARGS" (FCGISPEC_LISTEN holds the backend address) and stop it afterwards' })
      .option('server', { type: 'string', choices: Object.keys(clientSuiteServers), describe: 'start a shipped configuration of this web server in front of the backend' })
      .option('mpx', { type: 'boolean', default: true, describe: 'answer FCGI_MPXS_CONNS=1 and serve concurrent requests per connection (--no-mpx: 0)' }),
  ) as unknown as Argv<ClientArgv>;
}

/** The yargs module of `fcgispec client`. */
export const clientCommand: CommandModule<object, ClientArgv> = {
  command: 'client',
  describe: 'test a web server (FastCGI client) for conformance: the harness is the application behind it',
  builder,
  handler: async (argv) => {
    process.exitCode = await runClient(clientOptionsFrom(argv));
  },
};
