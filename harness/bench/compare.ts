/**
 * Bench sections that put `fcgispec bench` against real backends, side by side with the usual tools, in the
 * same run so that the machine's state is the same for both sides of each ratio.
 *
 * - `go`: reference responder vs Go. `fcgispec serve` (the reference responder with the probe app, in a child
 *   process) and the Go probe on net/http/fcgi (built at set-up with golang-go), each on a Unix socket,
 *   answering the same small response (the probe's `echo-param`: a 200 with a 30-byte body). Both are loaded
 *   by the `fcgispec bench` engine (`runLoad`, in this process) with the same settings: 8 kept connections,
 *   one request at a time each, conformance checked. Also the reference once more with the conformance tap
 *   off (what judging every response costs), and once driven by the reference client's pool
 *   (`--engine client`).
 * - `fault`: the reference responder with `duplicate-end-request@1000`: the violations a fault causes, with
 *   the sample transcript `fcgispec bench` prints.
 * - `php-fpm`: one php-fpm pool (16 workers, as nginx's 8 idle keepalive connections each hold one while
 *   fcgispec runs; the PHP probe) loaded by `fcgispec bench` over its Unix socket, and by `wrk` (1 thread)
 *   through nginx (`fastcgi_keep_conn`, 8 upstream keepalive connections, no access log) in front of the same
 *   pool, with 8 connections each: the extra hop's cost.
 *
 * Timing: each figure is the median of `FCGISPEC_BENCH_ROUNDS` (default 9) rounds of `FCGISPEC_BENCH_SECONDS`
 * (default 2) s, after 1 s of warm-up in the first round and 0.3 s in the others; the sides alternate within a
 * round (who goes first alternates too), and every note gives the range over the rounds. The ratio shown is the median of the round-by-round ratios,
 * each of two runs back to back, which drifting load on a shared machine disturbs least. Load generator and
 * server share the machine's CPUs (stated in the output), as do the other processes running there, so each
 * side's CPU time per request is measured too (Linux /proc): it says what limits the rate.
 * A side whose programs are not installed is left out, and the output says so.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
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
import { formatLoadResult } from './load/report.ts';
import type { BenchRow, BenchSection } from './section.ts';

const wrkBinary = '/usr/bin/wrk';
const cli = fileURLToPath(new URL('../bin/fcgispec.js', import.meta.url));
const CONNECTIONS = 8;
/** Warm-up before a side's first round (JIT, php-fpm's workers, nginx's upstream connections), and before each later one (fresh connections only). */
const WARMUP_MS = 1000;
const REWARM_MS = 300;
// Printable only: nginx takes the same value as a config string.
const BODY = 'fcgispec compare: a small body';
/** Linux's USER_HZ: /proc/PID/stat counts CPU time in these ticks (sysconf(_SC_CLK_TCK), 100 on Linux). */
const TICKS_PER_SECOND = 100;

function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

function timing(): { rounds: number; seconds: number } {
  return { rounds: Math.round(envNumber('FCGISPEC_BENCH_ROUNDS', 9)), seconds: envNumber('FCGISPEC_BENCH_SECONDS', 2) };
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function sayMachine(rounds: number, seconds: number): void {
  say(
    `${availableParallelism()} CPUs shared by the load generator, the server under test and whatever else runs on this machine ` +
      `(load average now ${loadAverage()}); each figure is the median of ${rounds} round(s) of ${seconds} s per side, the sides taking turns, with its range.`,
  );
}

function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'unknown';
  }
}

/** The same small answer from every probe app: `echo-param` of a 30-byte param. */
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

// ---- CPU time from /proc ----------------------------------------------------------------------------------

/**
 * CPU time (user + system, µs) used so far by a process and all its descendants, from Linux's /proc;
 * undefined where there is none. Descendants are found by their parent ids (the kernel may not offer
 * /proc/PID/task/TID/children), so a worker pool counts whole.
 */
