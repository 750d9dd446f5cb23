/**
 * The Perl probe app on Perl's FCGI module 0.82 (libfcgi-perl, on libfcgi): `FCGI::OpenSocket` and an
 * `FCGI::Request` loop, listening on TCP or a Unix socket itself.
 * @see §3.2
 */
import { startListeningApplication } from './application.ts';
import { probeAppsDir, type PeerDefinition, type RunningApplication } from './peer.ts';
import type { ProbeSupport } from './probe-support.ts';

export const perlBinary = '/usr/bin/perl';
export const perlProbeScript = `${probeAppsDir}/probe.pl`;
// Debian 12 installs FCGI.pm for Perl 5.36 under the multiarch triplet.
const triplet = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
export const perlFcgiModule = `/usr/lib/${triplet}/perl5/5.36/FCGI.pm`;

/** How to start the Perl probe app. */
export interface PerlFcgiOptions {
  /** `tcp` (a free 127.0.0.1 port, the default) or `unix` (a socket in the run folder, mode 0666). */
  readonly listen?: 'tcp' | 'unix';
  /** Processes accepting on the socket (PROBE_CHILDREN); 2 by default. Each serves one request at a time. */
  readonly children?: number;
  readonly startTimeoutMs?: number;
}

/** Starts probe.pl listening on TCP or a Unix socket. */
export function startPerlFcgi(options: PerlFcgiOptions = {}): Promise<RunningApplication> {
  return startListeningApplication({
    name: 'perl-fcgi',
    listen: options.listen,
    command: (endpoint) => ({
      command: perlBinary,
      args: [perlProbeScript, endpoint.kind === 'tcp' ? `${endpoint.host}:${endpoint.port}` : endpoint.path],
      env: { PATH: '/usr/bin:/bin', LANG: 'C', PROBE_CHILDREN: String(options.children ?? 2) },
    }),
    ready: 'accepts',
    params: {},
    startTimeoutMs: options.startTimeoutMs,
  });
}

/** FCGI.pm passes every role and has an error stream and StartFilterData, but no way to set appStatus. */
export const perlFcgiProbeSupport: ProbeSupport = {
  capabilities: { data: true, appStatus: false, stderr: 'exact' },
  roles: ['responder', 'authorizer', 'filter'],
  otherRoles: 'unknown-role',
  notImplemented: {},
};

/** The Perl probe on FCGI.pm as a registry entry. */
export const perlFcgi = {
  kind: 'application',
  packages: ['libfcgi-perl'],
  requires: [perlBinary, perlFcgiModule],
  start: startPerlFcgi,
} as const satisfies PeerDefinition<PerlFcgiOptions, RunningApplication>;
