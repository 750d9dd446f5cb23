/**
 * The shape every real-peer launcher shares: a definition (what it is, what installs it, how to start it) and
 * the running instance it returns.
 */
import { fileURLToPath } from 'node:url';

/** `application`: a FastCGI responder we talk to as a client; `web-server`: a FastCGI client we put in front of a backend. */
export type PeerKind = 'application' | 'web-server';

/** One real peer: what it is, what installs it, and how to start an instance. */
export interface PeerDefinition<Options, Instance extends RunningPeer> {
  readonly kind: PeerKind;
  /** Debian packages that install it (also listed in harness/peers/packages.txt, which CI installs). */
  readonly packages: readonly string[];
  /** Absolute paths that must exist (executables and config files it reads) for it to run. */
  readonly requires: readonly string[];
  readonly start: (options: Options) => Promise<Instance>;
}

/** Any running peer instance. */
export interface RunningPeer {
  readonly pid: number;
  /** What the peer printed and logged (bounded), for failure messages. */
  output(): string;
  /** Stops the whole process group and removes the instance's run folder; idempotent. */
  stop(): Promise<void>;
}

/** A running FastCGI application: where to connect and the params it needs to run its script. */
export interface RunningApplication extends RunningPeer {
  /** `tcp:127.0.0.1:P` or `unix:PATH`, as `parseAddress` reads it. */
  readonly address: string;
  /** Params every request needs to reach the script (SCRIPT_FILENAME, …); add the request's own. */
  readonly params: Readonly<Record<string, string>>;
}

/** A running web server whose FastCGI client is under test. */
export interface RunningWebServer extends RunningPeer {
  /** `http://127.0.0.1:H/` */
  readonly url: string;
}

/** The folder of the PHP probe apps served by the PHP peers. */
export const probeAppsDir = fileURLToPath(new URL('./probe-apps/', import.meta.url)).replace(/\/$/, '');
/** The PHP probe app, served by php-fpm and php-cgi by default. */
export const probeScript = `${probeAppsDir}/probe.php`;
