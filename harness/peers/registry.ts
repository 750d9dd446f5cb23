/**
 * Every real peer the interop tests and the harness can start, by name. Adding a peer: a module with its
 * launcher and a `PeerDefinition`, an entry here, and its packages in packages.txt (a test checks that).
 */
import { apache } from './apache.ts';
import { caddy } from './caddy.ts';
import { fcgiwrap } from './fcgiwrap.ts';
import { goFcgi } from './go-fcgi.ts';
import { h2o } from './h2o.ts';
import { libfcgi } from './libfcgi.ts';
import { lighttpd } from './lighttpd.ts';
import { nginx } from './nginx.ts';
import { nodeFastcgi } from './node-fastcgi.ts';
import { perlFcgi } from './perl-fcgi.ts';
import { phpCgi } from './php-cgi.ts';
import { phpFpm } from './php-fpm.ts';
import { uwsgi } from './uwsgi.ts';
import type { PeerDefinition, RunningApplication, RunningWebServer } from './peer.ts';

export const peers = {
  'php-fpm': phpFpm,
  'php-cgi': phpCgi,
  libfcgi,
  fcgiwrap,
  'go-fcgi': goFcgi,
  'perl-fcgi': perlFcgi,
  'node-fastcgi': nodeFastcgi,
  uwsgi,
  nginx,
  apache,
  lighttpd,
  caddy,
  h2o,
} as const satisfies Record<string, PeerDefinition<never, RunningApplication | RunningWebServer>>;

/** The name of a known real peer. */
export type PeerName = keyof typeof peers;

/** Whether `name` is a known peer. */
export function isPeerName(name: string): name is PeerName {
  return Object.hasOwn(peers, name);
}
