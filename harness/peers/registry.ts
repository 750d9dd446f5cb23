/**
 * Every real peer the interop tests and the harness can start, by name. Adding a peer: a module with its
 * launcher and a `PeerDefinition`, an entry here, and its packages in packages.txt (a test checks that).
 */
import { nginx } from './nginx.ts';
import { phpCgi } from './php-cgi.ts';
import { phpFpm } from './php-fpm.ts';
import type { PeerDefinition, RunningApplication, RunningWebServer } from './peer.ts';

export const peers = {
  'php-fpm': phpFpm,
  'php-cgi': phpCgi,
  nginx,
} as const satisfies Record<string, PeerDefinition<never, RunningApplication | RunningWebServer>>;

/** The name of a known real peer. */
export type PeerName = keyof typeof peers;

/** Whether `name` is a known peer. */
export function isPeerName(name: string): name is PeerName {
  return Object.hasOwn(peers, name);
}
