/**
 * Bench section `compare`: `fcgispec bench` against real backends, side by side with the usual tools, in the
 * same run so that the machine's state is the same for both sides of each ratio.
 *
 * - Reference responder vs Go: `fcgispec serve` (the reference responder with the probe app, in a child
 *   process) and the Go probe on net/http/fcgi (built at set-up with golang-go), each on a Unix socket,
 *   answering the same small response (the probe's `echo-param`: a 200 with a 30-byte body). Both are loaded
 *   by the `fcgispec bench` engine (`runLoad`, in this process) with the same settings: 8 kept connections,
 *   one request at a time each, conformance checked. Also the reference once more with the conformance tap
 *   off (what judging every response costs), once driven by the reference client's pool (`--engine
 *   client`), and once with `duplicate-end-request@1000` to show the violations a fault causes.
 * - php-fpm direct vs through nginx: one php-fpm pool (16 workers, as nginx's 8 idle keepalive connections
 *   each hold one while fcgispec runs; the PHP probe) loaded by `fcgispec bench`
 *   over its Unix socket, and by `wrk` (1 thread) through nginx (`fastcgi_keep_conn`, 8 upstream keepalive
 *   connections, no access log) in front of the same pool, with 8 connections each: the extra hop's cost.
 * - Timing: each figure is the median of `FCGISPEC_BENCH_ROUNDS` (default 5) rounds of
 *   `FCGISPEC_BENCH_SECONDS` (default 3) s after 1 s of warm-up; the sides alternate within a round, and
 *   every note gives the range over the rounds. Load generator and server share the machine's CPUs (stated
 *   in the output), as do the other processes running there: read ranges, not single figures.
 * A side whose programs are not installed is left out, and the output says so.
 */
import { existsSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startListeningApplication } from '../peers/application.ts';
import { goBinary, startGoFcgi } from '../peers/go-fcgi.ts';
import { phpFpmBinary, startPhpFpm } from '../peers/php-fpm.ts';
import { nginxBinary, startNginx } from '../peers/nginx.ts';
import type { RunningApplication, RunningPeer } from '../peers/peer.ts';
import { runLoad, type LoadOptions, type LoadResult } from './load/runner.ts';
import type { BenchRow, BenchSection } from './section.ts';

const wrkBinary = '/usr/bin/wrk';
const cli = fileURLToPath(new URL('../bin/fcgispec.js', import.meta.url));
const CONNECTIONS = 8;
const WARMUP_MS = 1000;
// Printable only: nginx takes the same value as a config string.
const BODY = 'fcgispec compare: a small body';

function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** The same small answer from every probe app: `echo-param` of a 32-byte param. */
const probeParams: readonly [string, string][] = [
  ['PROBE_ACTION', 'echo-param'],
  ['PROBE_NAME', 'PROBE_BODY'],
  ['PROBE_BODY', BODY],
];

// About what nginx sends for `GET /probe.php` (its fastcgi_params), so both sides of the php-fpm pair carry
// the same request.
function nginxLikeParams(script: Readonly<Record<string, string>>): [string, string][] {
  const root = script['DOCUMENT_ROOT'] ?? '/';
  const name = script['SCRIPT_NAME'] ?? '/probe.php';
  return [
    ['QUERY_STRING', ''],
    ['REQUEST_METHOD', 'GET'],
    ['CONTENT_TYPE', ''],
    ['CONTENT_LENGTH', ''],
    ['SCRIPT_NAME', name],
    ['REQUEST_URI', name],
    ['DOCUMENT_URI', name],
    ['DOCUMENT_ROOT', root],
    ['SERVER_PROTOCOL', 'HTTP/1.1'],
    ['REQUEST_SCHEME', 'http'],
    ['GATEWAY_INTERFACE', 'CGI/1.1'],
    ['SERVER_SOFTWARE', 'nginx/1.22.1'],
    ['REMOTE_ADDR', '127.0.0.1'],
    ['REMOTE_PORT', '40000'],
    ['SERVER_ADDR', '127.0.0.1'],
    ['SERVER_PORT', '8080'],
    ['SERVER_NAME', 'localhost'],
    ['REDIRECT_STATUS', '200'],
    ['HTTP_HOST', 'localhost'],
    ['SCRIPT_FILENAME', script['SCRIPT_FILENAME'] ?? `${root}${name}`],
  ];
}

