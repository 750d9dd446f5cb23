/**
 * php-fpm 8.2 with a pool of its own, in the foreground, serving the PHP probe app.
 * @see §3.2 (the application accepts on its listening socket)
 */
import { writeFileSync } from 'node:fs';
import { parseAddress } from '../../reference/address.ts';
import { createRunFolder, launch, withFreePort } from './process.ts';
import { probeAppsDir, probeScript, type PeerDefinition, type RunningApplication } from './peer.ts';

export const phpFpmBinary = '/usr/sbin/php-fpm8.2';

/** How to start php-fpm. */
export interface PhpFpmOptions {
  /** `tcp` (a free 127.0.0.1 port, the default) or `unix` (a socket in the run folder, mode 0666). */
  readonly listen?: 'tcp' | 'unix';
  /** `pm.max_children` of the static pool; 4 by default. */
  readonly maxChildren?: number;
  /** The PHP file requests run; the probe app by default. */
  readonly script?: string;
  /** More pool directives, written as `key = value` lines (e.g. `{ 'pm.max_requests': '10' }`). */
  readonly pool?: Readonly<Record<string, string>>;
  /** Load OPcache (off by default, as `-n` leaves it): a bench wants PHP's own cost per request low. */
  readonly opcache?: boolean;
  readonly startTimeoutMs?: number;
}

// php-fpm's ini-style parser: a value with spaces or specials must be quoted, and a quote cannot be escaped.
function iniValue(value: string): string {
  if (/["\n\r]/.test(value)) throw new Error(`php-fpm config value cannot hold quotes or newlines: ${JSON.stringify(value)}`);
  return /^[A-Za-z0-9_./:-]*$/.test(value) ? value : `"${value}"`;
}

/** The php-fpm.conf for one instance listening on `listen` (`127.0.0.1:P` or a socket path). */
export function phpFpmConfig(dir: string, listen: string, options: PhpFpmOptions = {}): string {
  const pool: Record<string, string> = {
    listen,
    'listen.mode': '0666',
    user: 'root',
    group: 'root',
    pm: 'static',
    'pm.max_children': String(options.maxChildren ?? 4),
    // A request stuck in the probe must not outlive the test.
    request_terminate_timeout: '60s',
    catch_workers_output: 'yes',
    decorate_workers_output: 'no',
    clear_env: 'yes',
    // No cap on request bodies (PHP's default drops bodies over 8 MB before the script sees them).
    'php_admin_value[post_max_size]': '0',
    ...options.pool,
  };
  return [
    '[global]',
    `pid = ${dir}/php-fpm.pid`,
    `error_log = ${dir}/php-fpm.log`,
    'log_level = notice',
    'daemonize = no',
    '',
    '[probe]',
    ...Object.entries(pool).map(([k, v]) => `${k} = ${iniValue(v)}`),
    '',
  ].join('\n');
}

/** Starts php-fpm 8.2 (`-n -F -R -O`) with a static pool in a run folder of its own. */
export function startPhpFpm(options: PhpFpmOptions = {}): Promise<RunningApplication> {
  const attempt = async (port: number | undefined): Promise<RunningApplication> => {
    const folder = createRunFolder('php-fpm');
    const dir = folder.path;
    const address = port === undefined ? `unix:${dir}/fpm.sock` : `tcp:127.0.0.1:${port}`;
    try {
      writeFileSync(`${dir}/php-fpm.conf`, phpFpmConfig(dir, port === undefined ? `${dir}/fpm.sock` : `127.0.0.1:${port}`, options));
    } catch (err) {
      folder.remove();
      throw err;
    }
    const proc = await launch(folder, {
      name: 'php-fpm',
      command: phpFpmBinary,
      args: ['-n', ...(options.opcache === true ? ['-d', 'zend_extension=opcache.so', '-d', 'opcache.enable=1'] : []), '-F', '-R', '-O', '-y', `${dir}/php-fpm.conf`, '-p', dir],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
      readyAt: parseAddress(address),
      logFiles: [`${dir}/php-fpm.log`],
      ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
    });
    const script = options.script ?? probeScript;
    return {
      address,
      params: phpScriptParams(script, script === probeScript ? probeAppsDir : undefined),
      pid: proc.pid,
      output: proc.output,
      stop: proc.stop,
    };
  };
  return options.listen === 'unix' ? attempt(undefined) : withFreePort(attempt);
}

/** Params a PHP SAPI needs to find and name its script. */
export function phpScriptParams(script: string, documentRoot?: string): Readonly<Record<string, string>> {
  const root = documentRoot ?? script.slice(0, script.lastIndexOf('/'));
  const name = script.startsWith(`${root}/`) ? script.slice(root.length) : `/${script.slice(script.lastIndexOf('/') + 1)}`;
  return { SCRIPT_FILENAME: script, SCRIPT_NAME: name, DOCUMENT_ROOT: root };
}

/** php-fpm as a registry entry. */
export const phpFpm = {
  kind: 'application',
  packages: ['php8.2-fpm'],
  requires: [phpFpmBinary],
  start: startPhpFpm,
} as const satisfies PeerDefinition<PhpFpmOptions, RunningApplication>;
