/**
 * lighttpd 1.4 with mod_fastcgi as a FastCGI client: in the foreground (`-D`), everything it writes inside
 * its run folder, in front of a FastCGI backend we choose. lighttpd opens a backend connection per request
 * and never sets FCGI_KEEP_CONN, so it has no keep-conn option.
 */
import { writeFileSync } from 'node:fs';
import { createRunFolder, launch, withFreePort } from './process.ts';
import { probeAppsDir, type PeerDefinition, type RunningWebServer } from './peer.ts';
import { checkWebServerOptions, parseBackend, type LiteralParams, type WebServerOptions } from './web-server.ts';

export const lighttpdBinary = '/usr/sbin/lighttpd';

/** How to start lighttpd in front of a FastCGI backend. */
export interface LighttpdOptions extends WebServerOptions {
  /**
   * Seconds lighttpd waits for the backend to send something (the host's `read-timeout`, lighttpd 1.4.56 and
   * later); unset, it waits without limit. Idle-based: output that keeps coming keeps the request alive.
   */
  readonly readTimeoutS?: number;
  /** Seconds lighttpd waits for the backend to accept request bytes (`write-timeout`); unset, no limit. */
  readonly writeTimeoutS?: number;
}

// A timeout as a lighttpd integer: whole seconds, at least 1 (0 means "no timeout" to lighttpd).
function seconds(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`lighttpd ${name} must be a whole number of seconds ≥ 1, got ${value}`);
  return value;
}

// lighttpd's config strings take \" for a quote; a backslash before anything else is not portable.
const unquotable = /\\/;

function quote(value: string): string {
  return `"${value.replace(/"/g, '\\"')}"`;
}

function environment(params: LiteralParams): string {
  return `(${Object.entries(params).map(([name, value]) => ` ${quote(name)} => ${quote(value)}`).join(',')} )`;
}

/** The lighttpd.conf for one instance; exported so tests can read what was asked of lighttpd. */
export function lighttpdConfig(dir: string, httpPort: number, options: LighttpdOptions): string {
  checkWebServerOptions('lighttpd', options, unquotable);
  const backend = parseBackend(options.backend, 'lighttpd');
  const where = backend.kind === 'unix' ? `"socket" => ${quote(backend.path)}` : `"host" => ${quote(backend.host)}, "port" => ${backend.port}`;
  const timeouts = [
    ...(options.readTimeoutS === undefined ? [] : [`"read-timeout" => ${seconds('readTimeoutS', options.readTimeoutS)}`]),
    ...(options.writeTimeoutS === undefined ? [] : [`"write-timeout" => ${seconds('writeTimeoutS', options.writeTimeoutS)}`]),
  ];
  const routes = Object.entries(options.routes ?? {}).map(
    ([path, params]) => `$HTTP["url"] =~ ${quote(`^${path.replace(/[.]/g, '[.]')}(/|$)`)} {\n  setenv.add-environment += ${environment(params)}\n}`,
  );
  return [
    `server.document-root = ${quote(options.docroot ?? probeAppsDir)}`,
    `server.bind = "127.0.0.1"`,
    `server.port = ${httpPort}`,
    `server.errorlog = ${quote(`${dir}/error.log`)}`,
    `server.upload-dirs = ( ${quote(dir)} )`,
    `server.modules = ( "mod_setenv", "mod_fastcgi" )`,
    // Bodies are passed to the backend as they arrive, not spooled to a temp file first.
    'server.stream-request-body = 2',
    'server.stream-response-body = 2',
    `setenv.add-environment = ${environment(options.params ?? {})}`,
    `fastcgi.server = ( "/" => ( ( ${[where, '"check-local" => "disable"', ...timeouts].join(', ')} ) ) )`,
    ...routes,
    '',
  ].join('\n');
}

/** Starts lighttpd (`-D`, foreground) on a free 127.0.0.1 port in front of `options.backend`. */
export function startLighttpd(options: LighttpdOptions): Promise<RunningWebServer> {
  return withFreePort(async (port) => {
    const folder = createRunFolder('lighttpd');
    const dir = folder.path;
    try {
      writeFileSync(`${dir}/lighttpd.conf`, lighttpdConfig(dir, port, options));
    } catch (err) {
      folder.remove();
      throw err;
    }
    const proc = await launch(folder, {
      name: 'lighttpd',
      command: lighttpdBinary,
      args: ['-D', '-f', `${dir}/lighttpd.conf`],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
      readyAt: { kind: 'tcp', host: '127.0.0.1', port },
      logFiles: [`${dir}/error.log`],
      ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
    });
    return { url: `http://127.0.0.1:${port}/`, pid: proc.pid, output: proc.output, stop: proc.stop };
  });
}

/** lighttpd as a registry entry. */
export const lighttpd = {
  kind: 'web-server',
  packages: ['lighttpd'],
  requires: [lighttpdBinary],
  start: startLighttpd,
} as const satisfies PeerDefinition<LighttpdOptions, RunningWebServer>;
