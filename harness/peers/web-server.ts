/**
 * What the web-server launchers other than nginx share: the options every one of them takes (a backend,
 * literal params for every request and per path), and the checks on those params before they are written
 * into a config file.
 */
import { formatAddress, parseAddress } from '../../reference/address.ts';

/** Params as name → literal value (no server variables: each launcher quotes them for its config syntax). */
export type LiteralParams = Readonly<Record<string, string>>;

/** Options every web-server launcher takes. */
export interface WebServerOptions {
  /** The FastCGI backend: `tcp:HOST:PORT`, `HOST:PORT` or `unix:PATH`. */
  readonly backend: string;
  /** Params added to every request. */
  readonly params?: LiteralParams;
  /**
   * More params for requests to one path (the key, e.g. `/status-404`; paths below it may match too,
   * depending on the server). This is how a test asks the probe app for an action over HTTP.
   */
  readonly routes?: Readonly<Record<string, LiteralParams>>;
  /** The document root the server passes on (DOCUMENT_ROOT, SCRIPT_FILENAME); the probe apps folder by default. */
  readonly docroot?: string;
  readonly startTimeoutMs?: number;
}

/** A FastCGI backend, parsed: TCP host and port, or a Unix socket path. */
export type Backend = { readonly kind: 'tcp'; readonly host: string; readonly port: number } | { readonly kind: 'unix'; readonly path: string };

/** Parses `options.backend`; web servers connect over TCP or a Unix socket only. */
export function parseBackend(backend: string, server: string): Backend {
  const address = parseAddress(backend);
  if (address.kind === 'tcp') return { kind: 'tcp', host: address.host, port: address.port };
  if (address.kind === 'unix') return { kind: 'unix', path: address.path };
  throw new Error(`${server} cannot connect to ${formatAddress(address)}`);
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ROUTE = /^\/[A-Za-z0-9._~\/-]*$/;

/**
 * Checks param names (CGI-style identifiers) and values (no control characters, nothing in `forbidden`,
 * which holds what the server's config syntax cannot quote); throws with the offending entry.
 */
export function checkParams(server: string, params: LiteralParams, forbidden: RegExp): void {
  for (const [name, value] of Object.entries(params)) {
    if (!NAME.test(name)) throw new Error(`${server} param name must be an identifier: ${JSON.stringify(name)}`);
    if (/[\u0000-\u001f\u007f]/.test(value)) throw new Error(`${server} param value cannot hold control characters: ${JSON.stringify(value)}`);
    if (forbidden.test(value)) throw new Error(`${server} param value cannot hold ${forbidden.source}: ${JSON.stringify(value)}`);
  }
}

/** Checks a route key: an absolute path of unreserved URL characters. */
export function checkRoute(server: string, path: string): void {
  if (!ROUTE.test(path) || path === '/') throw new Error(`${server} route must be a plain absolute path other than "/": ${JSON.stringify(path)}`);
}

/** Checks every param and route of the options. */
export function checkWebServerOptions(server: string, options: WebServerOptions, forbidden: RegExp): void {
  checkParams(server, options.params ?? {}, forbidden);
  for (const [path, params] of Object.entries(options.routes ?? {})) {
    checkRoute(server, path);
    checkParams(server, params, forbidden);
  }
}
