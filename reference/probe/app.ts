/**
 * The reference probe app: the probe contract (README.md, `model.ts`) as a handler for the reference
 * responder. It reads FCGI_STDIN to its end before answering (FCGI_DATA too, for `echo-data`), so its
 * output never races its input, except that an `echo-stdin` body past `echoBufferLimit` is streamed back.
 * @see §6.2 §6.3 §6.4
 */
import type { Readable } from 'node:stream';
import type { FcgiRequest, FcgiResponse, Handler } from '../responder/types.ts';
import { parseProbeRequest, probeReasons, type ProbeRequest } from './model.ts';
import { abortableSleep } from '../sleep.ts';

/** Options of the probe handler. */
export interface ProbeAppOptions {
  /** `echo-stdin` bodies up to this size are answered at once; larger ones are streamed. Default 16 MiB. */
  readonly echoBufferLimit?: number;
}

// One block of the bulk pattern, a multiple of 10 (the pattern) and of 8 (record alignment).
const BULK_BLOCK = Buffer.alloc(65520, '0123456789');
const EMPTY = Buffer.alloc(0);
// Unread stdin held (then dropped) before the stream is drained instead.
const DISCARD_HOLD = 64 * 1024;

/** The probe handler with default options. */
export const probeHandler: Handler = createProbeHandler();

/** Creates the probe handler. */
export function createProbeHandler(options: ProbeAppOptions = {}): Handler {
  const echoLimit = options.echoBufferLimit ?? 16 * 1024 * 1024;
  return (req, res) => serveProbe(req, res, echoLimit);
}

async function serveProbe(req: FcgiRequest, res: FcgiResponse, echoLimit: number): Promise<void> {
  const probe = parseProbeRequest(req.role, req);
  const call = probe.call;
  if (call.kind === 'echo-stdin') return echoStdin(req, res, probe, echoLimit);
  if (req.role === 'filter' && call.kind !== 'echo-data') req.data.resume();
  if ((await req.bufferStdin(DISCARD_HOLD)) === undefined && !res.ended) await drain(req.stdin);
  if (res.ended) return;
  switch (call.kind) {
    case 'authorize':
      if (call.allow) return answer(req, res, probe, 200, 'authorized\n', 'Variable-PROBE: ok\r\n');
      return answer(req, res, probe, 403, 'forbidden\n');
    case 'echo-data':
      return answer(req, res, probe, 200, (await req.bufferData(echoLimit)) ?? (await collect(req.data)));
    case 'echo-param':
      if (call.value === undefined) return answer(req, res, probe, 404, 'no such param\n');
      return answer(req, res, probe, 200, call.value);
    case 'echo-params':
      return answer(req, res, probe, 200, call.lines);
    case 'bulk':
      return bulk(req, res, probe, call.size);
    case 'sleep':
      await abortableSleep(call.ms, req.signal);
      return answer(req, res, probe, 200, 'slept\n');
    case 'stderr':
      if (call.text.length > 0) await res.writeStderr(call.text);
      return answer(req, res, probe, 200, 'ok\n');
    case 'status':
      return answer(req, res, probe, call.status, 'status\n', '', 'Probe');
    case 'bad-request':
      return answer(req, res, probe, 400, `${call.reason}\n`);
  }
}

function head(req: FcgiRequest, status: number, extra = '', reason = probeReasons[status] ?? 'Probe'): string {
  const statusLine = status === 200 && req.faults.has('no-status-header') ? '' : `Status: ${status} ${reason}\r\n`;
  return `${statusLine}Content-Type: application/octet-stream\r\n${extra}\r\n`;
}

// The `echo-wrong` fault: one byte of the body changes (or one appears, for an empty body).
function corrupt(body: Uint8Array): Uint8Array {
  if (body.length === 0) return Buffer.from('!');
  const out = Buffer.from(body);
  out[0] = out[0]! ^ 0x01;
  return out;
}

async function answer(
  req: FcgiRequest,
  res: FcgiResponse,
  probe: ProbeRequest,
  status: number,
  body: Uint8Array | string,
  extraHeaders = '',
  reason?: string,
): Promise<void> {
  let bytes: Uint8Array = typeof body === 'string' ? Buffer.from(body) : body;
  if (req.faults.has('echo-wrong')) bytes = corrupt(bytes);
  // One write: headers and body go out as one record when they fit.
  const headText = head(req, status, extraHeaders, reason);
  const out = Buffer.allocUnsafe(Buffer.byteLength(headText, 'latin1') + bytes.length);
  const n = out.write(headText, 'latin1');
  out.set(bytes, n);
  await res.write(out);
  res.end(probe.appStatus);
}

async function echoStdin(req: FcgiRequest, res: FcgiResponse, probe: ProbeRequest, limit: number): Promise<void> {
  const all = await req.bufferStdin(limit);
  if (res.ended) return;
  if (all) return answer(req, res, probe, 200, all);
  // Too big to hold: the headers go out now, the body as it arrives.
  await res.write(head(req, 200));
  let corruptNext = req.faults.has('echo-wrong');
  for await (const chunk of req.stdin) {
    await res.write(corruptNext ? corrupt(chunk as Buffer) : (chunk as Buffer));
    corruptNext = false;
  }
  res.end(probe.appStatus);
}

async function bulk(req: FcgiRequest, res: FcgiResponse, probe: ProbeRequest, size: number): Promise<void> {
  if (size <= BULK_BLOCK.length) return answer(req, res, probe, 200, BULK_BLOCK.subarray(0, size));
  await res.write(head(req, 200));
  let first = true;
  for (let left = size; left > 0 && !res.ended; left -= BULK_BLOCK.length) {
    const block = BULK_BLOCK.subarray(0, Math.min(left, BULK_BLOCK.length));
    await res.write(first && req.faults.has('echo-wrong') ? corrupt(block) : block);
    first = false;
  }
  res.end(probe.appStatus);
}

async function drain(stream: Readable): Promise<void> {
  stream.resume();
  if (stream.readableEnded) return;
  await new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
  });
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return chunks.length === 0 ? EMPTY : Buffer.concat(chunks);
}

