/**
 * Record sizes at the top of their ranges: contentLength 65535 together with paddingLength 255, on PARAMS and
 * on STDIN. @see §3.3 "contentData: Between 0 and 65535 bytes … paddingData: Between 0 and 255 bytes"
 */
import { FCGI_MAX_CONTENT_LENGTH, FCGI_MAX_PADDING_LENGTH, FCGI_PARAMS, FCGI_STDIN } from '../../spec/constants.ts';
import { concatBytes, encodeStream } from '../../reference/codec/record.ts';
import { encodeNameValuePairs, encodeNameValuePair } from '../../reference/codec/name-value.ts';
import { defineScenario, type Scenario } from '../define.ts';
import {
  asciiBytes,
  beginRecord,
  bodyParams,
  encodeRecords,
  exchange,
  expectEchoOrServed,
  patternBytes,
  probe,
  recordsOf,
  sendAndRead,
  variantId,
  variantNeeds,
  variantTitle,
  variants,
  withBaseParams,
  type Variant,
} from '../kit.ts';

const FILL_NAME = 'FCGISPEC_FILL';

function maxRecord(variant: Variant): Scenario {
  return defineScenario({
    id: variantId('record-layer.max-record', variant),
    title: variantTitle('accepts PARAMS and STDIN records of 65535 content bytes with 255 padding bytes', variant),
    group: 'record-layer',
    requirements: ['FCGI-3.3-max-lengths-app'],
    needs: variantNeeds(variant),
    timeoutMs: 20_000,
    async run(ctx) {
      // Request A: the whole PARAMS stream is one record of exactly 65535 bytes, padded with 255 bytes; a filler
      // pair brings it to size (and, with the probe, is echoed back).
      const control = variant === 'probe' ? probe.echoParam(FILL_NAME) : [];
      const head = encodeNameValuePairs(withBaseParams(ctx, control).map((p) => [p.name, p.value] as const));
      const fillOverhead = encodeNameValuePair(FILL_NAME, asciiBytes(200)).length - 200;
      const fillLength = FCGI_MAX_CONTENT_LENGTH - head.length - fillOverhead;
      if (fillLength < 128) ctx.skip(`the base params take ${head.length} bytes: no room for a 65535-byte PARAMS record`);
      const fill = asciiBytes(fillLength, 'fill:');
      const params = concatBytes([head, encodeNameValuePair(FILL_NAME, fill)]);
      if (params.length !== FCGI_MAX_CONTENT_LENGTH) throw new Error(`scenario bug: PARAMS is ${params.length} bytes`);
      const requestA = concatBytes([
        encodeRecords([beginRecord(1)]),
        encodeRecords([{ type: FCGI_PARAMS, requestId: 1, content: params, paddingLength: FCGI_MAX_PADDING_LENGTH }], { paddingByte: 0xaa }),
        encodeStream(FCGI_PARAMS, 1, new Uint8Array(0), { padding: FCGI_MAX_PADDING_LENGTH }),
        encodeStream(FCGI_STDIN, 1, new Uint8Array(0)),
      ]);
      const a = await exchange(ctx, requestA, { timeoutMs: ctx.timeouts.scale(5000) });
      a.conn.close();
      // §3.3: contentData "Between 0 and 65535 bytes of data", paddingData "Between 0 and 255 bytes of data";
      // php-fpm, for one, refuses a record whose content and padding together exceed 65535.
      expectEchoOrServed(ctx.check, variant, a.obs, fill, 'FCGI-3.3-max-lengths-app', 'a PARAMS record of 65535 content + 255 padding bytes');

      // Request B: a STDIN record of 65535 bytes + 255 padding, then one more byte, then the empty record.
      const body = patternBytes(FCGI_MAX_CONTENT_LENGTH + 1, 0x0300);
      const conn = await ctx.connect();
      const plan = { requestId: 1, params: [...bodyParams(body.length), ...(variant === 'probe' ? probe.echoStdin() : [])] };
      const withoutStdin = conn.encodeRequest({ ...plan, omit: { stdin: true } });
      const requestB = concatBytes([
        withoutStdin,
        encodeStream(FCGI_STDIN, 1, body, { padding: FCGI_MAX_PADDING_LENGTH, paddingByte: 0xaa }),
      ]);
      const stdinRecords = recordsOf(requestB).filter((r) => r.type === FCGI_STDIN);
      if (stdinRecords[0]?.content.length !== FCGI_MAX_CONTENT_LENGTH) throw new Error('scenario bug: first STDIN record is not 65535 bytes');
      const b = await sendAndRead(conn, requestB, { timeoutMs: ctx.timeouts.scale(5000) });
      expectEchoOrServed(ctx.check, variant, b.obs, body, 'FCGI-3.3-max-lengths-app', 'a STDIN record of 65535 content + 255 padding bytes');
    },
  });
}

export const maxRecordScenarios: readonly Scenario[] = variants.map(maxRecord);