export function processTreeCpuMicros(rootPid: number): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const name of entries) {
    if (!/^[0-9]+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid … utime stime …": comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    parent.set(Number(name), Number(fields[1]));
    ticks.set(Number(name), Number(fields[11]) + Number(fields[12]));
  }
  if (!ticks.has(rootPid)) return undefined;
  let total = 0;
  for (const [pid, t] of ticks) {
    // Walk up to the root; the hops are bounded in case the table changed under us.
    let at: number | undefined = pid;
    for (let hops = 0; at !== undefined && at > 1 && hops < 64; hops++) {
      if (at === rootPid) {
        total += t;
        break;
      }
      at = parent.get(at);
    }
  }
  return (total * 1e6) / TICKS_PER_SECOND;
}

// ---- sides and their figures ------------------------------------------------------------------------------

/** One measured side: its figures per round, and what went wrong over all rounds. */
interface Side {
  readonly rps: number[];
  readonly p99: number[];
  /** µs of CPU per request of the load generator (fcgispec; or wrk + nginx), and of the server. */
  readonly clientCpu: number[];
  readonly serverCpu: number[];
  readonly notes: Set<string>;
  readonly counts: Map<string, number>;
}

function side(): Side {
  return { rps: [], p99: [], clientCpu: [], serverCpu: [], notes: new Set(), counts: new Map() };
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

// The ratios of two sides round by round (each pair measured back to back).
function roundRatios(a: Side, b: Side): number[] {
  return a.rps.map((v, i) => v / Math.max(1e-9, b.rps[i] ?? Number.NaN)).filter((r) => Number.isFinite(r));
}

/** The median round-by-round ratio of `a` to `b`, with its range, for a row's `ratio` and note. */
function paired(a: Side, b: Side): { ratio?: number; note: string } {
  const ratios = roundRatios(a, b);
  if (ratios.length === 0) return { note: '' };
  const byMedians = median(a.rps) / Math.max(1e-9, median(b.rps));
  return {
    ratio: median(ratios),
    note: `; ratio round by round ${median(ratios).toFixed(2)}×${ratios.length > 1 ? ` (${spread(ratios, 2)})` : ''}, of the medians ${byMedians.toFixed(2)}×`,
  };
}

function cpuNote(label: string, values: readonly number[]): string | undefined {
  return values.length === 0 ? undefined : `${label} ${median(values).toFixed(0)} µs CPU/request${values.length > 1 ? ` (${spread(values)})` : ''}`;
}

function sideNote(s: Side, rounds: number, client: string, server: string): string {
  const parts = [`p99 ${median(s.p99).toFixed(2)} ms${s.p99.length > 1 ? ` (${spread(s.p99, 2)})` : ''}`];
  if (s.rps.length > 1) parts.push(`req/s ${spread(s.rps)} over ${rounds} rounds`);
  for (const cpu of [cpuNote(client, s.clientCpu), cpuNote(server, s.serverCpu)]) if (cpu) parts.push(cpu);
  if (s.counts.size > 0) parts.push(`in all rounds: ${[...s.counts].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  parts.push(...s.notes);
  return parts.join('; ');
}

/**
 * One `fcgispec bench` run on a side: its figures, anything but clean answers (so a reader sees it beside
 * the figure), and the server's CPU time over the measured window when its process id is known.
 */
async function measure(s: Side, options: LoadOptions, serverPid: number | undefined): Promise<LoadResult> {
  let cpuStart: number | undefined;
  let cpuEnd: number | undefined;
  const r = await runLoad({
    ...options,
    ...(serverPid === undefined
      ? {}
      : { onMeasureStart: () => void (cpuStart = processTreeCpuMicros(serverPid)), onMeasureEnd: () => void (cpuEnd = processTreeCpuMicros(serverPid)) }),
  });
  s.rps.push(r.requestsPerSecond);
  s.p99.push(r.latencyMs.p99);
  if (r.requests > 0) s.clientCpu.push(r.clientCpu.microsPerRequest);
  if (cpuStart !== undefined && cpuEnd !== undefined && r.requests > 0) s.serverCpu.push((cpuEnd - cpuStart) / r.requests);
  for (const [k, v] of Object.entries(r.errors)) add(s, `error ${k}`, v);
  for (const [k, v] of Object.entries(r.violations)) add(s, `violation ${k}`, v);
  for (const [k, v] of Object.entries(r.cgiStatus)) if (k !== '200') add(s, `CGI status ${k}`, v);
  return r;
}

/**
 * Runs the steps of each round, the order reversed every other round so neither side always goes first.
 * Short rounds, many of them: the two runs of a pair are then close in time, and the load of the machine's
 * other users, which drifts over seconds, disturbs their ratio least.
 */
async function interleave(rounds: number, steps: readonly ((round: number) => Promise<void>)[]): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 1 ? [...steps].reverse() : steps;
    for (const step of order) await step(round);
  }
}

/** `fcgispec bench` settings of a round: a longer warm-up the first time. */
function loadOf(round: number, seconds: number): Omit<LoadOptions, 'target' | 'params'> {
  return { connections: CONNECTIONS, perConnection: 1, durationMs: seconds * 1000, warmupMs: round === 0 ? WARMUP_MS : REWARM_MS };
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

async function stopAll(peers: readonly (RunningPeer | undefined)[]): Promise<void> {
  for (const p of [...peers].reverse()) await p?.stop().catch(() => undefined);
}

// ---- wrk --------------------------------------------------------------------------------------------------

interface WrkResult {
  readonly rps: number;
  readonly p99Ms: number;
  /** Requests completed, as wrk counts them ("N requests in …"). */
  readonly requests: number;
  readonly non2xx: number;
  readonly errors: string | undefined;
}

const unitMs: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** Parses `wrk --latency` output: Requests/sec, the 99% line, requests, non-2xx responses, socket errors. */
export function parseWrk(text: string): WrkResult {
  const rps = /Requests\/sec:\s+([0-9.]+)/.exec(text);
  const p99 = /^\s*99%\s+([0-9.]+)(us|ms|s|m)\s*$/m.exec(text);
  const requests = /^\s*([0-9]+) requests in /m.exec(text);
  const non2xx = /Non-2xx or 3xx responses:\s+([0-9]+)/.exec(text);
  const errors = /Socket errors:([^\n]*)/.exec(text);
  if (!rps || !p99) throw new Error(`wrk output not understood: ${text.slice(0, 200)}`);
  return {
    rps: Number(rps[1]),
    p99Ms: Number(p99[1]) * unitMs[p99[2]!]!,
    requests: requests ? Number(requests[1]) : 0,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    errors: errors?.[1]?.trim(),
  };
}

/** The CPU time (µs, user + system) of the children in the last line of bash's `times`: `0m1.250s 0m0.310s`. */
export function parseTimes(text: string): number | undefined {
  const last = text.trimEnd().split('\n').at(-1) ?? '';
  const m = /^([0-9]+)m([0-9.]+)s ([0-9]+)m([0-9.]+)s$/.exec(last.trim());
  if (!m) return undefined;
  return Math.round((Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1e6);
}

/** Runs wrk through bash, whose `times` then reports wrk's own CPU time. */
async function wrk(url: string, seconds: number): Promise<WrkResult & { cpuMicros: number | undefined }> {
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', url];
  const { stdout } = await promisify(execFile)('bash', ['-c', '"$@" && times', 'bash', wrkBinary, ...args], { timeout: (seconds + 30) * 1000 });
  return { ...parseWrk(stdout), cpuMicros: parseTimes(stdout) };
}

// ---- the sections ----------------------------------------------------------------------------------------

/** `go`: the reference responder and Go's net/http/fcgi, same answer, same load. */
export const goSection: BenchSection = {
  name: 'go',
  title: `reference responder vs Go net/http/fcgi, both driven by fcgispec bench (${CONNECTIONS} connections, Unix sockets)`,
  async run(): Promise<BenchRow[]> {
    const { rounds, seconds } = timing();
    sayMachine(rounds, seconds);
    const haveGo = existsSync(goBinary);
    if (!haveGo) say(`Go side left out: ${goBinary} is missing (apt-get install golang-go)`);
    const ref = await startReference();
    let go: RunningApplication | undefined;
    const rows: BenchRow[] = [];
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
      await interleave(rounds, [
        async (round) => void (await measure(refSide, { ...loadOf(round, seconds), target: ref.address, params }, ref.pid)),
        ...(go ? [async (round: number) => void (await measure(goSide, { ...loadOf(round, seconds), target: go!.address, params }, go!.pid))] : []),
        async (round) => void (await measure(refOff, { ...loadOf(round, seconds), target: ref.address, params, validate: false }, ref.pid)),
        async (round) => void (await measure(refClient, { ...loadOf(round, seconds), target: ref.address, params, engine: 'client' }, ref.pid)),
      ]);
      const goName = 'Go net/http/fcgi';
      const notes = (s: Side): string => sideNote(s, rounds, 'fcgispec', 'server');
      if (go) rows.push({ name: goName, value: median(goSide.rps), unit: 'req/s', note: `default GOMAXPROCS (${availableParallelism()}); ${notes(goSide)}` });
      const vsGo = go ? paired(refSide, goSide) : { note: '' };
      rows.push({
        name: 'reference responder',
        value: median(refSide.rps),
        unit: 'req/s',
        ...(go ? { baseline: { name: goName, goal: 1 } } : {}),
        ...(vsGo.ratio === undefined ? {} : { ratio: vsGo.ratio }),
        note: `${notes(refSide)}${vsGo.note}${go ? `; p99 ${(median(refSide.p99) / Math.max(1e-9, median(goSide.p99))).toFixed(2)}× Go's` : ''}`,
      });
      const off = paired(refOff, refSide);
      rows.push({ name: 'reference responder, tap off', value: median(refOff.rps), unit: 'req/s', baseline: { name: 'reference responder' }, ...(off.ratio === undefined ? {} : { ratio: off.ratio }), note: `--no-validate: what judging every response costs; ${notes(refOff)}${off.note}` });
      const client = paired(refClient, refSide);
      rows.push({ name: 'reference responder, client engine', value: median(refClient.rps), unit: 'req/s', baseline: { name: 'reference responder' }, ...(client.ratio === undefined ? {} : { ratio: client.ratio }), note: `--engine client: the reference client's pool drives the load (tap on); ${notes(refClient)}${client.note}` });
    } finally {
      await stopAll([ref, go]);
    }
    return rows;
  },
};

