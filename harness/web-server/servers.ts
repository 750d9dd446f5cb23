/**
 * The real web servers the client suite ships a configuration for: each one started by its peer launcher in
 * front of the backend on loopback, configured for the suite (connections to the backend kept where the
 * server can, backend timeouts lowered so that `response.stall` ends in seconds by the server's own timeout,
 * and bodies up to the suite's 10 MiB allowed).
 */
import { startApache } from '../peers/apache.ts';
import { startCaddy } from '../peers/caddy.ts';
import { startH2o } from '../peers/h2o.ts';
import { startLighttpd } from '../peers/lighttpd.ts';
import { startNginx } from '../peers/nginx.ts';
import type { RunningWebServer } from '../peers/peer.ts';

/** The backend read timeout set where the server's launcher can set it, in seconds. */
export const BACKEND_READ_TIMEOUT_S = 4;

/** lighttpd checks its backend timeouts once a second and gave up on a stall 2 s after its setting: one less. */
export const LIGHTTPD_TIMEOUT_S = BACKEND_READ_TIMEOUT_S - 1;

/**
 * Caddy's read and write timeouts are deadlines for the whole exchange, counted from its connect, not idle
 * timeouts: they would also end a request that still sends output. So they must outlast the suite's longest
 * live exchange (connection.abort-on-client-close waits 5 s after the HTTP client left, or a close caused by
 * the deadline would pass for an abort) and still end response.stall before the harness's own 8 s bound.
 */
export const CADDY_DEADLINE_MS = 6_500;

/** How each server is put in front of the backend. */
export const clientSuiteServers = {
  nginx: {
    description: `nginx with fastcgi_keep_conn on, fastcgi_read_timeout ${BACKEND_READ_TIMEOUT_S}s`,
    start: (backend: string) =>
      startNginx({
        backend,
        keepConn: true,
        clientMaxBodySize: '64m',
        directives: [`fastcgi_read_timeout ${BACKEND_READ_TIMEOUT_S}s`, `fastcgi_send_timeout ${BACKEND_READ_TIMEOUT_S}s`, 'fastcgi_connect_timeout 2s'],
      }),
  },
  apache: {
    description: `Apache httpd mod_proxy_fcgi with enablereuse=on, ProxyTimeout ${BACKEND_READ_TIMEOUT_S}`,
    start: (backend: string) => startApache({ backend, keepConn: true, proxyTimeoutS: BACKEND_READ_TIMEOUT_S }),
  },
  lighttpd: {
    description: `lighttpd mod_fastcgi with read-timeout and write-timeout ${LIGHTTPD_TIMEOUT_S}`,
    start: (backend: string) => startLighttpd({ backend, readTimeoutS: LIGHTTPD_TIMEOUT_S, writeTimeoutS: LIGHTTPD_TIMEOUT_S }),
  },
  caddy: {
    description: `Caddy reverse_proxy with the fastcgi transport, read_timeout and write_timeout ${CADDY_DEADLINE_MS} ms`,
    start: (backend: string) => startCaddy({ backend, readTimeoutMs: CADDY_DEADLINE_MS, writeTimeoutMs: CADDY_DEADLINE_MS }),
  },
  h2o: {
    description: `h2o fastcgi with keep-alive connections, fastcgi.timeout.io ${BACKEND_READ_TIMEOUT_S * 1000}`,
    start: (backend: string) => startH2o({ backend, keepConn: true, ioTimeoutMs: BACKEND_READ_TIMEOUT_S * 1000 }),
  },
} as const satisfies Record<string, { readonly description: string; readonly start: (backend: string) => Promise<RunningWebServer> }>;

/** A server `--server` can start. */
export type ClientSuiteServer = keyof typeof clientSuiteServers;

export function isClientSuiteServer(name: string): name is ClientSuiteServer {
  return Object.hasOwn(clientSuiteServers, name);
}
