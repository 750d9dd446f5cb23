'use strict';
/*
 * fcgispec probe app, contract version 1, on node-fastcgi 2 (npm), which mimics node's http server.
 * The contract is reference/probe/README.md; the reference app and this file answer alike, except:
 *
 * - PROBE_EXIT is checked (400 when malformed) but cannot set appStatus: node-fastcgi sends 0 (1 when the
 *   request stream is destroyed with an error).
 * - Params: node-fastcgi decodes every name and value as UTF-8 (bytes that are not UTF-8 become U+FFFD),
 *   and decodes each FCGI_PARAMS record on its own, so a pair split across two records is lost. This app
 *   encodes them back as UTF-8.
 * - status 1xx, 204 and 304: node's HTTP layer drops the body ("status\n"), keeping Content-Length: 7.
 *
 * node-fastcgi is not a dependency of fcgispec: the launcher installs it into a cache folder and passes
 * that folder's node_modules as NODE_PATH. Usage: node probe.cjs tcp:127.0.0.1:PORT | unix:PATH
 */
const fcgi = require('node-fastcgi');
const fs = require('node:fs');

const CONTRACT_VERSION = 1;
const REASONS = { 200: 'OK', 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 501: 'Not Implemented' };

function readAll(stream) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    stream.on('data', (c) => chunks.push(typeof c === 'string' ? Buffer.from(c, 'utf8') : c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** A decimal param of 1..digits digits, at most max: undefined when absent, NaN when malformed. */
function number(params, name, digits, max) {
  const raw = params[name];
  if (raw === undefined) return undefined;
  if (!new RegExp(`^[0-9]{1,${digits}}$`).test(raw)) return NaN;
  const n = Number(raw);
  return n <= max ? n : NaN;
}

// An explicit Content-Length keeps node's http layer from chunk-encoding the body on FCGI_STDOUT.
function answer(res, status, body, extra = {}, reason = REASONS[status] ?? 'Probe') {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, reason, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.length), ...extra });
  res.end(bytes);
}

function utf8(value) {
  return Buffer.from(value, 'utf8');
}

async function serve(req, res, role) {
  const params = req.socket.params;
  // Input before output: FCGI_STDIN and (Filter) FCGI_DATA, each to its end. For a Filter, FCGI_DATA is read
  // first: node's IncomingMessage destroys the request (and node-fastcgi ends it, with no output) when it
  // ends before node-fastcgi has marked it complete, which it does only once FCGI_DATA has ended too.
  const data = role === 'FILTER' ? await readAll(req.socket.dataStream) : Buffer.alloc(0);
  const stdin = await readAll(req);
  const exit = number(params, 'PROBE_EXIT', 10, 4294967295);
  if (Number.isNaN(exit)) return answer(res, 400, 'bad PROBE_EXIT\n');
  if (role === 'AUTHORIZER') {
    return params.PROBE_AUTH === 'allow' ? answer(res, 200, 'authorized\n', { 'Variable-PROBE': 'ok' }) : answer(res, 403, 'forbidden\n');
  }
  const action = params.PROBE_ACTION ?? 'echo-stdin';
  switch (action) {
    case 'echo-stdin':
      return answer(res, 200, stdin);
    case 'echo-data':
      return answer(res, 200, data);
    case 'echo-param': {
      const name = params.PROBE_NAME;
      if (name === undefined) return answer(res, 400, 'bad PROBE_NAME\n');
      return Object.hasOwn(params, name) ? answer(res, 200, utf8(params[name])) : answer(res, 404, 'no such param\n');
    }
    case 'echo-params': {
      const prefix = params.PROBE_PREFIX ?? '';
      const names = Object.keys(params)
        .filter((n) => n.startsWith(prefix))
        .sort((a, b) => Buffer.compare(utf8(a), utf8(b)));
      return answer(res, 200, Buffer.concat(names.map((n) => utf8(`${n}=${params[n]}\n`))));
    }
    case 'bulk': {
      const size = number(params, 'PROBE_SIZE', 10, 1073741824);
      if (size === undefined || Number.isNaN(size)) return answer(res, 400, 'bad PROBE_SIZE\n');
      res.writeHead(200, 'OK', { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) });
      const block = Buffer.from('0123456789'.repeat(6552));
      let left = size;
      const more = () => {
        while (left > 0) {
          const n = Math.min(left, block.length);
          left -= n;
          if (left === 0) return res.end(block.subarray(0, n));
          if (!res.write(block.subarray(0, n))) return res.once('drain', more);
        }
        res.end();
      };
      return more();
    }
    case 'sleep': {
      const ms = number(params, 'PROBE_MS', 6, 600000);
      if (ms === undefined || Number.isNaN(ms)) return answer(res, 400, 'bad PROBE_MS\n');
      await new Promise((r) => setTimeout(r, ms));
      return answer(res, 200, 'slept\n');
    }
    case 'stderr': {
      const text = params.PROBE_TEXT ?? '';
      if (text !== '') res.stderr.write(utf8(text));
      return answer(res, 200, 'ok\n');
    }
    case 'status': {
      const s = params.PROBE_STATUS ?? '';
      if (!/^[1-5][0-9][0-9]$/.test(s)) return answer(res, 400, 'bad PROBE_STATUS\n');
      return answer(res, Number(s), 'status\n', {}, 'Probe');
    }
    default:
      return answer(res, 400, 'unknown action\n');
  }
}

function handler(role) {
  return (req, res) => {
    serve(req, res, role).catch((err) => {
      process.stderr.write(`probe.cjs: ${err && err.stack ? err.stack : err}\n`);
      if (!res.headersSent) answer(res, 500, 'probe failed\n');
      else res.destroy(err);
    });
  };
}

const where = process.argv[2] ?? '';
const server = fcgi.createServer(handler('RESPONDER'), handler('AUTHORIZER'), handler('FILTER'));
server.on('protocolError', (err) => process.stderr.write(`probe.cjs: ${err.message}\n`));
let listening;
if (where.startsWith('tcp:')) {
  const at = where.lastIndexOf(':');
  listening = { host: where.slice(4, at), port: Number(where.slice(at + 1)) };
} else if (where.startsWith('unix:')) {
  listening = { path: where.slice(5) };
} else {
  process.stderr.write(`usage: node probe.cjs tcp:HOST:PORT | unix:PATH (probe contract ${CONTRACT_VERSION})\n`);
  process.exit(2);
}
server.listen(listening, () => {
  if (listening.path) fs.chmodSync(listening.path, 0o666);
});
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
