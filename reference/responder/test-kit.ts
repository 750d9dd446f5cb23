/**
 * Test helpers for the responder and probe tests: start a responder on a temp Unix socket or TCP port 0,
 * build request bytes, collect one request's answer from a RawConnection.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FCGI_BEGIN_REQUEST,
  FCGI_DATA,
  FCGI_END_REQUEST,
  FCGI_PARAMS,
  FCGI_RESPONDER,
  FCGI_STDERR,
  FCGI_STDIN,
  FCGI_STDOUT,
} from '../../spec/constants.ts';
import type { Address } from '../address.ts';
import { encodeBeginRequestBody, decodeEndRequestBody } from '../codec/bodies.ts';
import { encodeNameValuePairs, type ParamsInit } from '../codec/name-value.ts';
import { concatBytes, encodeRecord, encodeStream, type DecodedRecord, type StreamEncodeOptions } from '../codec/record.ts';
import { RawConnection, type CloseKind } from '../client/raw-connection.ts';
import { createResponder, type Responder } from './responder.ts';
import type { ResponderOptions } from './types.ts';

export type Transport = 'tcp' | 'unix';

export interface TestResponder {
  readonly responder: Responder;
  readonly address: Address;
  connect(): Promise<RawConnection>;
  close(): Promise<void>;
}

/** Starts a responder on TCP port 0 or a Unix socket in a fresh temp directory. */
export async function startTestResponder(options: ResponderOptions, transport: Transport = 'tcp'): Promise<TestResponder> {
  const responder = createResponder({ webServerAddrs: null, ...options });
  let dir: string | undefined;
  const target: Address = transport === 'tcp' ? { kind: 'tcp', host: '127.0.0.1', port: 0 } : { kind: 'unix', path: join((dir = await mkdtemp(join(tmpdir(), 'fcgispec-resp-'))), 's') };
  const { address } = await responder.listen(target);
  const conns: RawConnection[] = [];
  return {
    responder,
    address,
    async connect() {
      const c = await RawConnection.connect(address, { timeoutMs: 5000 });
      conns.push(c);
      return c;
    },
    async close() {
      for (const c of conns) c.destroy();
      await responder.close({ graceMs: 0 });
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A request to encode. */
export interface RequestSpec {
  readonly id: number;
  readonly role?: number;
  readonly flags?: number;
  readonly params?: ParamsInit;
  readonly stdin?: Uint8Array | string;
  readonly data?: Uint8Array | string;
  /** Leave out the empty FCGI_STDIN record. */
  readonly openStdin?: boolean;
  readonly records?: StreamEncodeOptions;
}

const text = new TextEncoder();
const bytesOf = (b: Uint8Array | string | undefined): Uint8Array => (b === undefined ? new Uint8Array(0) : typeof b === 'string' ? text.encode(b) : b);

export function beginRecord(id: number, role = FCGI_RESPONDER, flags = 0): Uint8Array {
  return encodeRecord({ type: FCGI_BEGIN_REQUEST, requestId: id, content: encodeBeginRequestBody({ role, flags }) });
}

export function paramsRecords(id: number, params: ParamsInit, terminate = true): Uint8Array {
  return encodeStream(FCGI_PARAMS, id, encodeNameValuePairs(params), { terminate });
}

/** BEGIN_REQUEST, PARAMS, STDIN (and DATA when given). */
export function requestBytes(spec: RequestSpec): Uint8Array {
  const parts = [
    beginRecord(spec.id, spec.role ?? FCGI_RESPONDER, spec.flags ?? 0),
    encodeStream(FCGI_PARAMS, spec.id, encodeNameValuePairs(spec.params ?? {}), spec.records),
    encodeStream(FCGI_STDIN, spec.id, bytesOf(spec.stdin), { ...spec.records, terminate: spec.openStdin !== true }),
  ];
  if (spec.data !== undefined) parts.push(encodeStream(FCGI_DATA, spec.id, bytesOf(spec.data), spec.records));
  return concatBytes(parts);
}

/** What came back for one request. */
export interface Collected {
  readonly ending: 'end-request' | 'closed' | 'timeout';
  readonly closeHow?: CloseKind;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly appStatus?: number;
  readonly protocolStatus?: number;
  readonly stdoutTerminated: boolean;
  readonly stderrTerminated: boolean;
  /** This request's records, in order. */
  readonly records: readonly DecodedRecord[];
  /** Records of other ids (including management) seen meanwhile. */
  readonly others: readonly DecodedRecord[];
}

/** Reads events until FCGI_END_REQUEST for `id`, the close, or `timeoutMs` of silence. */
export async function collect(conn: RawConnection, id: number, timeoutMs = 3000): Promise<Collected> {
  const records: DecodedRecord[] = [];
  const others: DecodedRecord[] = [];
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  let stdoutTerminated = false;
  let stderrTerminated = false;
  const result = (ending: Collected['ending'], extra: Partial<Collected> = {}): Collected => ({
    ending,
    stdout: Buffer.concat(out),
    stderr: Buffer.concat(err),
    stdoutTerminated,
    stderrTerminated,
    records,
    others,
    ...extra,
  });
  for (;;) {
    const e = await conn.next(timeoutMs);
    if (e.kind === 'timeout') return result('timeout');
    if (e.kind === 'closed') return result('closed', { closeHow: e.how });
    const r = e.record;
    if (r.requestId !== id) {
      others.push(r);
      continue;
    }
    records.push(r);
    if (r.type === FCGI_STDOUT) {
      if (r.content.length === 0) stdoutTerminated = true;
      else out.push(r.content);
    } else if (r.type === FCGI_STDERR) {
      if (r.content.length === 0) stderrTerminated = true;
      else err.push(r.content);
    } else if (r.type === FCGI_END_REQUEST) {
      const body = decodeEndRequestBody(r.content);
      return result('end-request', { appStatus: body.appStatus, protocolStatus: body.protocolStatus });
    }
  }
}

/** Waits for the close; returns how, or 'open' if it did not close within `timeoutMs`. Records are discarded. */
export async function waitClosed(conn: RawConnection, timeoutMs = 2000): Promise<CloseKind | 'open'> {
  for (;;) {
    const e = await conn.next(timeoutMs);
    if (e.kind === 'closed') return e.how;
    if (e.kind === 'timeout') return 'open';
  }
}

/** Whether every record is 8-byte aligned (§3.3 recommends it). */
export function allAligned(records: readonly DecodedRecord[]): boolean {
  return records.every((r) => (8 + r.content.length + r.paddingLength) % 8 === 0);
}