/** `fault`: a fault under load, and what `fcgispec bench` reports of it. */
export const faultSection: BenchSection = {
  name: 'fault',
  title: 'violations under load: the reference responder with duplicate-end-request@1000',
  async run(): Promise<BenchRow[]> {
    const faulty = await startReference(['duplicate-end-request@1000']);
    try {
      const n = 20_000;
      const r = await runLoad({ target: faulty.address, params: probeParams, connections: CONNECTIONS, requests: n });
      const dup = r.violations['FCGI-3.3-no-records-after-end'] ?? 0;
      // What the command prints from its conformance line on, cut to the sample's heading and the records
      // around the duplicate (two FCGI_END_REQUEST lines in a row): the transcript has a dozen chunks before it.
      const text = formatLoadResult(r);
      const from = text.findIndex((line) => line.startsWith('conformance'));
      const heading = from < 0 ? [] : text.slice(from, from + 5);
      const dupAt = text.findIndex((line, i) => i > from && line.includes('FCGI_END_REQUEST id=') && (text[i - 1] ?? '').includes('FCGI_END_REQUEST id='));
      for (const line of heading) say(`  ${line}`);
      if (dupAt > 0) for (const line of ['    …', ...text.slice(Math.max(from + 5, dupAt - 7), dupAt + 2), '    …']) say(`  ${line}`);
      return [
        {
          name: 'duplicate FCGI_END_REQUEST found',
          value: dup,
          unit: 'violations',
          note: `${n} requests, ${n / 1000} duplicates sent; seen: ${dup} FCGI-3.3-no-records-after-end${r.violationCount > dup ? `, ${r.violationCount - dup} other` : ''}; ${r.ok} ok; ${r.samples.length} sample transcript(s); ${r.requestsPerSecond.toFixed(0)} req/s`,
        },
      ];
    } finally {
      await stopAll([faulty]);
    }
  },
};

