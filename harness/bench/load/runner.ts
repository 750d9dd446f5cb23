/**
 * The load of `fcgispec bench`: `connections × perConnection` requests at once, each slot sending its next
 * request as soon as the last one ends (closed loop), or requests due at a fixed rate (open loop, `rate`),
 * for a count or a duration after an optional warm-up. The engine (`engine.ts`) puts them on the wire; the
 * conformance tap (`tap.ts`) judges every byte that comes back.
 *
 * What it measures: requests by outcome (ok when FCGI_END_REQUEST says FCGI_REQUEST_COMPLETE, otherwise an
 * error named like the client's codes: E_REJECTED, E_CLOSED, E_TIMEOUT, E_CONNECT, …), protocolStatus of
 * every FCGI_END_REQUEST, latency from sending (at a fixed rate: from the due time) to FCGI_END_REQUEST in
 * a histogram, bytes each way from the taps.
 * @see §3.3 §4.1 §5.5
 */
import {
  FCGI_MAX_CONNS,
  FCGI_MAX_REQS,
  FCGI_MPXS_CONNS,
  FCGI_REQUEST_COMPLETE,
  protocolStatusName,
} from '../../../spec/constants.ts';
import { AddressError, formatAddress, parseAddress } from '../../../reference/address.ts';
import { ClientConnection, ClientError } from '../../../reference/client/index.ts';
import { expectedProbeResponse, type ProbeExpectation } from '../../../reference/probe/model.ts';
import { HarnessError, usageError } from '../../errors.ts';
import { LatencyHistogram, type LatencySummary } from './histogram.ts';
import { RateSchedule } from './rate.ts';
import { TapHub, type CloseCause, type ViolationSample } from './tap.ts';
import { createEngine, type EngineName } from './engine.ts';

/** What to run. */
export interface LoadOptions {
  /** `tcp:HOST:PORT`, `HOST:PORT` or `unix:PATH`. */
  readonly target: string;
  /** FCGI_PARAMS of every request, in order. */
  readonly params?: readonly (readonly [string, string])[];
  /** FCGI_STDIN of every request (empty when left out). */
  readonly stdin?: Uint8Array;
  /** Connections at once (`-c`, default 1). */
  readonly connections?: number;
  /** Requests at once per connection (`-m`, default 1); above 1 the target must claim FCGI_MPXS_CONNS. */
  readonly perConnection?: number;
  /** Measured requests (`-n`); with neither this nor `durationMs`, 1000. */
  readonly requests?: number;
  /** Measured time, ms (`-D`). */
  readonly durationMs?: number;
  /** Load before measuring, ms, not counted (`--warmup`). */
  readonly warmupMs?: number;
  /** Requests per second over all connections (`--rate`): open loop, latency counted from each due time. */
  readonly rate?: number;
  /** FCGI_KEEP_CONN (default true); without it every request has a connection of its own. @see §5.1 */
  readonly keepConn?: boolean;
  /** Check every completed answer against the probe contract (`--probe`). */
  readonly probe?: boolean;
  /** Judge the bytes on the wire (default true; false measures what judging costs). */
  readonly validate?: boolean;
  /** How long a request may go without a byte from the application (default 10 000 ms). */
  readonly timeoutMs?: number;
  /** Called about every `progressIntervalMs` (default 1000) while running. */
  readonly onProgress?: (progress: LoadProgress) => void;
  readonly progressIntervalMs?: number;
  /** Stops issuing requests (what is in flight finishes). */
  readonly signal?: AbortSignal;
  /**
   * Called when the measurement starts (after the warm-up) and when its last request has ended, on the event
   * loop (keep them short): a caller reads the server's CPU time there, over the same window as `clientCpu`.
   */
  readonly onMeasureStart?: () => void;
  readonly onMeasureEnd?: () => void;
  /** `wire` (default: the fast engine) or `client` (the reference client's pool; a cross-check). */
  readonly engine?: EngineName;
}

/** A progress report while running. */
export interface LoadProgress {
  readonly phase: 'warmup' | 'measure' | 'drain';
  /** ms since the measurement started (negative during warm-up). */
  readonly elapsedMs: number;
  readonly requests: number;
  readonly errors: number;
  readonly violations: number;
  /** Requests per second since the previous report. */
  readonly recentRps: number;
  readonly p99Ms: number;
}

/** What the application said about itself before the run. @see §4.1 */
export interface TargetCapabilities {
  readonly mpxsConns: boolean | undefined;
  readonly maxConns: number | undefined;
  readonly maxReqs: number | undefined;
  /** Why there are no values (`timeout`, `unknown-type`, `closed`, …). */
  readonly note?: string;
}

