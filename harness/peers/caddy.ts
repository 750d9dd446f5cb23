/**
 * Caddy 2 with the reverse_proxy fastcgi transport as a FastCGI client: `caddy run` in the foreground with a
 * Caddyfile in its run folder (admin API and automatic HTTPS off, its data and config homes inside the run
 * folder), in front of a FastCGI backend we choose. Caddy 2.6 opens a backend connection per request.
 */
import { writeFileSync } from 'node:fs';
import { createRunFolder, launch, withFreePort } from './process.ts';
import { probeAppsDir, type PeerDefinition, type RunningWebServer } from './peer.ts';
import { checkWebServerOptions, parseBackend, type LiteralParams, type WebServerOptions } from './web-server.ts';

export const caddyBinary = '/usr/bin/caddy';

/** How to start Caddy in front of a FastCGI backend. */
export interface CaddyOptions extends WebServerOptions {
  /** `split` of the fastcgi transport (e.g. `.php`): where SCRIPT_NAME ends and PATH_INFO begins. */
  readonly split?: string;
  /**
   * `read_timeout` of the fastcgi transport, in milliseconds; unset, Caddy waits without limit. Caddy sets it
   * once, as a deadline for reading the whole response from the moment it connects: not an idle timeout, so
   * it also ends a slow response that is still arriving.
   */
  readonly readTimeoutMs?: number;
  /** `write_timeout` of the fastcgi transport, in milliseconds: a deadline for sending the whole request, likewise. */
  readonly writeTimeoutMs?: number;
}

// A Caddy duration in whole milliseconds.
function duration(name: string, value: number): string {
  if (!Number.isInteger(value) || value < 1) throw new Error(`Caddy ${name} must be a whole number of milliseconds ≥ 1, got ${value}`);
  return `${value}ms`;
}

// Braces start placeholders; the Caddyfile lexer reads \" inside quotes, other backslashes are not portable.
const unquotable = /[\\{}]/;

function quote(value: string): string {
  return `"${value.replace(/"/g, '\\"')}"`;
}

/** The Caddyfile for one instance; exported so tests can read what was asked of Caddy. */
export function caddyfile(dir: string, httpPort: number, options: CaddyOptions): string {
  checkWebServerOptions('Caddy', options, unquotable);
  if (options.split !== undefined && !/^[A-Za-z0-9._-]+$/.test(options.split)) throw new Error(`Caddy split must be a plain suffix: ${JSON.stringify(options.split)}`);
  const backend = parseBackend(options.backend, 'Caddy');
  const upstream = backend.kind === 'unix' ? `unix/${backend.path}` : backend.host.includes(':') ? `[${backend.host}]:${backend.port}` : `${backend.host}:${backend.port}`;
  const proxy = (params: LiteralParams, indent: string): string[] => [
    `${indent}reverse_proxy ${upstream} {`,
    `${indent}  transport fastcgi {`,
    `${indent}    root ${quote(options.docroot ?? probeAppsDir)}`,
    ...(options.split === undefined ? [] : [`${indent}    split ${options.split}`]),
    ...(options.readTimeoutMs === undefined ? [] : [`${indent}    read_timeout ${duration('readTimeoutMs', options.readTimeoutMs)}`]),
    ...(options.writeTimeoutMs === undefined ? [] : [`${indent}    write_timeout ${duration('writeTimeoutMs', options.writeTimeoutMs)}`]),
    ...Object.entries(params).map(([name, value]) => `${indent}    env ${name} ${quote(value)}`),
    `${indent}  }`,
    `${indent}}`,
  ];
  const routes = Object.entries(options.routes ?? {}).flatMap(([path, params], i) => [
    `  @route${i} path ${path} ${path}/*`,
    `  handle @route${i} {`,
    ...proxy({ ...options.params, ...params }, '    '),
    '  }',
  ]);
  return [
    '{',
    '  admin off',
    '  auto_https off',
    `  storage file_system ${quote(`${dir}/data`)}`,
    '}',
    '',
    `http://127.0.0.1:${httpPort} {`,
    ...routes,
    '  handle {',
    ...proxy(options.params ?? {}, '    '),
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Starts Caddy (`caddy run`, foreground) on a free 127.0.0.1 port in front of `options.backend`. */
export function startCaddy(options: CaddyOptions): Promise<RunningWebServer> {
  return withFreePort(async (port) => {
    const folder = createRunFolder('caddy');
    const dir = folder.path;
    try {
      writeFileSync(`${dir}/Caddyfile`, caddyfile(dir, port, options));
    } catch (err) {
      folder.remove();
      throw err;
    }
    const proc = await launch(folder, {
      name: 'caddy',
      command: caddyBinary,
      args: ['run', '--adapter', 'caddyfile', '--config', `${dir}/Caddyfile`],
      env: { PATH: '/usr/bin:/bin', HOME: dir, XDG_DATA_HOME: `${dir}/data`, XDG_CONFIG_HOME: `${dir}/config` },
      readyAt: { kind: 'tcp', host: '127.0.0.1', port },
      ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
    });
    return { url: `http://127.0.0.1:${port}/`, pid: proc.pid, output: proc.output, stop: proc.stop };
  });
}

/** Caddy as a registry entry. */
export const caddy = {
  kind: 'web-server',
  packages: ['caddy'],
  requires: [caddyBinary],
  start: startCaddy,
} as const satisfies PeerDefinition<CaddyOptions, RunningWebServer>;
