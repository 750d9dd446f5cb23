/**
 * What the application launchers other than the PHP ones share: start a FastCGI application that listens on
 * an address we give it (a free 127.0.0.1 port, or a socket in its run folder), wait until it accepts or
 * answers, and make a Unix socket reachable by web servers running as another user.
 * @see §3.2 (the application accepts on its listening socket)
 */
import { chmodSync } from 'node:fs';
import { formatAddress, type Address } from '../../reference/address.ts';
import { HarnessError } from '../errors.ts';
import { createRunFolder, launch, waitUntilAnswering, withFreePort, type LaunchSpec } from './process.ts';
import type { RunningApplication } from './peer.ts';

/** Where the application listens. */
export type Endpoint = { readonly kind: 'tcp'; readonly host: '127.0.0.1'; readonly port: number } | { readonly kind: 'unix'; readonly path: string };

/** How to start one listening application. */
export interface ListeningApplication {
  /** Peer name, for messages and the run folder. */
  readonly name: string;
  /** `tcp` (a free 127.0.0.1 port; the default) or `unix` (`app.sock` in the run folder). */
  readonly listen?: 'tcp' | 'unix' | undefined;
  /** The command that listens on `endpoint`; `dir` is the run folder. */
  readonly command: (endpoint: Endpoint, dir: string) => Pick<LaunchSpec, 'command' | 'args' | 'env'> & Partial<Pick<LaunchSpec, 'cwd' | 'logFiles'>>;
  /**
   * Ready when the socket `accepts` (the application listens and accepts itself), or when the application
   * `answers` FCGI_GET_VALUES (a spawner bound the socket before the application runs). @see §4.1
   */
  readonly ready: 'accepts' | 'answers';
  /** Params every request needs (SCRIPT_FILENAME, …). */
  readonly params: Readonly<Record<string, string>>;
  readonly startTimeoutMs?: number | undefined;
  readonly stopGraceMs?: number;
}

function toAddress(endpoint: Endpoint): Address {
  return endpoint.kind === 'tcp' ? { kind: 'tcp', host: endpoint.host, port: endpoint.port } : { kind: 'unix', path: endpoint.path };
}

/** Starts a listening application in a run folder of its own; retries on another port when the first was taken. */
export function startListeningApplication(app: ListeningApplication): Promise<RunningApplication> {
  const attempt = async (port: number | undefined): Promise<RunningApplication> => {
    const folder = createRunFolder(app.name);
    const endpoint: Endpoint = port === undefined ? { kind: 'unix', path: `${folder.path}/app.sock` } : { kind: 'tcp', host: '127.0.0.1', port };
    const address = toAddress(endpoint);
    let spec;
    try {
      spec = app.command(endpoint, folder.path);
    } catch (err) {
      folder.remove();
      throw err;
    }
    const timeoutMs = app.startTimeoutMs ?? 10_000;
    const proc = await launch(folder, {
      name: app.name,
      ...spec,
      ...(app.ready === 'accepts' ? { readyAt: address, startTimeoutMs: timeoutMs } : {}),
      ...(app.stopGraceMs === undefined ? {} : { stopGraceMs: app.stopGraceMs }),
    });
    if (app.ready === 'answers') {
      const problem = await waitUntilAnswering(address, timeoutMs, () => proc.exitStatus);
      if (problem) {
        const text = proc.output();
        await proc.stop();
        throw new HarnessError('E_SPAWN', `${app.name} (${spec.command}) ${problem}${text ? `; it printed:\n${text}` : ''}`);
      }
    }
    // Web servers whose workers run as another user (Apache as www-data) must be able to connect.
    if (endpoint.kind === 'unix') chmodSync(endpoint.path, 0o666);
    return { address: formatAddress(address), params: app.params, pid: proc.pid, output: proc.output, stop: proc.stop };
  };
  return app.listen === 'unix' ? attempt(undefined) : withFreePort(attempt);
}