/** What a run measured. */
export interface LoadResult {
  readonly target: string;
  readonly settings: {
    readonly connections: number;
    readonly perConnection: number;
    readonly requests: number | undefined;
    readonly durationMs: number | undefined;
    readonly warmupMs: number;
    readonly rate: number | undefined;
    readonly keepConn: boolean;
    readonly probe: boolean;
    readonly validate: boolean;
    readonly timeoutMs: number;
    readonly engine: EngineName;
  };
  readonly capabilities: TargetCapabilities;
  /** Measured requests: `ok` plus every error. */
  readonly requests: number;
  readonly ok: number;
  /** Failed requests by client error code (`E_REJECTED`, `E_CLOSED`, `E_TIMEOUT`, `E_PROTOCOL`, …). */
  readonly errors: Readonly<Record<string, number>>;
  /** FCGI_END_REQUEST protocolStatus names, as received by measured requests. @see §5.5 */
  readonly protocolStatus: Readonly<Record<string, number>>;
  /** CGI status of completed answers (`200`, …; `none` when stdout is not a CGI response). @see §6.1 */
  readonly cgiStatus: Readonly<Record<string, number>>;
  readonly durationMs: number;
  readonly requestsPerSecond: number;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly bytesSentPerSecond: number;
  readonly bytesReceivedPerSecond: number;
  readonly latencyMs: LatencySummary & { readonly mean: number; readonly min: number };
  readonly histogram: LatencyHistogram;
  /** Violations by requirement, over the whole run (warm-up included: a violation is one whenever it happens). */
  readonly violations: Readonly<Record<string, number>>;
  readonly violationCount: number;
  readonly samples: readonly ViolationSample[];
  readonly connections: { readonly opened: number; readonly peak: number; readonly closes: Readonly<Record<CloseCause, number>> };
  /**
   * CPU time of this process (the load generator) while measuring, µs: per request, and as a share of one
   * core. Near 100 % of a core, fcgispec itself limits the rate; far below, the application does.
   */
  readonly clientCpu: { readonly microsPerRequest: number; readonly coreShare: number };
  /** At a fixed rate: measured requests sent more than 1 ms after their due time (the load fell behind). */
  readonly late: number | undefined;
  /** Things a reader should know (a limit the settings pass, …). */
  readonly notes: readonly string[];
}

const DEFAULT_REQUESTS = 1000;

function positiveInt(value: number | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw usageError(`${flag} must be a positive integer, got ${String(value)}`);
  return value;
}

function nonNegative(value: number | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw usageError(`${flag} must be a non-negative number, got ${String(value)}`);
  return value;
}

/**
 * Asks the application for FCGI_MPXS_CONNS, FCGI_MAX_CONNS and FCGI_MAX_REQS on a connection of its own.
 * Throws `HarnessError` E_CONNECT when the target cannot be reached. @see §4.1
 */
export async function queryCapabilities(target: string, timeoutMs = 2000): Promise<TargetCapabilities> {
  let conn: ClientConnection;
  try {
    conn = await ClientConnection.connect(target, { connectTimeoutMs: timeoutMs, timeoutMs });
  } catch (err) {
    if (ClientError.is(err, 'E_USAGE')) throw usageError(err.message);
    throw new HarnessError('E_CONNECT', ClientError.is(err) ? err.message : `cannot connect to ${target}: ${String(err)}`, { cause: err });
  }
  try {
    const values = await conn.getValues([FCGI_MPXS_CONNS, FCGI_MAX_CONNS, FCGI_MAX_REQS], { timeoutMs });
    const int = (name: string): number | undefined => {
      const n = Number(values.get(name));
      return Number.isSafeInteger(n) && n > 0 ? n : undefined;
    };
    const mpxs = values.get(FCGI_MPXS_CONNS)?.trim();
    return { mpxsConns: mpxs === undefined ? undefined : mpxs === '1', maxConns: int(FCGI_MAX_CONNS), maxReqs: int(FCGI_MAX_REQS) };
  } catch (err) {
    const note = ClientError.is(err) ? err.code.slice(2).toLowerCase().replace('_', '-') : 'error';
    return { mpxsConns: undefined, maxConns: undefined, maxReqs: undefined, note };
  } finally {
    conn.destroy('capabilities read');
  }
}

