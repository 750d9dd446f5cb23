/**
 * nginx 1.22 as a FastCGI client: in the foreground, one worker, everything it writes inside its run folder,
 * in front of a FastCGI backend we choose (the reference responder, php-fpm, …).
 */
import { writeFileSync } from 'node:fs';
import { formatAddress, parseAddress } from '../../reference/address.ts';
import { createRunFolder, launch, withFreePort } from './process.ts';
import { probeAppsDir, type PeerDefinition, type RunningWebServer } from './peer.ts';

export const nginxBinary = '/usr/sbin/nginx';
export const nginxFastcgiParams = '/etc/nginx/fastcgi_params';

/** How to start nginx in front of a FastCGI backend. */
export interface NginxOptions {
  /** The FastCGI backend: `tcp:HOST:PORT`, `HOST:PORT` or `unix:PATH`. */
  readonly backend: string;
  /** `fastcgi_keep_conn on` with an upstream `keepalive` pool, so nginx sets FCGI_KEEP_CONN. @see §5.1 */
  readonly keepConn?: boolean;
  /** Connections the upstream keepalive pool holds when `keepConn` is on; 4 by default. */
  readonly keepalive?: number;
  /** `root` of the server; the PHP probe apps folder by default. */
  readonly docroot?: string;
  /** A fixed SCRIPT_FILENAME for every request; `$document_root$fastcgi_script_name` by default. */
  readonly scriptFilename?: string;
  /** More `fastcgi_param` lines. Values are nginx strings: `$name` is a variable. */
  readonly params?: Readonly<Record<string, string>>;
  /** More directives for the `location /` block, each a whole directive without its `;`. */
  readonly directives?: readonly string[];
  /** `client_max_body_size`; `64m` by default. */
  readonly clientMaxBodySize?: string;
  readonly startTimeoutMs?: number;
}

// A double-quoted nginx string: backslash and quote escaped; no control characters (they would end the directive).
function quote(value: string): string {
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new Error(`nginx config value cannot hold control characters: ${JSON.stringify(value)}`);
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function upstreamServer(backend: string): string {
  const address = parseAddress(backend);
  if (address.kind === 'unix') return `unix:${address.path}`;
  if (address.kind === 'tcp') return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
  throw new Error(`nginx cannot connect to ${formatAddress(address)}`);
}

/** The nginx.conf for one instance; exported so tests can read what was asked of nginx. */
export function nginxConfig(dir: string, httpPort: number, options: NginxOptions): string {
  const keepConn = options.keepConn ?? false;
  const params = {
    SCRIPT_FILENAME: options.scriptFilename ?? '$document_root$fastcgi_script_name',
    ...options.params,
  };
  const location = [
    `include ${nginxFastcgiParams}`,
    ...Object.entries(params).map(([name, value]) => `fastcgi_param ${name} ${quote(value)}`),
    'fastcgi_pass fcgi_backend',
    ...(keepConn ? ['fastcgi_keep_conn on'] : []),
    ...(options.directives ?? []),
  ];
  return `daemon off;
master_process on;
user root;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;

events {
  worker_connections 256;
}

http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body_temp;
  proxy_temp_path ${dir}/proxy_temp;
  fastcgi_temp_path ${dir}/fastcgi_temp;
  uwsgi_temp_path ${dir}/uwsgi_temp;
  scgi_temp_path ${dir}/scgi_temp;
  client_max_body_size ${options.clientMaxBodySize ?? '64m'};

  upstream fcgi_backend {
    server ${upstreamServer(options.backend)};
${keepConn ? `    keepalive ${options.keepalive ?? 4};\n` : ''}  }

  server {
    listen 127.0.0.1:${httpPort};
    server_name localhost;
    root ${quote(options.docroot ?? probeAppsDir)};

    location / {
${location.map((d) => `      ${d};`).join('\n')}
    }
  }
}
`;
}

/** Starts nginx (`daemon off`, one worker, user root) on a free 127.0.0.1 port in front of `options.backend`. */
export function startNginx(options: NginxOptions): Promise<RunningWebServer> {
  return withFreePort(async (port) => {
    const folder = createRunFolder('nginx');
    const dir = folder.path;
    try {
      writeFileSync(`${dir}/nginx.conf`, nginxConfig(dir, port, options));
    } catch (err) {
      folder.remove();
      throw err;
    }
    const proc = await launch(folder, {
      name: 'nginx',
      command: nginxBinary,
      args: ['-p', `${dir}/`, '-e', `${dir}/error.log`, '-c', `${dir}/nginx.conf`],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
      readyAt: { kind: 'tcp', host: '127.0.0.1', port },
      logFiles: [`${dir}/error.log`],
      ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
    });
    return { url: `http://127.0.0.1:${port}/`, pid: proc.pid, output: proc.output, stop: proc.stop };
  });
}

/** nginx as a registry entry. */
export const nginx = {
  kind: 'web-server',
  packages: ['nginx'],
  requires: [nginxBinary, nginxFastcgiParams],
  start: startNginx,
} as const satisfies PeerDefinition<NginxOptions, RunningWebServer>;
