/**
 * A tiny FastCGI Responder over node:net for the web-server interop tests, written with the codec only:
 * one request at a time per connection, any number of connections, KEEP_CONN honoured. It records what each
 * request carried so a test can check what the web server sent.
 */
import { createServer, type Socket } from 'node:net';
import { chmodSync } from 'node:fs';
import { decodeBeginRequestBody, encodeEndRequestBody } from '../../../reference/codec/bodies.ts';
import { decodeNameValuePairs, pairsToMap } from '../../../reference/codec/name-value.ts';
import { concatBytes, encodeRecord, encodeStream, RecordDecoder } from '../../../reference/codec/record.ts';
import {
  FCGI_BEGIN_REQUEST,
  FCGI_END_REQUEST,
  FCGI_KEEP_CONN,
  FCGI_PARAMS,
  FCGI_REQUEST_COMPLETE,
  FCGI_STDIN,
  FCGI_STDOUT,
} from '../../../spec/constants.ts';

/** A request as the responder received it. */
export interface TinyRequest {
  readonly requestId: number;
  readonly flags: number;
  readonly params: ReadonlyMap<string, string>;
  readonly stdin: Uint8Array;
}

/** Turns a request into the CGI output (headers, blank line, body) written on FCGI_STDOUT. */
export type TinyHandler = (request: TinyRequest) => Uint8Array;

export interface TinyResponder {
  readonly address: string;
  /** Every request served, in order. */
  readonly requests: readonly TinyRequest[];
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

const LIMIT = 16 * 1024 * 1024; // bytes of params + stdin one request may carry

/** Listens on 127.0.0.1:0, or on `unixPath` (mode 0666) when given. */
export async function startTinyResponder(handler: TinyHandler, unixPath?: string): Promise<TinyResponder> {
  const requests: TinyRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const decoder = new RecordDecoder();
    let current: { id: number; flags: number; params: Uint8Array[]; stdin: Uint8Array[]; size: number } | undefined;
    socket.on('data', (chunk: Buffer) => {
      for (const record of decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length))) {
        if (record.type === FCGI_BEGIN_REQUEST) {
          current = { id: record.requestId, flags: decodeBeginRequestBody(record.content).flags, params: [], stdin: [], size: 0 };
          continue;
        }
        if (!current || record.requestId !== current.id) continue;
        current.size += record.content.length;
        if (current.size > LIMIT) return socket.destroy();
        if (record.type === FCGI_PARAMS) {
          current.params.push(record.content.slice());
        } else if (record.type === FCGI_STDIN) {
          if (record.content.length > 0) {
            current.stdin.push(record.content.slice());
            continue;
          }
          const request: TinyRequest = {
            requestId: current.id,
            flags: current.flags,
            params: pairsToMap(decodeNameValuePairs(concatBytes(current.params)).pairs),
            stdin: concatBytes(current.stdin),
          };
          current = undefined;
          requests.push(request);
          socket.write(
            concatBytes([
              encodeStream(FCGI_STDOUT, request.requestId, handler(request)),
              encodeRecord({
                type: FCGI_END_REQUEST,
                requestId: request.requestId,
                content: encodeEndRequestBody({ appStatus: 0, protocolStatus: FCGI_REQUEST_COMPLETE }),
              }),
            ]),
          );
          if ((request.flags & FCGI_KEEP_CONN) === 0) socket.end();
        }
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (unixPath) server.listen(unixPath, resolve);
    else server.listen(0, '127.0.0.1', resolve);
  });
  if (unixPath) chmodSync(unixPath, 0o666);
  const bound = server.address();
  const address = unixPath ? `unix:${unixPath}` : `tcp:127.0.0.1:${typeof bound === 'object' && bound ? bound.port : 0}`;
  return {
    address,
    requests,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
