/**
 * Padding: the receiver interprets paddingLength and skips paddingData, whatever its length and byte values,
 * on every record type, the empty stream records included. @see §3.3 "Padding"
 */
import { FCGI_KEEP_CONN, FCGI_NULL_REQUEST_ID, FCGI_STDIN } from '../../spec/constants.ts';
import { defineScenario, type Scenario } from '../define.ts';
import {
  bodyParams,
  describeEvent,
  encodeRecords,
  expectEchoOrServed,
  expectServed,
  getValuesRecord,
  keptConnectionProblem,
  patternBytes,
  probe,
  recordsOf,
  relayout,
  sendAndRead,
  variantId,
  variantNeeds,
  variantTitle,
  variants,
  type Variant,
} from '../kit.ts';

const PADDING_BYTE = 0xa5;

function everyLength(variant: Variant): Scenario {
  return defineScenario({
    id: variantId('record-layer.padding.every-length', variant),
    title: variantTitle('skips padding of every length 0..255, non-zero bytes', variant),
    group: 'record-layer',
    requirements: ['FCGI-3.3-padding-discarded'],
    needs: variantNeeds(variant),
    async run(ctx) {
      const conn = await ctx.connect();
      // 1024 bytes of STDIN in 4-byte records: 256 records, so with BEGIN_REQUEST, PARAMS and the empty records
      // the paddings below take every value 0..255 at least once. PARAMS stays one record: this scenario is
      // about padding, not about pairs cut across records (params.split-every-offset).
      const body = patternBytes(1024, 0x0100);
      const plan = {
        requestId: 1,
        params: [...bodyParams(body.length), ...(variant === 'probe' ? probe.echoStdin() : [])],
        stdin: body,
      };
      const bytes = relayout(conn.encodeRequest(plan), {
        sizes: { [FCGI_STDIN]: [4] },
        padding: (k) => (255 - k) & 0xff,
        paddingByte: PADDING_BYTE,
      });
      const seen = new Set(recordsOf(bytes).map((r) => r.paddingLength));
      if (seen.size !== 256) throw new Error(`scenario bug: paddings cover ${seen.size} of 256 values`);
      conn.note(`${recordsOf(bytes).length} records, paddingLength 255 down to 0 and round again, padding bytes 0x${PADDING_BYTE.toString(16)}`);
      const { obs } = await sendAndRead(conn, bytes);
      // §3.3: "The protocol allows senders to pad the records they send, and requires receivers to interpret the
      // paddingLength and skip the paddingData." paddingData: "Between 0 and 255 bytes of data, which are ignored."
      expectEchoOrServed(ctx.check, variant, obs, body, 'FCGI-3.3-padding-discarded', 'a request whose records carry every padding length 0..255');
    },
  });
}

function terminators(variant: Variant): Scenario {
  return defineScenario({
    id: variantId('record-layer.padding.terminators', variant),
    title: variantTitle('skips 255 padding bytes on BEGIN_REQUEST and on the empty PARAMS and STDIN records', variant),
    group: 'record-layer',
    requirements: ['FCGI-3.3-padding-discarded'],
    needs: variantNeeds(variant),
    async run(ctx) {
      const conn = await ctx.connect();
      const keep = ctx.profile.keepConn;
      const body = patternBytes(100, 0x0200);
      const params = [...bodyParams(body.length), ...(variant === 'probe' ? probe.echoStdin() : [])];
      // Every record padded with 255 bytes: a receiver that skips padding only after non-empty records reads
      // the terminators' padding as the next header (php-fpm, libfcgi fail here).
      const bytes = relayout(conn.encodeRequest({ requestId: 1, flags: keep ? FCGI_KEEP_CONN : 0, params, stdin: body }), {
        padding: () => 255,
        paddingByte: 0xaa,
      });
      const first = await sendAndRead(conn, bytes);
      // §3.3: "requires receivers to interpret the paddingLength and skip the paddingData."
      const ok = expectEchoOrServed(ctx.check, variant, first.obs, body, 'FCGI-3.3-padding-discarded', 'a request with 255 padding bytes on every record');
      if (!ok || !keep || (await keptConnectionProblem(ctx, conn, 1))) return;
      // With FCGI_KEEP_CONN the next request on the connection shows whether the padding was skipped exactly.
      conn.note('second request on the same connection, plainly encoded');
      const second = await sendAndRead(conn, { requestId: 1, flags: FCGI_KEEP_CONN, params, stdin: body });
      expectEchoOrServed(ctx.check, variant, second.obs, body, 'FCGI-3.3-padding-discarded', 'the next request on the connection after a padded one');
    },
  });
}

/** Padded management records, then a padded request: §3.3 padding applies to every record type. */
const management = defineScenario({
  id: 'record-layer.padding.management',
  title: 'skips padding on management records (GET_VALUES, an unknown type) and serves a request after them',
  group: 'record-layer',
  requirements: ['FCGI-3.3-padding-discarded'],
  async run(ctx) {
    const conn = await ctx.connect();
    await conn.send(
      encodeRecords(
        [
          { ...getValuesRecord(['FCGI_MPXS_CONNS']), paddingLength: 255 },
          { type: 42, requestId: FCGI_NULL_REQUEST_ID, content: Uint8Array.of(1, 2, 3), paddingLength: 13 },
        ],
        { paddingByte: 0xaa },
      ),
    );
    // The answers are the management group's to judge; here they are only recorded.
    for (const what of ['answer to GET_VALUES', 'answer to type 42']) {
      const event = await conn.nextManagement(ctx.timeouts.replyMs);
      ctx.check.observe(what, describeEvent(event));
      if (event.kind === 'closed') ctx.skip(`the target closed the connection after the management records (${describeEvent(event)}): the management group judges that`);
    }
    // BEGIN_REQUEST gets 200 padding bytes, the other records lengths spread over 0..255.
    const request = relayout(conn.encodeRequest({ requestId: 1 }), { padding: (k) => (k === 0 ? 200 : (k * 37) & 0xff), paddingByte: 0x55 });
    const { obs } = await sendAndRead(conn, request);
    // §3.3: "requires receivers to interpret the paddingLength and skip the paddingData", on every record type:
    // had the management records' padding been misread, this request would be misframed.
    expectServed(ctx.check, obs, 'FCGI-3.3-padding-discarded', 'a padded request after padded management records');
  },
});

export const paddingScenarios: readonly Scenario[] = [...variants.map(everyLength), ...variants.map(terminators), management];
