/**
 * The Go probe app on the standard library's net/http/fcgi (`fcgi.Serve(listener, handler)`), built at
 * set-up with `go build` (standard library only) and cached by source hash. It listens itself on TCP or a
 * Unix socket.
 * @see §3.2
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedBuild, runBuildStep, type CachedBuild } from './build-cache.ts';
import { startListeningApplication } from './application.ts';
import { probeAppsDir, type PeerDefinition, type RunningApplication } from './peer.ts';
import type { ProbeSupport } from './probe-support.ts';

export const goBinary = '/usr/bin/go';
export const goProbeSource = `${probeAppsDir}/probe.go`;

/** How to start the Go probe app. */
export interface GoFcgiOptions {
  /** `tcp` (a free 127.0.0.1 port, the default) or `unix` (a socket in the run folder, mode 0666). */
  readonly listen?: 'tcp' | 'unix';
  readonly startTimeoutMs?: number;
}

/**
 * Builds probe.go (once per source version; cached under the system temp dir). The Go build cache and HOME
 * point at a temporary folder removed afterwards; cgo stays on so that Debian's precompiled standard
 * library is used (with CGO_ENABLED=0 the build recompiles it and takes ~20 s instead of ~2 s).
 */
export function buildGoProbe(): Promise<CachedBuild> {
  const source = readFileSync(goProbeSource);
  return cachedBuild('probe-go', [source, 'go build'], async (dir) => {
    copyFileSync(goProbeSource, `${dir}/probe.go`);
    const home = mkdtempSync(join(tmpdir(), 'fcgispec-gobuild-'));
    try {
      await runBuildStep('Go probe', {
        command: goBinary,
        args: ['build', '-o', 'probe-go', 'probe.go'],
        cwd: dir,
        env: { PATH: '/usr/bin:/bin', HOME: home, GOCACHE: `${home}/cache`, GOPATH: `${home}/gopath`, GO111MODULE: 'off', GOFLAGS: '', LANG: 'C' },
      });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
}

/** Builds the Go probe if needed and starts it listening on TCP or a Unix socket. */
export async function startGoFcgi(options: GoFcgiOptions = {}): Promise<RunningApplication> {
  const { dir: build } = await buildGoProbe();
  return startListeningApplication({
    name: 'go-fcgi',
    listen: options.listen,
    command: (endpoint) => ({
      command: `${build}/probe-go`,
      args: [endpoint.kind === 'tcp' ? `tcp:${endpoint.host}:${endpoint.port}` : `unix:${endpoint.path}`],
      env: { PATH: '/usr/bin:/bin', LANG: 'C' },
    }),
    ready: 'answers',
    // net/http answers 500 by itself (and writes the reason to FCGI_STDERR) without a valid SERVER_PROTOCOL.
    params: { SERVER_PROTOCOL: 'HTTP/1.1' },
    startTimeoutMs: options.startTimeoutMs,
  });
}

/** Go serves the Responder role only, and has no FCGI_STDERR, appStatus or FCGI_DATA. */
export const goFcgiProbeSupport: ProbeSupport = {
  capabilities: { data: false, appStatus: false, stderr: 'exact' },
  roles: ['responder'],
  otherRoles: 'unknown-role',
  notImplemented: { stderr: 'net/http/fcgi has no way to write FCGI_STDERR' },
  hiddenParams: {
    names: ['CONTENT_LENGTH', 'CONTENT_TYPE', 'HTTPS', 'PATH_INFO', 'QUERY_STRING', 'REMOTE_ADDR', 'REMOTE_HOST', 'REMOTE_PORT', 'REQUEST_METHOD', 'REQUEST_URI', 'SCRIPT_NAME', 'SERVER_PROTOCOL'],
    prefixes: ['HTTP_'],
    why: 'net/http/fcgi maps them into the http.Request and leaves them out of fcgi.ProcessEnv',
  },
};

/** The Go probe on net/http/fcgi as a registry entry. */
export const goFcgi = {
  kind: 'application',
  packages: ['golang-go', 'gcc'],
  requires: [goBinary, '/usr/bin/gcc'],
  start: startGoFcgi,
} as const satisfies PeerDefinition<GoFcgiOptions, RunningApplication>;
