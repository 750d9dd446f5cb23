import { startServe } from '../../../harness/commands/serve.ts';
import { RawConnection } from '../../../reference/client/raw-connection.ts';
import { parseAddress } from '../../../reference/address.ts';
import { encodeRecord, encodeStream, concatBytes } from '../../../reference/codec/record.ts';
import { encodeBeginRequestBody } from '../../../reference/codec/bodies.ts';
import { encodeNameValuePairs } from '../../../reference/codec/name-value.ts';
const h = await startServe({ listen: 'unix:/tmp/fz/r64.sock', log: false });
for (const [n, split] of [[65536, true], [65536, false], [65535, true], [65537, true]] as const) {
  const c = await RawConnection.connect(parseAddress(h.address));
  const head = concatBytes([
    encodeRecord({ type: 1, requestId: 1, content: encodeBeginRequestBody({ role: 1, flags: 1 }) }),
    encodeStream(4, 1, encodeNameValuePairs({ PROBE_ACTION: 'status', PROBE_STATUS: '200', CONTENT_LENGTH: String(n) })),
    encodeStream(5, 1, new Uint8Array(n), { terminate: false }),
  ]);
  const end = encodeStream(5, 1, new Uint8Array(0));
  if (split) { await c.sendBytes(head); await new Promise(r => setTimeout(r, 50)); await c.sendBytes(end); } else await c.sendBytes(concatBytes([head, end]));
  let got = 'timeout';
  for (;;) { const e = await c.next(1500); if (e.kind !== 'record') { got = e.kind; break; } if (e.record.type === 3) { got = 'END'; break; } }
  console.log(`stdin ${n} bytes, ${split ? 'terminator in a later write' : 'one write'}: ${got}`);
  c.destroy();
}
await h.close(0);
