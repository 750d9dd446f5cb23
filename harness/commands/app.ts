/**
 * `fcgispec app TARGET`: runs the application conformance suite against a FastCGI application at an address,
 * spawned with a listening socket as fd 0 (`--spawn`), or the reference responder in-process (`--embedded`).
 * @see §2.2 §3.2
 */
import { randomInt } from 'node:crypto';
import { basename } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { AddressError, formatAddress, parseAddress } from '../../reference/address.ts';
import { buildReport } from '../../reports/summarize.ts';
import { requirements } from '../../spec/requirements.ts';
import type { Scenario } from '../../suites/define.ts';
import { appScenarios } from '../../suites/index.ts';
import { makeTimeouts } from '../context.ts';
import { HarnessError, exitCodes } from '../errors.ts';
import { awaitServing, unreachableError } from '../liveness.ts';
import { loadProfile, proposeProfile, queryGetValues, type GetValuesAnswer, type ProfileClaims } from '../profile.ts';
import { exitCodeOf, runScenarios, selectScenarios, targetAddress, type RunListener } from '../runner.ts';
import { NetworkTarget, SpawnTarget, splitCommand, type Target } from '../target.ts';
import { embeddedTarget } from '../embedded.ts';
import { ConsoleProgress, type ConsoleStream } from '../console.ts';
import {
  checkNumber,
  checkSuiteFlags,
  parseParams,
  pick as pickOption,
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

export { parseParams, reportOutputs, writeReports } from './options.ts';

/** The options of `fcgispec app`, parsed and checked. */
export interface AppOptions extends SuiteFlags {
  /** `tcp:HOST:PORT`, `HOST:PORT` or `unix:PATH`. */
  readonly target?: string;
  /** `--spawn "CMD ARGS"`. */
  readonly spawn?: string;
  readonly spawnUnix?: boolean;
  readonly embedded?: boolean;
  /** Add `defaultCgiParams` to every request; default: true, except with `--embedded`. */
  readonly cgiDefaults?: boolean;
  readonly params?: readonly string[];
  readonly probe?: boolean;
  readonly profile?: string;
  readonly concurrency?: number;
  /** Also the flag of `--list --json` (empty string: print JSON). */
  readonly json?: string;
}

/** Where the command writes (progress, summary, `--list`); tests pass their own. */
export interface AppIo {
  readonly stdout: ConsoleStream;
  /** The scenarios to choose from (default: every application scenario). */
  readonly scenarios?: readonly Scenario[];
}

const defaultIo: AppIo = { stdout: process.stdout };

/** One line of `--list`: what a tool needs to run one scenario per test. */
export interface ScenarioListing {
  readonly id: string;
  readonly title: string;
  readonly group: string;
  readonly requirements: readonly string[];
  readonly needs: Readonly<Record<string, unknown>>;
  readonly hostile: boolean;
}

/** The `--list` entries of scenarios. */
export function listScenarios(scenarios: readonly Scenario[]): ScenarioListing[] {
  return scenarios.map((s) => ({
    id: s.id,
    title: s.title,
    group: s.group,
    requirements: [...s.requirements],
    needs: { ...s.needs },
    hostile: s.hostile === true,
  }));
}

/**
 * The CGI/1.1 meta-variables a web server always sends (§6.2: a Responder receives them on FCGI_PARAMS),
 * so that an application is tested on well-formed requests: php-fpm, for one, runs no script without
 * REQUEST_METHOD. `--param` overrides them; `--no-cgi-defaults` leaves them out.
 */
export const defaultCgiParams: Readonly<Record<string, string>> = {
  GATEWAY_INTERFACE: 'CGI/1.1',
  SERVER_SOFTWARE: 'fcgispec',
  SERVER_PROTOCOL: 'HTTP/1.1',
  SERVER_NAME: 'localhost',
  SERVER_PORT: '80',
  REQUEST_METHOD: 'GET',
  QUERY_STRING: '',
  REMOTE_ADDR: '127.0.0.1',
};


/** Runs `fcgispec app`; returns the exit code. Usage problems throw `HarnessError('E_USAGE')`, an absent target `E_CONNECT`. */
export async function runApp(o: AppOptions, io: AppIo = defaultIo): Promise<number> {
  // Everything that can be wrong with the command line is found before anything runs.
  checkSuiteFlags(o);
  checkNumber('concurrency', o.concurrency, { min: 1, integer: true });
  const selected = selectedScenarios(io.scenarios ?? appScenarios, o, selectScenarios);

  if (o.list) {
    const listing = listScenarios(selected);
    if (o.json !== undefined) {
      const text = `${JSON.stringify(listing, null, 2)}\n`;
      if (o.json === '') io.stdout.write(text);
      else writeTextFile(o.json, text);
    } else {
      for (const s of listing) {
        const needs = Object.entries(s.needs).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`);
        io.stdout.write(`${s.id}  ${s.title}  [${s.requirements.join(', ')}]${needs.length ? ` needs ${needs.join(' ')}` : ''}${s.hostile ? ' hostile' : ''}\n`);
      }
    }
    return exitCodes.ok;
  }

  const modes = [o.target !== undefined, o.spawn !== undefined, o.embedded === true].filter(Boolean).length;
  if (modes === 0) throw usage('name a TARGET (tcp:HOST:PORT, HOST:PORT, unix:PATH), --spawn "CMD ARGS" or --embedded');
  if (modes > 1) throw usage('give only one of TARGET, --spawn and --embedded');
  if (o.spawnUnix && o.spawn === undefined) throw usage('--spawn-unix needs --spawn');
  // The reference needs no CGI variables: without them the embedded run also checks a one-pair PARAMS stream.
  const cgiDefaults = o.cgiDefaults ?? o.embedded !== true;
  const baseParams = { ...(cgiDefaults ? defaultCgiParams : {}), ...parseParams(o.params ?? []) };
  // The embedded reference serves all three roles; saying so lets the Authorizer and Filter scenarios run.
  const claims: ProfileClaims =
    o.profile !== undefined ? loadProfile(o.profile) : o.embedded === true ? { roles: ['responder', 'authorizer', 'filter'] } : {};
  const expectations = o.expect !== undefined ? readExpectations(o.expect) : undefined;
  reportOutputs(o); // a bad report flag is found before anything runs
  let target: Target;
  let name = o.name;
  if (o.target !== undefined) {
    try {
      target = new NetworkTarget(parseAddress(o.target));
    } catch (err) {
      if (err instanceof AddressError) throw usage(err.message);
      throw err;
    }
    if (target.address.kind === 'fd') throw usage(`cannot connect to ${o.target}: use --spawn to hand a socket to a command`);
    name ??= formatAddress(target.address);
  } else if (o.spawn !== undefined) {
    const words = splitCommand(o.spawn);
    if (words.length === 0) throw usage('--spawn needs a command');
    target = new SpawnTarget({ command: words[0]!, args: words.slice(1), unix: o.spawnUnix === true });
    name ??= basename(words[0]!);
  } else {
    target = embeddedTarget();
    name ??= 'reference';
  }
  const probe = o.probe === true || o.embedded === true;
  const strict = o.strict === true;
  const seed = o.seed ?? randomInt(0, 2 ** 31 - 1);
  const timeouts = makeTimeouts(o.timeoutScale ?? 1);
  const say = (text: string): void => {
    if (!o.quiet) io.stdout.write(text);
  };

  const stopOnSignal = (): void => {
    void target.stop().finally(() => process.kill(process.pid, 'SIGINT'));
  };
  process.once('SIGINT', stopOnSignal);
  try {
    try {
      await target.start();
    } catch (err) {
      if (err instanceof HarnessError && err.code === 'E_SPAWN') throw new HarnessError('E_CONNECT', `target not started: ${err.message}`, { cause: err });
      throw err;
    }
    say(`fcgispec app: ${target.description}, seed ${seed}${strict ? ', strict' : ''}\n`);

    // Before the suite: is anything there, and does it serve a minimal request?
    const startup = target.restartable ? timeouts.scale(5000) : timeouts.scale(1000);
    const sanity = await awaitServing(
      { address: target.address, baseParams, probe, timeoutMs: timeouts.scale(5000) },
      startup,
      timeouts.scale(200),
      () => target.exited() !== undefined,
    );
    if (!sanity.ok) throw unreachableError(target, sanity.last);

    let answer: GetValuesAnswer | undefined;
    try {
      answer = await queryGetValues(target.address, timeouts.replyMs);
    } catch {
      answer = undefined;
    }
    const profile = proposeProfile(claims, answer, probe);
    say(`profile: roles ${profile.roles.join(', ')}, multiplex ${profile.multiplex}, keepConn ${profile.keepConn}${profile.maxConns ? `, maxConns ${profile.maxConns}` : ''}${profile.maxReqs ? `, maxReqs ${profile.maxReqs}` : ''}, probe ${profile.probe}${o.profile ? ` (from ${o.profile}` : ' (proposed'}${answer?.answered ? ', FCGI_GET_VALUES answered)' : answer ? `, FCGI_GET_VALUES: ${answer.detail ?? 'no answer'})` : ')'}\n`);

    const startedAt = new Date();
    const t0 = performance.now();
    const progress = new ConsoleProgress({ stream: io.stdout, quiet: o.quiet === true, verbose: o.verbose === true });
    progress.onStart(selected.length);
    const results = await runScenarios({
      scenarios: selected,
      target,
      profile,
      baseParams,
      catalog: requirements,
      strict,
      seed,
      timeoutScale: o.timeoutScale ?? 1,
      ...(o.timeout !== undefined ? { timeoutMs: o.timeout } : {}),
      concurrency: o.concurrency ?? 1,
      listener: listenerFor(progress, io.stdout, o.quiet === true),
    });
    const report = buildReport({
      tool: { name: 'fcgispec', version: toolVersion(), suiteVersion: toolVersion() },
      target: {
        name: name ?? 'target',
        address: targetAddress(target),
        mode: 'app',
        profile: {
          ...profile,
          source: o.profile ? `file ${o.profile}` : 'proposed',
          ...(answer ? { getValues: answer.answered ? answer.values : { error: answer.detail ?? 'no answer' } } : {}),
          ...(target.restartable ? { command: target.description } : {}),
        },
        params: baseParams,
      },
      startedAt: startedAt.toISOString(),
      durationMs: Math.round(performance.now() - t0),
      seed,
      strict,
      results,
      catalog: requirements,
    });
    progress.onEnd(report);
    return publishReport(report, o, expectations, io.stdout, exitCodeOf(results));
  } finally {
    process.off('SIGINT', stopOnSignal);
    await target.stop();
  }
}

// The runner's events to the console; notes (restarts, a target that went down) get a line of their own.
function listenerFor(progress: ConsoleProgress, stream: ConsoleStream, quiet: boolean): RunListener {
  return {
    onScenarioStart: (scenario) => progress.onScenarioStart(scenario.id),
    onScenarioEnd: (result) => progress.onScenarioEnd(result),
    onNote: (text) => {
      if (!quiet) stream.write(`${stream.isTTY ? '\r\x1b[K' : ''}  · ${text.replace(/[\u0000-\u001f\u007f]/g, ' ')}\n`);
    },
  };
}

interface AppArgv extends SuiteArgv {
  target?: string;
  spawn?: string;
  'spawn-unix'?: boolean;
  embedded?: boolean;
  cgiDefaults?: boolean;
  param?: string[];
  probe?: boolean;
  profile?: string;
  concurrency?: number;
}

/** Maps parsed argv to `AppOptions` (leaving out what was not given). */
export function appOptionsFrom(argv: AppArgv): AppOptions {
  const pick = <K extends keyof AppOptions>(key: K, value: AppOptions[K] | undefined): Partial<AppOptions> => pickOption<AppOptions, K>(key, value);
  return {
    ...suiteFlagsFrom(argv),
    ...pick('target', argv.target),
    ...pick('spawn', argv.spawn),
    ...pick('spawnUnix', argv['spawn-unix']),
    ...pick('embedded', argv.embedded),
    ...pick('cgiDefaults', argv.cgiDefaults),
    ...pick('params', argv.param?.map(String)),
    ...pick('probe', argv.probe),
    ...pick('profile', argv.profile),
    ...pick('concurrency', argv.concurrency),
  };
}

function builder(y: Argv<object>): Argv<AppArgv> {
  return suiteFlagOptions(
    y
      .positional('target', { type: 'string', describe: 'tcp:HOST:PORT, HOST:PORT or unix:PATH' })
      .option('spawn', { type: 'string', describe: 'start "CMD ARGS" with a listening socket as fd 0 (restarted when it dies)' })
      .option('spawn-unix', { type: 'boolean', describe: 'with --spawn: listen on a Unix socket instead of 127.0.0.1' })
      .option('embedded', { type: 'boolean', describe: 'test the reference responder in-process (implies --probe)' })
      .option('param', { type: 'string', array: true, describe: 'NAME=VALUE added to every request (e.g. SCRIPT_FILENAME)' })
      .option('probe', { type: 'boolean', describe: 'the target implements the probe contract' })
      .option('cgi-defaults', { type: 'boolean', describe: 'add the usual CGI/1.1 variables (REQUEST_METHOD=GET, SERVER_PROTOCOL, …) to every request (default, except with --embedded); --no-cgi-defaults leaves them out' })
      .option('profile', { type: 'string', describe: 'JSON file: roles, multiplex, keepConn, maxConns, maxReqs' })
      .option('concurrency', { type: 'number', describe: 'scenarios in parallel (hostile ones run alone)' }),
  ) as unknown as Argv<AppArgv>;
}

/** The yargs module of `fcgispec app`. */
export const appCommand: CommandModule<object, AppArgv> = {
  command: 'app [target]',
  describe: 'test a FastCGI application (responder) for conformance',
  builder,
  handler: async (argv) => {
    process.exitCode = await runApp(appOptionsFrom(argv));
  },
};