/** `php-fpm`: fcgispec bench directly vs wrk through nginx, same pool. */
export const phpFpmSection: BenchSection = {
  name: 'php-fpm',
  title: `fcgispec bench → php-fpm beside wrk → nginx → the same php-fpm pool (${CONNECTIONS} connections each)`,
  async run(): Promise<BenchRow[]> {
    const missing = [phpFpmBinary, nginxBinary, wrkBinary].filter((p) => !existsSync(p));
    if (missing.length > 0) {
      say(`php-fpm pair left out: ${missing.join(', ')} missing (see harness/peers/packages.txt)`);
      return [];
    }
    const { rounds, seconds } = timing();
    sayMachine(rounds, seconds);
    // nginx keeps its idle upstream connections, each holding a php-fpm worker: twice the workers, so that
    // fcgispec's connections never wait behind them.
    // OPcache on: PHP's compile cost per request would otherwise drown what the two load generators differ by.
    const fpm = await startPhpFpm({ listen: 'unix', maxChildren: 2 * CONNECTIONS, opcache: true });
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
      const wrkCpu: number[] = [];
      await interleave(rounds, [
        async (round) => void (await measure(direct, { ...loadOf(round, seconds), target: fpm.address, params }, fpm.pid)),
        async (round) => {
          // wrk has nothing to warm but its connections to nginx; nginx's own to php-fpm stay open.
          if (round === 0) await wrk(url, WARMUP_MS / 1000);
          const nginxBefore = processTreeCpuMicros(proxy.pid);
          const fpmBefore = processTreeCpuMicros(fpm.pid);
          const w = await wrk(url, seconds);
          const nginxAfter = processTreeCpuMicros(proxy.pid);
          const fpmAfter = processTreeCpuMicros(fpm.pid);
          viaNginx.rps.push(w.rps);
          viaNginx.p99.push(w.p99Ms);
          // The load generator here is wrk and nginx together: both stand where fcgispec stands on the other side.
          if (w.requests > 0 && w.cpuMicros !== undefined && nginxBefore !== undefined && nginxAfter !== undefined) {
            viaNginx.clientCpu.push((w.cpuMicros + nginxAfter - nginxBefore) / w.requests);
            wrkCpu.push(w.cpuMicros / w.requests);
          }
          if (w.requests > 0 && fpmBefore !== undefined && fpmAfter !== undefined) viaNginx.serverCpu.push((fpmAfter - fpmBefore) / w.requests);
          if (w.non2xx > 0) add(viaNginx, 'non-2xx', w.non2xx);
          if (w.errors) viaNginx.notes.add(`socket errors: ${w.errors}`);
        },
      ]);
      if (wrkCpu.length > 0) viaNginx.notes.add(`wrk's share of that ${median(wrkCpu).toFixed(0)} µs`);
      const wrkName = 'wrk → nginx → php-fpm';
      const vs = paired(direct, viaNginx);
      return [
        { name: wrkName, value: median(viaNginx.rps), unit: 'req/s', note: `wrk -t1 -c${CONNECTIONS}; ${sideNote(viaNginx, rounds, 'wrk + nginx', 'php-fpm')}` },
        {
          name: 'fcgispec bench → php-fpm',
          value: median(direct.rps),
          unit: 'req/s',
          baseline: { name: wrkName, goal: 1 },
          ...(vs.ratio === undefined ? {} : { ratio: vs.ratio }),
          note: `same pool (pm.max_children ${2 * CONNECTIONS}: nginx's idle keepalive connections hold ${CONNECTIONS}); ${sideNote(direct, rounds, 'fcgispec', 'php-fpm')}${vs.note}`,
        },
      ];
    } finally {
      await stopAll([fpm, web]);
    }
  },
};

/** The three, in run order, for `main.ts`. */
export const compareSections: readonly BenchSection[] = [goSection, faultSection, phpFpmSection];
