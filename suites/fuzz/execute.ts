/**
 * Runs one wire plan against a target: its connections side by side, each connection's batches one after the
 * other (the next once the previous one's requests and management records were answered), then the end of
 * the connection observed: the close the model expects, a FCGI_GET_VALUES barrier (everything the
 * application wrote before answering it has arrived), or a quiet period. Every write and every record received
 * goes into a timed log for the judge; nothing here judges.
 * @see §3.3 §4.1 §5.1
 */
import { FCGI_END_REQUEST, FCGI_GET_VALUES, FCGI_GET_VALUES_RESULT, FCGI_HEADER_LEN, FCGI_MPXS_CONNS, FCGI_NULL_REQUEST_ID } from '../../spec/constants.ts';
import { encodeRecord } from '../../reference/codec/record.ts';
import { encodeNameValuePairs } from '../../reference/codec/name-value.ts';
import type { RawConnection, TranscriptEntry } from '../../reference/client/raw-connection.ts';
import { closingBatch, type ConnectionObservation, type LogItem, type ObservedUntil } from './model.ts';
import type { WireConnection, WirePlan } from './plan.ts';

/** How to run a plan. */
export interface ExecuteOptions {
  /** Opens a connection to the target. */
  readonly connect: () => Promise<RawConnection>;
  /** How long a batch may wait for its answers after the last record received. */
  readonly replyMs: number;
  /** How long to wait for a close the model expects. */
  readonly closeMs: number;
  /** How long to listen after the last answer when neither a close nor a barrier ends the observation. */
  readonly quietMs: number;
  /** End kept connections with a FCGI_GET_VALUES barrier (only for targets that answer it and stay open). */
  readonly barrier: boolean;
  /** Stops every connection (a watchdog, SIGINT). */
  readonly signal?: AbortSignal;
}

/** One connection as run: the judge's observation, and the raw transcript for reports. */
export interface ExecutedConnection {
  readonly observation: ConnectionObservation;
  readonly transcript: readonly TranscriptEntry[];
  readonly omittedBytes: number;
}

/** A plan as run. */
export interface Execution {
  readonly connections: readonly ExecutedConnection[];
  readonly durationMs: number;
}

/** The barrier record: FCGI_GET_VALUES for FCGI_MPXS_CONNS. @see §4.1 */
export const barrierRecord = encodeRecord({ type: FCGI_GET_VALUES, requestId: FCGI_NULL_REQUEST_ID, content: encodeNameValuePairs([[FCGI_MPXS_CONNS, '']]) });

