/**
 * Whether a real peer can run on this machine, and what to install when it cannot. Interop tests skip a
 * missing peer, unless FCGISPEC_REQUIRE_PEERS is set (CI sets it), where a missing peer fails the test.
 */
import { accessSync, constants } from 'node:fs';
import type { PeerDefinition, RunningPeer } from './peer.ts';
import { peers, type PeerName } from './registry.ts';

/** Whether a peer is installed; when not, what is missing and the command that installs it. */
export type PeerAvailability =
  | { readonly available: true }
  | { readonly available: false; readonly missing: readonly string[]; readonly hint: string };

/** Environment variable that turns a missing peer from a skip into a failure. */
export const requirePeersVariable = 'FCGISPEC_REQUIRE_PEERS';

function present(path: string): boolean {
  try {
    accessSync(path, path.includes('/bin/') || path.includes('/sbin/') ? constants.X_OK : constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** Checks the files a peer needs; the hint reads `missing NAME: apt-get install -y PKG…`. */
export function peerAvailable(name: PeerName): PeerAvailability {
  return checkAvailability(name, peers[name]);
}

/** `peerAvailable` for any definition (registry or not). */
export function checkAvailability(name: string, peer: Pick<PeerDefinition<never, RunningPeer>, 'requires' | 'packages'>): PeerAvailability {
  const missing = peer.requires.filter((path) => !present(path));
  if (missing.length === 0) return { available: true };
  return { available: false, missing, hint: `missing ${name}: apt-get install -y ${peer.packages.join(' ')}` };
}

/** Whether missing peers fail tests (FCGISPEC_REQUIRE_PEERS set to anything but '', '0' or 'false'). */
export function peersRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env[requirePeersVariable];
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

/** The part of a vitest test context `requirePeer` uses. */
export interface SkippableContext {
  readonly skip: (note?: string) => never;
}

/**
 * For tests: returns true when the peer is installed. When it is not, throws (the test fails) if peers are
 * required, else skips the test through `ctx.skip` with the install hint, or, without a context, returns
 * false (for `it.skipIf`).
 */
export function requirePeer(name: PeerName, ctx?: SkippableContext): boolean {
  return requireAvailable(peerAvailable(name), ctx);
}

/** `requirePeer` for an availability already checked; `env` decides whether missing is a failure. */
export function requireAvailable(status: PeerAvailability, ctx?: SkippableContext, env: NodeJS.ProcessEnv = process.env): boolean {
  if (status.available) return true;
  if (peersRequired(env)) throw new Error(`${status.hint} (${requirePeersVariable} is set)`);
  if (ctx) ctx.skip(status.hint);
  return false;
}