/** One measured side: its figures per round, and what went wrong over all rounds. */
interface Side {
  readonly rps: number[];
  readonly p99: number[];
  readonly notes: Set<string>;
  readonly counts: Map<string, number>;
}

function side(): Side {
  return { rps: [], p99: [], notes: new Set(), counts: new Map() };
}

function add(s: Side, what: string, n: number): void {
  s.counts.set(what, (s.counts.get(what) ?? 0) + n);
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length === 0 ? 0 : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function spread(values: readonly number[], digits = 0): string {
  if (values.length < 2) return '';
  return `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;
}

// The ratio of two sides round by round (each pair measured back to back): steadier than a ratio of medians
// when the machine's load drifts during the run.
function pairedRatio(a: Side, b: Side): string {
  const ratios = a.rps.map((v, i) => v / Math.max(1e-9, b.rps[i] ?? Number.NaN)).filter((r) => Number.isFinite(r));
  if (ratios.length < 2) return '';
  return `; round by round ${median(ratios).toFixed(2)}× (${spread(ratios, 2)})`;
}

function sideNote(s: Side, rounds: number): string {
  const p99 = median(s.p99);
  const parts = [`p99 ${p99.toFixed(2)} ms${s.p99.length > 1 ? ` (${spread(s.p99, 2)})` : ''}`];
  if (s.rps.length > 1) parts.push(`req/s ${spread(s.rps)} over ${rounds} rounds`);
  if (s.counts.size > 0) parts.push(`in all rounds: ${[...s.counts].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  parts.push(...s.notes);
  return parts.join('; ');
}

// Records a bench run; anything but clean answers goes into the note, so a reader sees it beside the figure.
function record(s: Side, r: LoadResult): void {
  s.rps.push(r.requestsPerSecond);
  s.p99.push(r.latencyMs.p99);
  for (const [k, v] of Object.entries(r.errors)) add(s, `error ${k}`, v);
  for (const [k, v] of Object.entries(r.violations)) add(s, `violation ${k}`, v);
  for (const [k, v] of Object.entries(r.cgiStatus)) if (k !== '200') add(s, `CGI status ${k}`, v);
}

/** `fcgispec serve` in a child process on a Unix socket. */
function startReference(faults: readonly string[] = []): Promise<RunningApplication> {
  return startListeningApplication({
    name: 'fcgispec-serve',
    listen: 'unix',
    command: (endpoint) => ({
      command: process.execPath,
      args: [cli, 'serve', '--listen', endpoint.kind === 'unix' ? `unix:${endpoint.path}` : `tcp:${endpoint.host}:${endpoint.port}`, '--quiet', ...faults.flatMap((f) => ['--fault', f])],
      env: { PATH: '/usr/bin:/bin', LANG: 'C' },
    }),
    ready: 'accepts',
    params: {},
  });
}

interface WrkResult {
  readonly rps: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly errors: string | undefined;
}

const unitMs: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** Parses `wrk --latency` output: Requests/sec, the 99% line, non-2xx responses, socket errors. */
export function parseWrk(text: string): WrkResult {
  const rps = /Requests\/sec:\s+([0-9.]+)/.exec(text);
  const p99 = /^\s*99%\s+([0-9.]+)(us|ms|s|m)\s*$/m.exec(text);
  const non2xx = /Non-2xx or 3xx responses:\s+([0-9]+)/.exec(text);
  const errors = /Socket errors:([^\n]*)/.exec(text);
  if (!rps || !p99) throw new Error(`wrk output not understood: ${text.slice(0, 200)}`);
  return { rps: Number(rps[1]), p99Ms: Number(p99[1]) * unitMs[p99[2]!]!, non2xx: non2xx ? Number(non2xx[1]) : 0, errors: errors?.[1]?.trim() };
}

async function wrk(url: string, seconds: number): Promise<WrkResult> {
  const { stdout } = await promisify(execFile)(wrkBinary, ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', url], { timeout: (seconds + 30) * 1000 });
  return parseWrk(stdout);
}

async function stopAll(peers: readonly (RunningPeer | undefined)[]): Promise<void> {
  for (const p of [...peers].reverse()) await p?.stop().catch(() => undefined);
}

export const compareSection: BenchSection = {
  name: 'compare',
  title: `fcgispec bench against real backends (${CONNECTIONS} connections, Unix sockets)`,
  async run(): Promise<BenchRow[]> {
    const rounds = Math.round(envNumber('FCGISPEC_BENCH_ROUNDS', 5));
    const seconds = envNumber('FCGISPEC_BENCH_SECONDS', 3);
    const durationMs = seconds * 1000;
    const say = (line: string): void => void process.stdout.write(`compare: ${line}\n`);
    say(
      `${availableParallelism()} CPUs shared by the load generator (this process: the fcgispec bench engine) and the server under test (its own process), ` +
        `and by whatever else runs on this machine; each figure is the median of ${rounds} round(s) of ${seconds} s after ${WARMUP_MS / 1000} s of warm-up, with its range.`,
    );
    const rows: BenchRow[] = [];
    const base: Omit<LoadOptions, 'target' | 'params'> = { connections: CONNECTIONS, perConnection: 1, durationMs, warmupMs: WARMUP_MS };

    // ---- the reference responder and Go's net/http/fcgi, same answer, same load ---------------------------
    const haveGo = existsSync(goBinary);
    if (!haveGo) say(`Go side left out: ${goBinary} is missing (apt-get install golang-go)`);
    const ref = await startReference();
    let go: RunningApplication | undefined;
    try {
      if (haveGo) go = await startGoFcgi({ listen: 'unix' });
      const params: [string, string][] = [
        ['GATEWAY_INTERFACE', 'CGI/1.1'],
        ['SERVER_PROTOCOL', 'HTTP/1.1'],
        ['REQUEST_METHOD', 'GET'],
        ['SERVER_NAME', 'localhost'],
        ['SERVER_PORT', '80'],
        ['REMOTE_ADDR', '127.0.0.1'],
        ['QUERY_STRING', ''],
        ...probeParams,
      ];
      const refSide = side();
      const refOff = side();
      const refClient = side();
      const goSide = side();
      for (let round = 0; round < rounds; round++) {
        const order: (() => Promise<void>)[] = [
          async () => record(refSide, await runLoad({ ...base, target: ref.address, params })),
          async () => record(refOff, await runLoad({ ...base, target: ref.address, params, validate: false })),
          async () => record(refClient, await runLoad({ ...base, target: ref.address, params, engine: 'client' })),
          ...(go ? [async () => record(goSide, await runLoad({ ...base, target: go!.address, params }))] : []),
        ];
        // Alternate who goes first, so that neither side always runs on a warmer (or busier) machine.
        if (round % 2 === 1) order.reverse();
        for (const step of order) await step();
      }
      const goName = 'Go net/http/fcgi';
      if (go) rows.push({ name: goName, value: median(goSide.rps), unit: 'req/s', note: `default GOMAXPROCS (${availableParallelism()}); ${sideNote(goSide, rounds)}` });
      rows.push({
        name: 'reference responder',
        value: median(refSide.rps),
        unit: 'req/s',
        ...(go ? { baseline: { name: goName, goal: 1 } } : {}),
        note: `${sideNote(refSide, rounds)}${go ? `${pairedRatio(refSide, goSide)}; p99 ${(median(refSide.p99) / Math.max(1e-9, median(goSide.p99))).toFixed(2)}× Go's` : ''}`,
      });
      rows.push({ name: 'reference responder, tap off', value: median(refOff.rps), unit: 'req/s', baseline: { name: 'reference responder' }, note: `--no-validate: the ratio is what judging every response costs the engine; ${sideNote(refOff, rounds)}${pairedRatio(refOff, refSide)}` });
      rows.push({ name: 'reference responder, client engine', value: median(refClient.rps), unit: 'req/s', baseline: { name: 'reference responder' }, note: `--engine client: the reference client's pool drives the load (tap on); ${sideNote(refClient, rounds)}${pairedRatio(refClient, refSide)}` });
    } finally {
      await stopAll([ref, go]);
    }

    // ---- a fault under load ------------------------------------------------------------------------------
    const faulty = await startReference(['duplicate-end-request@1000']);
    try {
      const n = 20_000;
      const r = await runLoad({ target: faulty.address, params: probeParams, connections: CONNECTIONS, requests: n });
      const dup = r.violations['FCGI-3.3-no-records-after-end'] ?? 0;
      rows.push({
        name: 'reference responder, duplicate-end-request@1000',
        value: r.violationCount,
        unit: 'violations',
        note: `${n} requests, so ${n / 1000} duplicates sent; seen: ${dup} FCGI-3.3-no-records-after-end${r.violationCount > dup ? `, ${r.violationCount - dup} other` : ''}; ${r.ok} ok`,
      });
    } finally {
      await stopAll([faulty]);
    }

    // ---- php-fpm: fcgispec bench directly vs wrk through nginx ------------------------------------------
    const missing = [phpFpmBinary, nginxBinary, wrkBinary].filter((p) => !existsSync(p));
    if (missing.length > 0) {
      say(`php-fpm pair left out: ${missing.join(', ')} missing (see harness/peers/packages.txt)`);
      return rows;
    }
    // nginx keeps its idle upstream connections, each holding a php-fpm worker: twice the workers, so that
    // fcgispec's connections never wait behind them.
    const fpm = await startPhpFpm({ listen: 'unix', maxChildren: 2 * CONNECTIONS });
    let web: RunningPeer | undefined;
    try {
      const params = [...nginxLikeParams(fpm.params), ...probeParams];
      const proxy = await startNginx({
        backend: fpm.address,
        keepConn: true,
        keepalive: CONNECTIONS,
        params: Object.fromEntries(probeParams),
        directives: ['access_log off'],
      });
      web = proxy;
      const url = `${proxy.url}probe.php`;
      const direct = side();
      const viaNginx = side();
      for (let round = 0; round < rounds; round++) {
        const order: (() => Promise<void>)[] = [
          async () => record(direct, await runLoad({ ...base, target: fpm.address, params })),
          async () => {
            await wrk(url, WARMUP_MS / 1000);
            const w = await wrk(url, seconds);
            viaNginx.rps.push(w.rps);
            viaNginx.p99.push(w.p99Ms);
            if (w.non2xx > 0) add(viaNginx, 'non-2xx', w.non2xx);
            if (w.errors) viaNginx.notes.add(`socket errors: ${w.errors}`);
          },
        ];
        if (round % 2 === 1) order.reverse();
        for (const step of order) await step();
      }
      const wrkName = 'wrk → nginx → php-fpm';
      rows.push({ name: wrkName, value: median(viaNginx.rps), unit: 'req/s', note: `wrk -t1 -c${CONNECTIONS}; ${sideNote(viaNginx, rounds)}` });
      rows.push({ name: 'fcgispec bench → php-fpm', value: median(direct.rps), unit: 'req/s', baseline: { name: wrkName, goal: 1 }, note: `same pool (pm.max_children ${2 * CONNECTIONS}: nginx's idle keepalive connections hold ${CONNECTIONS}); ${sideNote(direct, rounds)}${pairedRatio(direct, viaNginx)}` });
    } finally {
      await stopAll([fpm, web]);
    }
    return rows;
  },
};
