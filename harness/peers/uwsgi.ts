/**
 * uWSGI 2.0 with its python3 plugin serving the WSGI probe app (probe_wsgi.py) on a FastCGI socket
 * (`--fastcgi-socket`): a master and worker processes, in the foreground, stopped by TERM (`--die-on-term`).
 * @see §3.2
 */
import { startListeningApplication } from './application.ts';
import { probeAppsDir, type PeerDefinition, type RunningApplication } from './peer.ts';
import type { ProbeSupport } from './probe-support.ts';

export const uwsgiBinary = '/usr/bin/uwsgi';
export const uwsgiPython3Plugin = '/usr/lib/uwsgi/plugins/python3_plugin.so';
export const wsgiProbeApp = `${probeAppsDir}/probe_wsgi.py`;

/** How to start uWSGI. */
export interface UwsgiOptions {
  /** `tcp` (a free 127.0.0.1 port, the default) or `unix` (a socket in the run folder, mode 0666). */
  readonly listen?: 'tcp' | 'unix';
  /** Worker processes; 2 by default. */
  readonly processes?: number;
  /** Threads per worker; 2 by default. */
  readonly threads?: number;
  /**
   * Largest request (params) uWSGI accepts, in bytes (`--buffer-size`); 65535 here. uWSGI's own default is
   * 4096: a request with more params than that is refused.
   */
  readonly bufferSize?: number;
  readonly startTimeoutMs?: number;
}

/** Starts uWSGI with the WSGI probe on a FastCGI socket (TCP or Unix), with a clean environment. */
export function startUwsgi(options: UwsgiOptions = {}): Promise<RunningApplication> {
  return startListeningApplication({
    name: 'uwsgi',
    listen: options.listen,
    command: (endpoint) => ({
      command: uwsgiBinary,
      args: [
        '--plugin',
        'python3',
        '--fastcgi-socket',
        endpoint.kind === 'tcp' ? `${endpoint.host}:${endpoint.port}` : endpoint.path,
        '--chmod-socket=666',
        '--wsgi-file',
        wsgiProbeApp,
        '--master',
        '--die-on-term',
        '--need-app',
        '--strict',
        '--processes',
        String(options.processes ?? 2),
        '--threads',
        String(options.threads ?? 2),
        '--buffer-size',
        String(options.bufferSize ?? 65535),
        '--disable-logging',
        '--ignore-sigpipe',
        '--ignore-write-errors',
        '--disable-write-exception',
      ],
      env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' },
    }),
    ready: 'accepts',
    // uWSGI takes about 1 s to bury its workers on TERM, and loses a TERM that comes while it is still
    // starting them: KILL the group soon rather than wait 5 s.
    stopGraceMs: 1_500,
    params: {},
    startTimeoutMs: options.startTimeoutMs,
  });
}

/**
 * WSGI has no FCGI_DATA and no FCGI_STDERR (wsgi.errors goes to uWSGI's log), and uWSGI always sends
 * appStatus 0. uWSGI does not tell the app the role: every request is served as a Responder.
 */
export const uwsgiProbeSupport: ProbeSupport = {
  capabilities: { data: false, appStatus: false, stderr: 'exact' },
  roles: ['responder'],
  otherRoles: 'as-responder',
  notImplemented: { stderr: "WSGI's wsgi.errors goes to uWSGI's log, not to FCGI_STDERR" },
};

/** uWSGI with the WSGI probe as a registry entry. */
export const uwsgi = {
  kind: 'application',
  packages: ['uwsgi-core', 'uwsgi-plugin-python3'],
  requires: [uwsgiBinary, uwsgiPython3Plugin],
  start: startUwsgi,
} as const satisfies PeerDefinition<UwsgiOptions, RunningApplication>;
