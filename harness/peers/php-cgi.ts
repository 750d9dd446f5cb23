/**
 * php-cgi 8.2 in the classic spawn mode: it is started with a listening socket as fd 0 and switches to
 * FastCGI by itself when fd 0 is a socket.
 * @see §2.2 (FCGI_LISTENSOCK_FILENO), §3.2
 */
import { chmodSync, renameSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { formatAddress, type Address } from '../../reference/address.ts';
import { HarnessError } from '../errors.ts';
import { phpScriptParams } from './php-fpm.ts';
import { createRunFolder, launch, waitUntilAnswering } from './process.ts';
import { probeAppsDir, probeScript, type PeerDefinition, type RunningApplication } from './peer.ts';

export const phpCgiBinary = '/usr/bin/php-cgi8.2';

/** How php-cgi is spawned. */
export interface PhpCgiOptions {
  /** PHP_FCGI_CHILDREN: worker processes forked by php-cgi; 2 by default (0 = the first process serves alone). */
  readonly children?: number;
  /** PHP_FCGI_MAX_REQUESTS: requests per worker before it is replaced; 500 by default. */
  readonly maxRequests?: number;
  /** `tcp` (127.0.0.1, a port the kernel picks; the default) or `unix` (a socket in the run folder, mode 0666). */
  readonly listen?: 'tcp' | 'unix';
  /** The PHP file requests run; the probe app by default. */
  readonly script?: string;
  readonly startTimeoutMs?: number;
}

/** A command line for a spawner that creates the listening socket itself and passes it as fd 0. */
export interface SpawnCommand {
  readonly command: string;
  readonly args: readonly string[];
  /** The child's whole environment. */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * The php-cgi command line for spawn mode: `-n` (no php.ini, so the machine's ini cannot change results) and
 * no cap on request bodies (PHP's default drops bodies over 8 MB before the script sees them).
 */
export function phpCgiSpawnCommand(options: Pick<PhpCgiOptions, 'children' | 'maxRequests'> = {}): SpawnCommand {
  return {
    command: phpCgiBinary,
    args: ['-n', '-d', 'post_max_size=0'],
    env: {
      PATH: '/usr/bin:/bin',
      LANG: 'C',
      PHP_FCGI_CHILDREN: String(options.children ?? 2),
      PHP_FCGI_MAX_REQUESTS: String(options.maxRequests ?? 500),
    },
  };
}

function listen(server: Server, address: Address): Promise<Address> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      const bound = server.address();
      if (address.kind === 'tcp' && typeof bound === 'object' && bound) resolve({ kind: 'tcp', host: bound.address, port: bound.port });
      else resolve(address);
    };
    if (address.kind === 'unix') server.listen({ path: address.path, backlog: 128 }, done);
    else if (address.kind === 'tcp') server.listen({ host: address.host, port: address.port, backlog: 128 }, done);
    else reject(new Error(`cannot listen on ${formatAddress(address)}`));
  });
}

/**
 * Spawns php-cgi with a listening socket (TCP on 127.0.0.1 or Unix) as its fd 0 and returns where it
 * listens. Our own copy of the socket is closed once the child has it, so only php-cgi accepts.
 */
export async function startPhpCgi(options: PhpCgiOptions = {}): Promise<RunningApplication> {
  const folder = createRunFolder('php-cgi');
  const server = createServer();
  let address: Address;
  try {
    if (options.listen === 'unix') {
      // libuv unlinks a Unix server's path when we close our copy; bound under another name and renamed, the
      // socket keeps working for the child under its final name.
      const bound = `${folder.path}/cgi.sock.bind`;
      await listen(server, { kind: 'unix', path: bound });
      address = { kind: 'unix', path: `${folder.path}/cgi.sock` };
      renameSync(bound, address.path);
      chmodSync(address.path, 0o666);
    } else {
      address = await listen(server, { kind: 'tcp', host: '127.0.0.1', port: 0 });
    }
  } catch (err) {
    server.close();
    folder.remove();
    throw new HarnessError('E_SPAWN', `php-cgi: cannot create the listening socket: ${(err as Error).message}`, { cause: err });
  }
  const spawnCommand = phpCgiSpawnCommand(options);
  let proc;
  try {
    proc = await launch(folder, { name: 'php-cgi', ...spawnCommand, listenSocket: server });
  } finally {
    // Only the child may accept from now on (nothing has connected yet: the address is not out).
    server.close();
  }
  // The socket accepted into its backlog from the start; ready means php-cgi itself answers.
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  const problem = await waitUntilAnswering(address, timeoutMs, () => proc.exitStatus);
  if (problem) {
    const text = proc.output();
    await proc.stop();
    throw new HarnessError('E_SPAWN', `php-cgi (${spawnCommand.command}) ${problem}${text ? `; it printed:\n${text}` : ''}`);
  }
  const script = options.script ?? probeScript;
  return {
    address: formatAddress(address),
    params: phpScriptParams(script, script === probeScript ? probeAppsDir : undefined),
    pid: proc.pid,
    output: proc.output,
    stop: proc.stop,
  };
}

/** php-cgi as a registry entry. */
export const phpCgi = {
  kind: 'application',
  packages: ['php8.2-cgi'],
  requires: [phpCgiBinary],
  start: startPhpCgi,
} as const satisfies PeerDefinition<PhpCgiOptions, RunningApplication>;