/** Runs the plan; never rejects for what the target does. */
export async function executePlan(wire: WirePlan, options: ExecuteOptions): Promise<Execution> {
  const started = performance.now();
  const connections = await Promise.all(wire.connections.map((c) => runConnection(c, options, started)));
  return { connections, durationMs: Math.round((performance.now() - started) * 10) / 10 };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function runConnection(wire: WireConnection, options: ExecuteOptions, caseStart: number): Promise<ExecutedConnection> {
  const openedAtMs = Math.round((performance.now() - caseStart) * 1000) / 1000;
  let raw: RawConnection;
  try {
    raw = await options.connect();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { observation: { log: [], pendingBytes: 0, observedUntil: 'connect-failed', connectError: message, openedAtMs }, transcript: [], omittedBytes: 0 };
  }
  const log: LogItem[] = [];
  let received = 0; // bytes of the records received
  let closed = false;
  const onAbort = (): void => raw.destroy();
  options.signal?.addEventListener('abort', onAbort);

  // Takes the next event into the log; false once the connection is closed or the wait timed out.
  const take = async (timeoutMs: number): Promise<'record' | 'closed' | 'timeout'> => {
    const event = await raw.next(Math.max(1, timeoutMs));
    if (event.kind === 'record') {
      received += FCGI_HEADER_LEN + event.record.content.length + event.record.paddingLength;
      log.push({ kind: 'record', atMs: event.atMs, record: event.record });
      lastRecord = event.record;
      return 'record';
    }
    if (event.kind === 'closed') {
      if (!closed) log.push({ kind: 'closed', atMs: event.atMs, how: event.how, ...(event.detail === undefined ? {} : { detail: event.detail }) });
      closed = true;
      return 'closed';
    }
    return 'timeout';
  };
  let lastRecord: { readonly type: number; readonly requestId: number } | undefined;
  // A write the application does not take within the reply time means it stopped reading: a request waiting
  // for that input then never ends. The wait is bounded here, or the case would hang with it.
  const send = async (bytes: Uint8Array, batch: number, barrier = false): Promise<boolean> => {
    log.push({ kind: 'send', atMs: raw.now(), batch, bytes, ...(barrier ? { barrier: true } : {}) });
    let timer: NodeJS.Timeout | undefined;
    const accepted = await Promise.race([
      raw.sendBytes(bytes).then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), options.replyMs);
      }),
    ]);
    clearTimeout(timer);
    if (!accepted) log.push({ kind: 'mark', atMs: raw.now(), text: `a write of ${bytes.length} bytes was not taken within ${options.replyMs} ms: the application stopped reading` });
    return accepted;
  };

  let until: ObservedUntil = 'stopped';
  try {
    batches: for (const [b, batch] of wire.batches.entries()) {
      if (closed || options.signal?.aborted) break;
      for (const piece of batch.writes) {
        if (!(await send(piece, b))) {
          until = 'write-timeout';
          break batches;
        }
        // A turn of the event loop between writes, so that each leaves as its own segment.
        if (batch.writes.length > 1) await tick();
      }
      log.push({ kind: 'mark', atMs: raw.now(), text: `batch ${b} sent` });
      const waiting = new Set(batch.requests.map((r) => r.id));
      let answers = batch.records.filter((r) => r.requestId === FCGI_NULL_REQUEST_ID).length;
      let deadline = performance.now() + options.replyMs;
      while (waiting.size > 0 || answers > 0) {
        const got = await take(deadline - performance.now());
        if (got === 'closed') {
          until = 'closed';
          break batches;
        }
        if (got === 'timeout') {
          log.push({ kind: 'mark', atMs: raw.now(), text: `batch ${b}: gave up waiting after ${options.replyMs} ms` });
          until = 'batch-timeout';
          break batches;
        }
        // Output is progress: a large or slow answer gets the full wait after its last record.
        deadline = performance.now() + options.replyMs;
        const r = lastRecord!;
        if (r.requestId === FCGI_NULL_REQUEST_ID) answers--;
        else if (r.type === FCGI_END_REQUEST) waiting.delete(r.requestId);
      }
      log.push({ kind: 'mark', atMs: raw.now(), text: `batch ${b} answered` });
    }
    if (!closed && until === 'stopped' && !options.signal?.aborted) until = await finish(wire, options, take, send, log, raw);
    else if (closed) until = 'closed';
    if (options.signal?.aborted) until = 'stopped';
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    // Let a close already on its way be noticed, so the log holds it.
    for (const e of raw.drainQueued()) {
      if (e.kind === 'record') {
        received += FCGI_HEADER_LEN + e.record.content.length + e.record.paddingLength;
        log.push({ kind: 'record', atMs: e.atMs, record: e.record });
      } else if (e.kind === 'closed' && !closed) {
        closed = true;
        log.push({ kind: 'closed', atMs: e.atMs, how: e.how, ...(e.detail === undefined ? {} : { detail: e.detail }) });
      }
    }
    raw.destroy();
  }
  return {
    observation: { log, pendingBytes: Math.max(0, raw.bytesReceived - received), observedUntil: until, openedAtMs },
    transcript: raw.transcript,
    omittedBytes: raw.omittedBytes,
  };
}

// After the last batch: wait for the close the model expects, or fence the output with a barrier, or listen.
async function finish(
  wire: WireConnection,
  options: ExecuteOptions,
  take: (ms: number) => Promise<'record' | 'closed' | 'timeout'>,
  send: (bytes: Uint8Array, batch: number, barrier?: boolean) => Promise<boolean>,
  log: LogItem[],
  raw: RawConnection,
): Promise<ObservedUntil> {
  const listen = async (ms: number, stop: () => boolean): Promise<'closed' | 'stopped' | 'timeout'> => {
    const deadline = performance.now() + ms;
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) return 'timeout';
      const got = await take(left);
      if (got === 'closed') return 'closed';
      if (got === 'timeout') return 'timeout';
      if (stop()) return 'stopped';
    }
  };
  if (closingBatch(wire)) {
    log.push({ kind: 'mark', atMs: raw.now(), text: `waiting up to ${options.closeMs} ms for the close` });
    return (await listen(options.closeMs, () => false)) === 'closed' ? 'closed' : 'close-wait';
  }
  if (options.barrier) {
    if (!(await send(barrierRecord, wire.batches.length, true))) return 'write-timeout';
    let answered = false;
    const got = await listen(options.replyMs, () => {
      const last = log.at(-1);
      answered = last?.kind === 'record' && last.record.type === FCGI_GET_VALUES_RESULT && last.record.requestId === FCGI_NULL_REQUEST_ID;
      return answered;
    });
    return got === 'closed' ? 'closed' : answered ? 'barrier' : 'barrier-timeout';
  }
  return (await listen(options.quietMs, () => false)) === 'closed' ? 'closed' : 'quiet';
}
