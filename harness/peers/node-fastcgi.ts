/**
 * The Node.js probe app on node-fastcgi 2, listening on TCP or a Unix socket. node-fastcgi is a
 * devDependency of fcgispec (pinned by the lockfile, installed by `npm ci`), found through NODE_PATH.
 * @see §3.2
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import { startListeningApplication } from './application.ts';
import { probeAppsDir, type PeerDefinition, type RunningApplication } from './peer.ts';
import type { ProbeSupport } from './probe-support.ts';

export const nodeProbeScript = `${probeAppsDir}/probe.cjs`;

// The node_modules folder that holds node-fastcgi, or undefined when `npm ci` did not install it.
function nodeModulesWithNodeFastcgi(): string | undefined {
  try {
    const entry = createRequire(import.meta.url).resolve('node-fastcgi/package.json');
    return dirname(dirname(entry));
  } catch {
    return undefined;
  }
}
const nodeModules = nodeModulesWithNodeFastcgi();
/** A file that exists only when node-fastcgi is installed (what availability checks look for). */
export const nodeFastcgiMarker = nodeModules ? `${nodeModules}/node-fastcgi/package.json` : '/nonexistent/node_modules/node-fastcgi (run npm ci)';

/** How to start the Node.js probe app. */
export interface NodeFastcgiOptions {
  /** `tcp` (a free 127.0.0.1 port, the default) or `unix` (a socket in the run folder, mode 0666). */
  readonly listen?: 'tcp' | 'unix';
  readonly startTimeoutMs?: number;
}

/** Starts probe.cjs with this process's node. */
export async function startNodeFastcgi(options: NodeFastcgiOptions = {}): Promise<RunningApplication> {
  if (!nodeModules || !existsSync(nodeFastcgiMarker)) throw new Error('node-fastcgi is not installed: run npm ci');
  return startListeningApplication({
    name: 'node-fastcgi',
    listen: options.listen,
    command: (endpoint) => ({
      command: process.execPath,
      args: [nodeProbeScript, endpoint.kind === 'tcp' ? `tcp:${endpoint.host}:${endpoint.port}` : `unix:${endpoint.path}`],
      env: { PATH: '/usr/bin:/bin', LANG: 'C', NODE_PATH: nodeModules },
    }),
    ready: 'answers',
    params: {},
    startTimeoutMs: options.startTimeoutMs,
  });
}

/** node-fastcgi passes every role and has data and error streams, but ends every request with appStatus 0. */
export const nodeFastcgiProbeSupport: ProbeSupport = {
  capabilities: { data: true, appStatus: false, stderr: 'exact' },
  roles: ['responder', 'authorizer', 'filter'],
  otherRoles: 'unknown-role',
  notImplemented: {},
};

/** The Node.js probe on node-fastcgi as a registry entry. */
export const nodeFastcgi = {
  kind: 'application',
  // No Debian package: node-fastcgi is a devDependency, installed by `npm ci`.
  packages: [],
  requires: [nodeFastcgiMarker],
  start: startNodeFastcgi,
} as const satisfies PeerDefinition<NodeFastcgiOptions, RunningApplication>;
