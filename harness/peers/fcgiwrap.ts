/**
 * fcgiwrap 1.1 serving the CGI probe script (probe.cgi, Perl): a FastCGI application that runs the CGI
 * script named by SCRIPT_FILENAME once per request, with `-f` so the script's stderr goes to FCGI_STDERR.
 * @see §3.2, §6.2
 */
import { startListeningApplication } from './application.ts';
import { probeAppsDir, type PeerDefinition, type RunningApplication } from './peer.ts';
import type { ProbeSupport } from './probe-support.ts';

export const fcgiwrapBinary = '/usr/sbin/fcgiwrap';
export const cgiProbeScript = `${probeAppsDir}/probe.cgi`;

/** How to start fcgiwrap. */
export interface FcgiwrapOptions {
  /** `tcp` (a free 127.0.0.1 port, the default) or `unix` (a socket in the run folder, mode 0666). */
  readonly listen?: 'tcp' | 'unix';
  /** Preforked processes (`-c`); 2 by default. Each serves one request at a time. */
  readonly children?: number;
  /** The CGI script requests run; the probe by default. It must be executable. */
  readonly script?: string;
  readonly startTimeoutMs?: number;
}

/** Starts fcgiwrap (`-f -c N -s tcp:…|unix:…`) with PATH as its only environment, so CGI scripts see the params alone. */
export function startFcgiwrap(options: FcgiwrapOptions = {}): Promise<RunningApplication> {
  const script = options.script ?? cgiProbeScript;
  const root = script.slice(0, script.lastIndexOf('/'));
  return startListeningApplication({
    name: 'fcgiwrap',
    listen: options.listen,
    command: (endpoint) => ({
      command: fcgiwrapBinary,
      args: ['-f', '-c', String(options.children ?? 2), '-s', endpoint.kind === 'tcp' ? `tcp:${endpoint.host}:${endpoint.port}` : `unix:${endpoint.path}`],
      env: { PATH: '/usr/bin:/bin' },
    }),
    ready: 'accepts',
    params: { SCRIPT_FILENAME: script, SCRIPT_NAME: script.slice(root.length), DOCUMENT_ROOT: root },
    startTimeoutMs: options.startTimeoutMs,
  });
}

/**
 * A CGI script reads no FCGI_DATA and fcgiwrap does not pass its exit status on (appStatus is 0); the
 * script's stderr reaches FCGI_STDERR unchanged with `-f`. fcgiwrap serves every role as a Responder.
 */
export const fcgiwrapProbeSupport: ProbeSupport = {
  capabilities: { data: false, appStatus: false, stderr: 'exact' },
  roles: ['responder', 'authorizer', 'filter'],
  otherRoles: 'unknown-role',
  notImplemented: {},
};

/** fcgiwrap with the CGI probe as a registry entry. */
export const fcgiwrap = {
  kind: 'application',
  packages: ['fcgiwrap'],
  requires: [fcgiwrapBinary, '/usr/bin/perl'],
  start: startFcgiwrap,
} as const satisfies PeerDefinition<FcgiwrapOptions, RunningApplication>;