function describeMpxs(caps: TargetCapabilities): string {
  if (caps.mpxsConns === false) return 'it answered FCGI_MPXS_CONNS=0';
  if (caps.note === 'unknown-type') return 'it answered FCGI_GET_VALUES with FCGI_UNKNOWN_TYPE';
  if (caps.note !== undefined) return `it did not answer FCGI_GET_VALUES (${caps.note})`;
  return 'it did not name FCGI_MPXS_CONNS in its FCGI_GET_VALUES_RESULT';
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/**
 * Runs the load and returns what it measured. Throws `HarnessError`: E_USAGE for bad options (`-m` above 1
 * against a target that does not multiplex included), E_CONNECT when the target cannot be reached.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  let address;
  try {
    address = parseAddress(options.target);
  } catch (err) {
    if (err instanceof AddressError) throw usageError(err.message);
    throw err;
  }
  if (address.kind === 'fd') throw usageError(`cannot load ${options.target}: give tcp:HOST:PORT, HOST:PORT or unix:PATH`);
  const target = formatAddress(address);
  const connections = positiveInt(options.connections, '-c', 1);
  const perConnection = positiveInt(options.perConnection, '-m', 1);
  if (options.requests !== undefined && options.durationMs !== undefined) throw usageError('give -n or -D, not both');
  const count = options.durationMs === undefined ? positiveInt(options.requests, '-n', DEFAULT_REQUESTS) : undefined;
  const durationMs = options.durationMs === undefined ? undefined : nonNegative(options.durationMs, '-D', 0);
  if (durationMs !== undefined && durationMs <= 0) throw usageError('-D must be a positive duration');
  const warmupMs = nonNegative(options.warmupMs, '--warmup', 0);
  const rate = options.rate;
  if (rate !== undefined && !(Number.isFinite(rate) && rate > 0)) throw usageError(`--rate must be a positive number of requests per second, got ${String(rate)}`);
  const timeoutMs = positiveInt(options.timeoutMs, '--timeout', 10_000);
  const keepConn = options.keepConn ?? true;
  const validate = options.validate ?? true;
  const probe = options.probe ?? false;
  if (perConnection > 1 && !keepConn) throw usageError(`-m ${perConnection} needs --keep-conn: without FCGI_KEEP_CONN a connection carries one request`);

  const capabilities = await queryCapabilities(target, Math.min(timeoutMs, 2000));
  if (perConnection > 1 && capabilities.mpxsConns !== true) {
    throw usageError(`-m ${perConnection} multiplexes requests, but ${target} does not claim FCGI_MPXS_CONNS=1: ${describeMpxs(capabilities)}`);
  }
  const notes: string[] = [];
  if (capabilities.maxConns !== undefined && connections > capabilities.maxConns) {
    notes.push(`-c ${connections} is above the FCGI_MAX_CONNS=${capabilities.maxConns} the application claims`);
  }
  if (capabilities.maxReqs !== undefined && connections * perConnection > capabilities.maxReqs) {
    notes.push(`${connections * perConnection} requests at once is above the FCGI_MAX_REQS=${capabilities.maxReqs} the application claims`);
  }

  const params = options.params ?? [];
  const stdin = options.stdin ?? new Uint8Array(0);
  let expectation: ProbeExpectation | undefined;
  if (probe) expectation = expectedProbeResponse('responder', params, stdin);

  const origin = performance.now();
  const hub = new TapHub({
    validate,
    multiplexing: perConnection > 1,
    clockOrigin: origin,
    ...(expectation ? { probe: expectation } : {}),
  });
  const engine = createEngine(options.engine ?? 'wire', { address, connections, perConnection, params, stdin, keepConn, timeoutMs, hub });

  const histogram = new LatencyHistogram();
  const errors = new Map<string, number>();
  const statuses = new Map<string, number>();
  const cgi = new Map<string, number>();
  let ok = 0;
  let measured = 0;
  let started = 0; // measured requests handed to the engine
  let lastEnd = 0;
  let late = 0;
  const measureStart = origin + warmupMs;
  const deadline = durationMs === undefined ? Number.POSITIVE_INFINITY : measureStart + durationMs;
  const schedule = rate === undefined ? undefined : new RateSchedule(rate, origin);
  let bytesAtStart: { sent: number; received: number } | undefined;
  let cpuAtStart: NodeJS.CpuUsage | undefined;
  let measureStarted = 0;
  const snapshot = (): void => {
    if (bytesAtStart !== undefined) return;
    options.onMeasureStart?.(); // first, so that what the hook costs is not counted as the load's
    bytesAtStart = { sent: hub.bytesSent, received: hub.bytesReceived };
    cpuAtStart = process.cpuUsage();
    measureStarted = performance.now();
  };
  const warmupTimer = warmupMs > 0 ? setTimeout(snapshot, warmupMs) : undefined;
  if (warmupMs === 0) snapshot();

  // Each slot runs one request after another (closed loop), or takes the next due time (fixed rate); the run
  // is over once every slot has stopped and nothing is in flight.
  const slots = Math.max(1, Math.min(engine.slots, count ?? Number.POSITIVE_INFINITY));
  let running = slots;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const stopSlot = (): void => {
    if (--running === 0) finish();
  };
  const send = (slot: number, due: number): void => {
    const isMeasured = due >= measureStart;
    if (isMeasured) snapshot();
    const sentAt = performance.now();
    engine.start(slot, (outcome) => {
      if (isMeasured) {
        const end = performance.now();
        measured++;
        if (end > lastEnd) lastEnd = end;
        histogram.record(end - due);
        if (sentAt - due > 1) late++;
        if (outcome.protocolStatus !== undefined) bump(statuses, protocolStatusName(outcome.protocolStatus));
        if (outcome.error === undefined && outcome.protocolStatus === FCGI_REQUEST_COMPLETE) {
          ok++;
          bump(cgi, outcome.cgiStatus ?? 'none');
        } else {
          bump(errors, outcome.error ?? 'E_REJECTED');
        }
      }
      next(slot);
    });
  };
  const next = (slot: number): void => {
    if (options.signal?.aborted) return stopSlot();
    const now = performance.now();
    const due = schedule ? schedule.next() : now;
    if (due >= deadline) return stopSlot();
    if (due >= measureStart && count !== undefined) {
      if (started >= count) return stopSlot();
      started++;
    }
    if (schedule && due - now >= 1) setTimeout(() => send(slot, due), due - now);
    else send(slot, due);
  };

  let lastReport = { at: measureStart, requests: 0 };
  const progressTimer = options.onProgress
    ? setInterval(() => {
        const now = performance.now();
        const phase = now < measureStart ? 'warmup' : now < deadline && (count === undefined || started < count) ? 'measure' : 'drain';
        const interval = now - lastReport.at;
        // A tick just after the warm-up ends would rate a few milliseconds: that interval waits for the next.
        if (now > measureStart && interval < 100) return;
        const recentRps = now <= measureStart ? 0 : ((measured - lastReport.requests) * 1000) / interval;
        lastReport = { at: Math.max(now, measureStart), requests: measured };
        let errorCount = 0;
        for (const n of errors.values()) errorCount += n;
        options.onProgress?.({ phase, elapsedMs: now - measureStart, requests: measured, errors: errorCount, violations: hub.violationCount, recentRps, p99Ms: histogram.percentile(0.99) });
      }, options.progressIntervalMs ?? 1000)
    : undefined;

  try {
    for (let slot = 0; slot < slots; slot++) next(slot);
    await finished;
  } finally {
    clearTimeout(warmupTimer);
    clearInterval(progressTimer);
  }
  const bytesEnd = { sent: hub.bytesSent, received: hub.bytesReceived };
  const cpu = process.cpuUsage(cpuAtStart);
  const cpuWindowMs = performance.now() - measureStarted;
  options.onMeasureEnd?.();
  const peak = engine.peakConnections;
  hub.closing = true;
  await engine.close(2000);

  const start = bytesAtStart ?? bytesEnd;
  const elapsed = measured === 0 ? 0 : Math.max(lastEnd - measureStart, 0.001);
  const perSecond = (n: number): number => (elapsed > 0 ? (n * 1000) / elapsed : 0);
  const bytesSent = bytesEnd.sent - start.sent;
  const bytesReceived = bytesEnd.received - start.received;
  const summary = histogram.summary();
  return {
    target,
    settings: { connections, perConnection, requests: count, durationMs, warmupMs, rate, keepConn, probe, validate, timeoutMs, engine: options.engine ?? 'wire' },
    capabilities,
    requests: measured,
    ok,
    errors: Object.fromEntries(errors),
    protocolStatus: Object.fromEntries(statuses),
    cgiStatus: Object.fromEntries(cgi),
    durationMs: round3(elapsed),
    requestsPerSecond: round3(perSecond(measured)),
    bytesSent,
    bytesReceived,
    bytesSentPerSecond: Math.round(perSecond(bytesSent)),
    bytesReceivedPerSecond: Math.round(perSecond(bytesReceived)),
    latencyMs: { ...summary, mean: histogram.mean, min: histogram.min },
    histogram,
    violations: Object.fromEntries(hub.violations),
    violationCount: hub.violationCount,
    samples: hub.samples,
    connections: { opened: hub.connectionsOpened, peak, closes: { ...hub.closes } },
    clientCpu: {
      microsPerRequest: measured === 0 || cpuAtStart === undefined ? 0 : round3((cpu.user + cpu.system) / measured),
      coreShare: cpuAtStart === undefined || cpuWindowMs <= 0 ? 0 : round3((cpu.user + cpu.system) / 1000 / cpuWindowMs),
    },
    late: rate === undefined ? undefined : late,
    notes,
  };
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
