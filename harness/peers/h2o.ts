/**
 * h2o 2.2 with its fastcgi handler as a FastCGI client: in the foreground, one thread, everything it writes
 * inside its run folder, in front of a FastCGI backend we choose. Params are passed with `setenv`, which h2o
 * sends as FastCGI params.
 */
import { writeFileSync } from 'node:fs';
import { createRunFolder, launch, withFreePort } from './process.ts';
import { probeAppsDir, type PeerDefinition, type RunningWebServer } from './peer.ts';
import { checkWebServerOptions, parseBackend, type LiteralParams, type WebServerOptions } from './web-server.ts';

export const h2oBinary = '/usr/bin/h2o';

/** How to start h2o in front of a FastCGI backend. */
export interface H2oOptions extends WebServerOptions {
  /** Keep idle backend connections for `keepaliveMs` (`fastcgi.timeout.keepalive`), which sets FCGI_KEEP_CONN. @see §5.1 */
  readonly keepConn?: boolean;
  /** How long an idle kept connection lives; 10 000 ms by default. */
  readonly keepaliveMs?: number;
  /**
   * `fastcgi.timeout.io`: milliseconds h2o waits for the backend to read or write before it gives up on the
   * request; unset, h2o's default (30 000) applies.
   */
  readonly ioTimeoutMs?: number;
  /** The user h2o serves as; root by default (so it reaches sockets anywhere). */
  readonly user?: string;
}

// Every value is written as a JSON string, which YAML reads as a double-quoted scalar: nothing is unquotable.
const unquotable = /(?!)/;
const json = (value: string): string => JSON.stringify(value);

// A timeout as an h2o integer of milliseconds, at least 1.
function milliseconds(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`h2o ${name} must be a whole number of milliseconds ≥ 1, got ${value}`);
  return value;
}

/** The h2o.conf for one instance; exported so tests can read what was asked of h2o. */
export function h2oConfig(dir: string, httpPort: number, options: H2oOptions): string {
  checkWebServerOptions('h2o', options, unquotable);
  const backend = parseBackend(options.backend, 'h2o');
  const connect =
    backend.kind === 'unix' ? `{ port: ${json(backend.path)}, type: unix }` : `{ host: ${json(backend.host)}, port: ${backend.port}, type: tcp }`;
  const handler = (params: LiteralParams): string[] => [
    ...(Object.keys(params).length > 0 ? [`        setenv: { ${Object.entries(params).map(([n, v]) => `${n}: ${json(v)}`).join(', ')} }`] : []),
    `        fastcgi.connect: ${connect}`,
  ];
  // h2o picks the longest matching path; `/` is the fallback.
  const paths = [
    ...Object.entries(options.routes ?? {}).flatMap(([path, params]) => [`      ${json(path)}:`, ...handler({ ...options.params, ...params })]),
    '      "/":',
    ...handler(options.params ?? {}),
  ];
  return [
    `user: ${json(options.user ?? 'root')}`,
    `pid-file: ${json(`${dir}/h2o.pid`)}`,
    `error-log: ${json(`${dir}/error.log`)}`,
    'num-threads: 1',
    'listen:',
    '  host: 127.0.0.1',
    `  port: ${httpPort}`,
    `fastcgi.document_root: ${json(options.docroot ?? probeAppsDir)}`,
    `fastcgi.timeout.keepalive: ${options.keepConn ? (options.keepaliveMs ?? 10_000) : 0}`,
    ...(options.ioTimeoutMs === undefined ? [] : [`fastcgi.timeout.io: ${milliseconds('ioTimeoutMs', options.ioTimeoutMs)}`]),
    'limit-request-body: 1073741824',
    'hosts:',
    `  "127.0.0.1:${httpPort}":`,
    '    paths:',
    ...paths,
    '',
  ].join('\n');
}

/** Starts h2o (foreground, one thread) on a free 127.0.0.1 port in front of `options.backend`. */
export function startH2o(options: H2oOptions): Promise<RunningWebServer> {
  return withFreePort(async (port) => {
    const folder = createRunFolder('h2o');
    const dir = folder.path;
    try {
      writeFileSync(`${dir}/h2o.conf`, h2oConfig(dir, port, options));
    } catch (err) {
      folder.remove();
      throw err;
    }
    const proc = await launch(folder, {
      name: 'h2o',
      command: h2oBinary,
      args: ['-c', `${dir}/h2o.conf`],
      env: { PATH: '/usr/bin:/bin', LANG: 'C' },
      readyAt: { kind: 'tcp', host: '127.0.0.1', port },
      logFiles: [`${dir}/error.log`],
      // On TERM h2o waits about 4 s for idle HTTP keep-alive connections to close: KILL instead of waiting.
      stopGraceMs: 500,
      ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
    });
    return { url: `http://127.0.0.1:${port}/`, pid: proc.pid, output: proc.output, stop: proc.stop };
  });
}

/** h2o as a registry entry. */
export const h2o = {
  kind: 'web-server',
  packages: ['h2o'],
  requires: [h2oBinary],
  start: startH2o,
} as const satisfies PeerDefinition<H2oOptions, RunningWebServer>;
