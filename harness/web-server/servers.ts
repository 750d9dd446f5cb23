/**
 * The real web servers the client suite ships a configuration for: each one started by its peer launcher in
 * front of the backend on loopback, configured for the suite (connections to the backend kept where the
 * server can, backend read timeouts lowered where the launcher lets us, so that `response.stall` ends in
 * seconds, and bodies up to the suite's 10 MiB allowed).
 */
import { startApache } from '../peers/apache.ts';
import { startCaddy } from '../peers/caddy.ts';
import { startH2o } from '../peers/h2o.ts';
import { startLighttpd } from '../peers/lighttpd.ts';
import { startNginx } from '../peers/nginx.ts';
import type { RunningWebServer } from '../peers/peer.ts';

/** The backend read timeout set where the server's launcher can set it, in seconds. */
export const BACKEND_READ_TIMEOUT_S = 4;

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
    description: 'lighttpd mod_fastcgi (its launcher sets no backend timeout: the default applies)',
    start: (backend: string) => startLighttpd({ backend }),
  },
  caddy: {
    description: 'Caddy reverse_proxy with the fastcgi transport (its launcher sets no backend timeout)',
    start: (backend: string) => startCaddy({ backend }),
  },
  h2o: {
    description: 'h2o fastcgi with keep-alive connections (its launcher sets no I/O timeout)',
    start: (backend: string) => startH2o({ backend, keepConn: true }),
  },
} as const satisfies Record<string, { readonly description: string; readonly start: (backend: string) => Promise<RunningWebServer> }>;

/** A server `--server` can start. */
export type ClientSuiteServer = keyof typeof clientSuiteServers;

export function isClientSuiteServer(name: string): name is ClientSuiteServer {
  return Object.hasOwn(clientSuiteServers, name);
}
