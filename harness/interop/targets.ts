/**
 * What the interop run tests, in matrix order: the reference responder first, then every real application
 * peer, each described by how it is started and what it claims (the roles its probe app serves), then the
 * web servers, each started by the client suite in the configuration it ships.
 * @see §6.2 Responder, §6.3 Authorizer, §6.4 Filter
 */
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import { phpCgiSpawnCommand } from '../peers/php-cgi.ts';
import { phpScriptParams } from '../peers/php-fpm.ts';
import { probeAppsDir, probeScript, type RunningApplication } from '../peers/peer.ts';
import { peers, type PeerName } from '../peers/registry.ts';
import type { ClientSuiteServer } from '../web-server/servers.ts';

/** The name of an interop target: the embedded reference, or a registry peer. */
export type InteropName = 'reference' | PeerName;

/** How the suite reaches a started target, as `fcgispec app` options. */
export type AppReach = { readonly target: string } | { readonly spawn: string } | { readonly embedded: true };

/** A target made ready to test: where it is, the params every request needs, how to stop it. */
export interface LaunchedApp {
  readonly reach: AppReach;
  readonly params: Readonly<Record<string, string>>;
  /** The whole environment a spawned target starts with (the harness's own while the suite runs). */
  readonly env?: Readonly<Record<string, string>>;
  /** What the peer printed, for failure messages ('' when the suite starts it itself). */
  output(): string;
  stop(): Promise<void>;
}

/** One column of the matrix: an application tested with `fcgispec app --probe`. */
export interface AppInteropTarget {
  readonly name: InteropName;
  readonly kind: 'app';
  /** The registry peer whose availability decides whether it runs (none for the reference). */
  readonly peer?: PeerName;
  /** Profile file with the roles the probe app serves there; `undefined`: the suite's default (Responder). */
  readonly profile?: string;
  /** The watchdog deadline of every scenario (`fcgispec app --timeout`), where requests are slow to serve. */
  readonly watchdogMs?: number;
  launch(): Promise<LaunchedApp>;
}

/** One column of the web-server matrix: a web server's FastCGI client tested with `fcgispec client --server NAME`. */
export interface ClientInteropTarget {
  readonly name: ClientSuiteServer;
  readonly kind: 'client';
  readonly peer: ClientSuiteServer;
}

/** Any interop target. */
export type InteropTarget = AppInteropTarget | ClientInteropTarget;

function webServer(name: ClientSuiteServer): ClientInteropTarget {
  return { name, kind: 'client', peer: name };
}

/** The profile files: which roles a probe app can play on a peer. */
type ProfileName = 'all-roles' | 'responder-authorizer' | 'responder';

const profilesDir = fileURLToPath(new URL('./profiles/', import.meta.url));
/** Profile path as given to `--profile`: relative to the working directory when inside it, so reports read the same on every checkout. */
function profileFile(name: ProfileName): string {
  const absolute = `${profilesDir}${name}.json`;
  const rel = relative(process.cwd(), absolute);
  return rel.startsWith('..') ? absolute : rel;
}

function fromRunning(app: RunningApplication): LaunchedApp {
  return { reach: { target: app.address }, params: app.params, output: () => app.output(), stop: () => app.stop() };
}

function listening(peer: Exclude<PeerName, 'php-cgi' | 'nginx' | 'apache' | 'lighttpd' | 'caddy' | 'h2o'>, profile: ProfileName, watchdogMs?: number): AppInteropTarget {
  return {
    name: peer,
    kind: 'app',
    peer,
    profile: profileFile(profile),
    ...(watchdogMs === undefined ? {} : { watchdogMs }),
    launch: async () => fromRunning(await peers[peer].start({})),
  };
}

/** Quotes a word for `splitCommand` (the `--spawn` syntax). */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:=,+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * php-cgi's `--spawn` command: the harness binds the socket and hands it over as fd 0, and restarts php-cgi
 * should it die. Its environment is `phpCgiSpawnCommand`'s (set as the harness's own while it runs, so
 * that what a process scenario binds, FCGI_WEB_SERVER_ADDRS, reaches php-cgi too).
 * @see §2.2
 */
export function phpCgiSpawn(): { readonly spawn: string; readonly env: Readonly<Record<string, string>> } {
  const spawn = phpCgiSpawnCommand();
  return { spawn: [spawn.command, ...spawn.args].map(shellWord).join(' '), env: spawn.env };
}

/** Every interop target, in matrix order. */
export const interopTargets: readonly InteropTarget[] = [
  {
    name: 'reference',
    kind: 'app',
    launch: async () => ({ reach: { embedded: true }, params: {}, output: () => '', stop: async () => {} }),
  },
  // PHP and CGI scripts cannot read FCGI_DATA: they play the Authorizer role but cannot be a Filter.
  listening('php-fpm', 'responder-authorizer'),
  {
    name: 'php-cgi',
    kind: 'app',
    peer: 'php-cgi',
    profile: profileFile('responder-authorizer'),
    launch: async () => ({
      reach: { spawn: phpCgiSpawn().spawn },
      env: phpCgiSpawn().env,
      params: phpScriptParams(probeScript, probeAppsDir),
      output: () => '',
      stop: async () => {},
    }),
  },
  // fcgiwrap starts a Perl CGI process per request (30 ms and more on a loaded machine): its endurance
  // scenarios (1000 requests) get more time than the default watchdog gives them.
  listening('fcgiwrap', 'responder-authorizer', 120_000),
  listening('libfcgi', 'all-roles'),
  listening('go-fcgi', 'responder'),
  listening('perl-fcgi', 'all-roles'),
  listening('node-fastcgi', 'all-roles'),
  // uWSGI does not tell the WSGI app the role: it serves every request as a Responder.
  listening('uwsgi', 'responder'),
  // Web servers, each in the configuration the client suite ships for it (harness/web-server/servers.ts).
  webServer('nginx'),
  webServer('apache'),
  webServer('lighttpd'),
  webServer('caddy'),
  webServer('h2o'),
];

/** Names of every interop target. */
export const interopNames: readonly InteropName[] = interopTargets.map((t) => t.name);

/** Whether `name` names an interop target. */
export function isInteropName(name: string): name is InteropName {
  return (interopNames as readonly string[]).includes(name);
}
