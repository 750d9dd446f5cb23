/**
 * Apache httpd 2.4 with mod_proxy_fcgi as a FastCGI client: one process in the foreground (`-X`), a
 * ServerRoot config of its own in its run folder, in front of a FastCGI backend we choose. Apache refuses to
 * run as root, so it serves as www-data: a Unix-socket backend must be 0666 in a folder www-data can reach.
 */
import { writeFileSync } from 'node:fs';
import { createRunFolder, launch, withFreePort } from './process.ts';
import { probeAppsDir, type PeerDefinition, type RunningWebServer } from './peer.ts';
import { checkWebServerOptions, parseBackend, type LiteralParams, type WebServerOptions } from './web-server.ts';

export const apacheBinary = '/usr/sbin/apache2';
export const apacheModules = '/usr/lib/apache2/modules';
const modules = ['mpm_event', 'authz_core', 'env', 'proxy', 'proxy_fcgi'] as const;

/** How to start Apache in front of a FastCGI backend. */
export interface ApacheOptions extends WebServerOptions {
  /** `enablereuse=on` on the ProxyPass: connections to the backend are kept and FCGI_KEEP_CONN is set. @see §5.1 */
  readonly keepConn?: boolean;
  /**
   * `ProxyFCGIBackendType`: `GENERIC` (the default here) passes SCRIPT_FILENAME as the path; `FPM`, Apache's
   * own default, passes `proxy:fcgi://…` and leaves the path to php-fpm.
   */
  readonly backendType?: 'GENERIC' | 'FPM';
  /** The user Apache serves as; www-data by default. */
  readonly user?: string;
  /** Seconds before Apache gives up on the backend (`ProxyTimeout`); 30 by default. */
  readonly proxyTimeoutS?: number;
}

// Apache's config tokenizer reads \" inside a quoted word as a quote and keeps other backslashes, so a
// backslash cannot be written unambiguously; `${` would be read as a Define.
const unquotable = /\\|\$\{/;

function quote(value: string): string {
  return `"${value.replace(/"/g, '\\"')}"`;
}

function setEnv(params: LiteralParams, indent: string): string[] {
  return Object.entries(params).map(([name, value]) => `${indent}SetEnv ${name} ${quote(value)}`);
}

/** The apache2.conf for one instance; exported so tests can read what was asked of Apache. */
export function apacheConfig(dir: string, httpPort: number, options: ApacheOptions): string {
  checkWebServerOptions('Apache', options, unquotable);
  const backend = parseBackend(options.backend, 'Apache');
  const docroot = options.docroot ?? probeAppsDir;
  const target =
    backend.kind === 'unix'
      ? `unix:${backend.path}|fcgi://localhost${docroot}/`
      : `fcgi://${backend.host.includes(':') ? `[${backend.host}]` : backend.host}:${backend.port}${docroot}/`;
  const reuse = options.keepConn ? ' enablereuse=on' : ' enablereuse=off';
  const routes = Object.entries(options.routes ?? {}).flatMap(([path, params]) => [`<Location ${quote(path)}>`, ...setEnv(params, '  '), '</Location>']);
  return [
    `ServerRoot ${quote(dir)}`,
    `DefaultRuntimeDir ${quote(dir)}`,
    `PidFile ${quote(`${dir}/apache2.pid`)}`,
    `Mutex file:${dir} default`,
    `ErrorLog ${quote(`${dir}/error.log`)}`,
    'LogLevel info',
    ...modules.map((m) => `LoadModule ${m}_module ${apacheModules}/mod_${m}.so`),
    `User ${options.user ?? 'www-data'}`,
    `Group ${options.user ?? 'www-data'}`,
    `Listen 127.0.0.1:${httpPort}`,
    'ServerName 127.0.0.1',
    `DocumentRoot ${quote(docroot)}`,
    'LimitRequestBody 0',
    `ProxyTimeout ${options.proxyTimeoutS ?? 30}`,
    `ProxyFCGIBackendType ${options.backendType ?? 'GENERIC'}`,
    `ProxyPass "/" ${quote(target)}${reuse}`,
    ...setEnv(options.params ?? {}, ''),
    ...routes,
    '',
  ].join('\n');
}

/** Starts Apache (`-X`: one process, foreground) on a free 127.0.0.1 port in front of `options.backend`. */
export function startApache(options: ApacheOptions): Promise<RunningWebServer> {
  return withFreePort(async (port) => {
    const folder = createRunFolder('apache');
    const dir = folder.path;
    try {
      writeFileSync(`${dir}/apache2.conf`, apacheConfig(dir, port, options));
    } catch (err) {
      folder.remove();
      throw err;
    }
    const proc = await launch(folder, {
      name: 'apache',
      command: apacheBinary,
      args: ['-X', '-d', dir, '-f', `${dir}/apache2.conf`],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
      readyAt: { kind: 'tcp', host: '127.0.0.1', port },
      logFiles: [`${dir}/error.log`],
      // With a request stuck on a kept backend connection Apache may sit on TERM: KILL soon after.
      stopGraceMs: 2_000,
      ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
    });
    return { url: `http://127.0.0.1:${port}/`, pid: proc.pid, output: proc.output, stop: proc.stop };
  });
}

/** Apache as a registry entry. */
export const apache = {
  kind: 'web-server',
  packages: ['apache2'],
  requires: [apacheBinary, ...modules.map((m) => `${apacheModules}/mod_${m}.so`)],
  start: startApache,
} as const satisfies PeerDefinition<ApacheOptions, RunningWebServer>;
