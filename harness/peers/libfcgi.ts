/**
 * The C probe app on libfcgi 2.4 (fcgiapp.h, FCGX_Accept_r), compiled at set-up with gcc and cached by
 * source hash, started by spawn-fcgi in no-fork mode: spawn-fcgi binds the socket and execs the app with it
 * as fd 0 (FCGI_LISTENSOCK_FILENO); the app forks its own workers.
 * @see §2.2, §3.2
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { cachedBuild, runBuildStep, type CachedBuild } from './build-cache.ts';
import { startListeningApplication } from './application.ts';
import { probeAppsDir, type PeerDefinition, type RunningApplication } from './peer.ts';
import type { ProbeSupport } from './probe-support.ts';

export const gccBinary = '/usr/bin/gcc';
export const spawnFcgiBinary = '/usr/bin/spawn-fcgi';
export const libfcgiHeader = '/usr/include/fcgiapp.h';
export const libfcgiProbeSource = `${probeAppsDir}/probe.c`;
const compileFlags = ['-O2', '-Wall', '-Wextra', '-o', 'probe', 'probe.c', '-lfcgi'] as const;

/** How to start the C probe app. */
export interface LibfcgiOptions {
  /** `tcp` (a free 127.0.0.1 port, the default) or `unix` (a socket in the run folder, mode 0666). */
  readonly listen?: 'tcp' | 'unix';
  /** Worker processes accepting on the socket (PROBE_CHILDREN); 2 by default. Each serves one request at a time. */
  readonly children?: number;
  readonly startTimeoutMs?: number;
}

/** Compiles probe.c (once per source version; cached under the system temp dir). */
export function buildLibfcgiProbe(): Promise<CachedBuild> {
  const source = readFileSync(libfcgiProbeSource);
  return cachedBuild('probe-c', [source, compileFlags.join(' ')], async (dir) => {
    copyFileSync(libfcgiProbeSource, `${dir}/probe.c`);
    await runBuildStep('libfcgi probe', { command: gccBinary, args: compileFlags, cwd: dir, env: { PATH: '/usr/bin:/bin', LANG: 'C' } });
  });
}

/** Builds the C probe if needed and starts it under spawn-fcgi (`-n`). */
export async function startLibfcgi(options: LibfcgiOptions = {}): Promise<RunningApplication> {
  const { dir: build } = await buildLibfcgiProbe();
  return startListeningApplication({
    name: 'libfcgi',
    listen: options.listen,
    command: (endpoint) => ({
      command: spawnFcgiBinary,
      args: [
        '-n',
        ...(endpoint.kind === 'tcp' ? ['-a', endpoint.host, '-p', String(endpoint.port)] : ['-s', endpoint.path, '-M', '0666']),
        '--',
        `${build}/probe`,
      ],
      env: { PATH: '/usr/bin:/bin', LANG: 'C', PROBE_CHILDREN: String(options.children ?? 2) },
    }),
    // spawn-fcgi binds before it execs the app, so this only proves the bind: connections made earlier wait
    // in the backlog. (libfcgi does not answer FCGI_GET_VALUES before a request, so 'answers' cannot work.)
    ready: 'accepts',
    params: {},
    startTimeoutMs: options.startTimeoutMs,
  });
}

/** libfcgi passes every role to the app and has FCGX_StartFilterData, FCGX_SetExitStatus and an error stream. */
export const libfcgiProbeSupport: ProbeSupport = {
  capabilities: { data: true, appStatus: true, stderr: 'exact' },
  roles: ['responder', 'authorizer', 'filter'],
  otherRoles: 'unknown-role',
  notImplemented: {},
};

/** The C probe on libfcgi as a registry entry. */
export const libfcgi = {
  kind: 'application',
  packages: ['libfcgi-dev', 'spawn-fcgi', 'gcc'],
  requires: [gccBinary, spawnFcgiBinary, libfcgiHeader],
  start: startLibfcgi,
} as const satisfies PeerDefinition<LibfcgiOptions, RunningApplication>;
