/**
 * Where a request's output goes: a buffer for `request()`, Readables for `stream()`. A connection feeds a
 * sink and settles it exactly once; the sink turns that into the caller's promise and streams.
 */
import { Readable } from 'node:stream';
import { parseCgiResponse } from '../cgi.ts';
import { ClientError, type ClientErrorCode, type ClientErrorDetails } from './errors.ts';
import type { RequestEnd, RequestResult, ResponseStream } from './types.ts';

/** A failure as the connection describes it; the sink adds what it holds (the buffered result). */
export interface Failure {
  readonly code: ClientErrorCode;
  readonly message: string;
  readonly details?: ClientErrorDetails;
  readonly cause?: unknown;
}

/** @internal The connection's side of a request's output. */
export interface Sink {
  /** Bytes hold at most this much before the connection fails the request (E_TOO_LARGE). */
  readonly maxBytes: number;
  /** The request has an id on a connection; `resume` restarts reading after `stdout`/`stderr` returned false. */
  started(requestId: number, resume: () => void): void;
  /** False asks the connection to stop reading until `resume`. */
  stdout(bytes: Uint8Array): boolean;
  stderr(bytes: Uint8Array): boolean;
  /** Called once: `end` when FCGI_END_REQUEST came, `failure` when the request did not complete. */
  settle(end: RequestEnd | undefined, failure: Failure | undefined): void;
}

/** A sink that gathers output and settles a promise with a `RequestResult`. */
export function bufferedSink(maxBytes: number, maxCgiHeaderBytes: number | undefined): { promise: Promise<RequestResult>; sink: Sink } {
  let resolve!: (r: RequestResult) => void;
  let reject!: (e: ClientError) => void;
  const promise = new Promise<RequestResult>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  let out: Uint8Array[] = [];
  let err: Uint8Array[] = [];
  const cgiOptions = maxCgiHeaderBytes === undefined ? {} : { maxHeaderBytes: maxCgiHeaderBytes };
  const sink: Sink = {
    maxBytes,
    started() {},
    stdout(bytes) {
      out.push(bytes);
      return true;
    },
    stderr(bytes) {
      err.push(bytes);
      return true;
    },
    settle(end, failure) {
      let result: RequestResult | undefined;
      if (end) {
        const stdout = join(out);
        const parsed = parseCgiResponse(stdout, cgiOptions);
        // Field by field, not `...end`: V8 is slow at a spread followed by more properties.
        result = {
          requestId: end.requestId,
          appStatus: end.appStatus,
          protocolStatus: end.protocolStatus,
          stdoutBytes: end.stdoutBytes,
          stderrBytes: end.stderrBytes,
          anomalies: end.anomalies,
          stdout,
          stderr: join(err),
          cgi: parsed.kind === 'response' ? parsed.response : undefined,
          cgiError: parsed.kind === 'error' ? parsed.error : undefined,
        };
      }
      out = [];
      err = [];
      if (!failure) return resolve(result!);
      const details: ClientErrorDetails = { ...failure.details, ...(end ? { end } : {}), ...(result ? { result } : {}) };
      reject(new ClientError(failure.code, failure.message, details, failure.cause === undefined ? undefined : { cause: failure.cause }));
    },
  };
  return { promise, sink };
}

/** A sink that pushes output into two Readables, for `stream()`. */
export function streamSink(abort: (reason?: unknown) => void, highWaterMark = 64 * 1024): { handle: ResponseStream; sink: Sink } {
  let resume: (() => void) | undefined;
  const read = (): void => resume?.();
  const stdout = new Readable({ read, highWaterMark });
  const stderr = new Readable({ read, highWaterMark });
  let idResolve!: (id: number) => void;
  let idReject!: (e: unknown) => void;
  const requestId = new Promise<number>((res, rej) => {
    idResolve = res;
    idReject = rej;
  });
  let endResolve!: (e: RequestEnd) => void;
  let endReject!: (e: unknown) => void;
  const ended = new Promise<RequestEnd>((res, rej) => {
    endResolve = res;
    endReject = rej;
  });
  // The caller may await only one of these; an unobserved rejection must not take the process down.
  requestId.catch(() => {});
  ended.catch(() => {});
  const sink: Sink = {
    maxBytes: Infinity,
    started(id, r) {
      resume = r;
      idResolve(id);
    },
    stdout: (bytes) => stdout.push(asBuffer(bytes)),
    stderr: (bytes) => stderr.push(asBuffer(bytes)),
    settle(end, failure) {
      resume = undefined;
      if (!failure) {
        stdout.push(null);
        stderr.push(null);
        endResolve(end!);
        return;
      }
      const error = new ClientError(failure.code, failure.message, { ...failure.details, ...(end ? { end } : {}) }, failure.cause === undefined ? undefined : { cause: failure.cause });
      idReject(error);
      // Destroyed without an error: consumers see a premature close, and no 'error' event can go unhandled.
      stdout.destroy();
      stderr.destroy();
      endReject(error);
    },
  };
  return { handle: { stdout, stderr, requestId, ended, abort }, sink };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

const EMPTY = Buffer.alloc(0);

function join(chunks: readonly Uint8Array[]): Buffer {
  if (chunks.length === 0) return EMPTY;
  if (chunks.length === 1) return asBuffer(chunks[0]!);
  return Buffer.concat(chunks);
}
