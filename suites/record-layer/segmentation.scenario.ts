/**
 * Records over a byte stream: however the transport cuts the bytes into reads (one byte at a time, a cut at
 * any offset, many records in one write), the application must frame the same records.
 * @see §3.3 "All data that flows over the transport connection is carried in FastCGI records."
 */
import { FCGI_MPXS_CONNS, FCGI_STDIN } from '../../spec/constants.ts';
import { concatBytes } from '../../reference/codec/record.ts';
import type { RequirementId } from '../../spec/requirements.ts';
import { defineScenario, type RequestPlan, type Scenario } from '../define.ts';
import {
  bodyParams,
  describeEvent,
  encodePlan,
  encodeRecords,
  expectEchoOrServed,
  expectSeries,
  getValuesRecord,
  patternBytes,
  probe,
  randomCuts,
  readGetValuesResult,
  recordBoundaries,
  relayout,
  runSeries,
  sendAndRead,
  utf8,
  variantId,
  variantNeeds,
  variantProblem,
  variantTitle,
  variants,
  type Variant,
} from '../kit.ts';

// §3.3: "All data that flows over the transport connection is carried in FastCGI records." Only headers delimit
// records, so how the transport cuts the bytes must not matter.
const FRAMING: RequirementId = 'FCGI-3.3-any-segmentation-app';

function plan(variant: Variant, body: Uint8Array, flags = 0): RequestPlan {
  return {
    requestId: 1,
    flags,
    params: [...bodyParams(body.length), ...(variant === 'probe' ? probe.echoStdin() : [])],
    stdin: body,
  };
}

function byteAtATime(variant: Variant): Scenario {
  return defineScenario({
    id: variantId('record-layer.segments.byte-at-a-time', variant),
    title: variantTitle('frames a request written one byte per write', variant),
    group: 'record-layer',
    requirements: [FRAMING, 'FCGI-3.3-stream-value-app'],
    needs: variantNeeds(variant),
    timeoutMs: 30_000,
    async run(ctx) {
      const conn = await ctx.connect();
      const body = utf8('one byte per write: the application must gather headers, pairs and bodies across reads');
      const bytes = conn.encodeRequest(plan(variant, body));
      conn.note(`${bytes.length} bytes in ${bytes.length} writes`);
      const { obs } = await sendAndRead(conn, bytes, { writes: [1], timeoutMs: ctx.timeouts.scale(2000) + bytes.length * 5 });
      // §3.3: every byte on the connection belongs to a record; a record is its 8-byte header, then contentLength
      // and paddingLength bytes, however many reads deliver them.
      expectEchoOrServed(ctx.check, variant, obs, body, FRAMING, 'a request written byte by byte');
    },
  });
}

/** Offsets to cut at: every one for a small request; else the first 48 bytes, ±3 around every record boundary, the last 48 and a seeded sample. */
function cutOffsets(bytes: Uint8Array, randomInt: (min: number, max: number) => number): number[] {
  const n = bytes.length;
  if (n <= 256) return Array.from({ length: n - 1 }, (_, i) => i + 1);
  const set = new Set<number>();
  for (let i = 1; i <= 48; i++) set.add(i);
  for (let i = n - 48; i < n; i++) set.add(i);
  for (const b of recordBoundaries(bytes)) for (let d = -3; d <= 3; d++) set.add(b + d);
  for (const c of randomCuts({ randomInt }, n, Math.max(0, 240 - set.size))) set.add(c);
  return [...set].filter((c) => c > 0 && c < n).sort((a, b) => a - b);
}

function everyOffset(variant: Variant): Scenario {
  return defineScenario({
    id: variantId('record-layer.segments.every-offset', variant),
    title: variantTitle('frames a request cut into two writes at every offset', variant),
    group: 'record-layer',
    requirements: [FRAMING],
    needs: variantNeeds(variant),
    timeoutMs: 60_000,
    async run(ctx) {
      const body = utf8('cut!');
      const offsets = cutOffsets(encodePlan(ctx, plan(variant, body)), (lo, hi) => ctx.randomInt(lo, hi));
      const series = await runSeries(ctx, offsets.length, async (conn, i, flags) => {
        const bytes = encodePlan(ctx, plan(variant, body, flags));
        const { obs } = await sendAndRead(conn, bytes, { writes: [offsets[i]!, bytes.length] });
        return obs;
      }, (obs) => variantProblem(variant, obs, body));
      // §3.3: a record is its header then contentLength + paddingLength bytes, wherever the transport cuts them.
      expectSeries(ctx.check, series, offsets.map((o) => `offset ${o}`), FRAMING, 'the request cut in two at each offset');
    },
  });
}

function coalesced(variant: Variant): Scenario {
  return defineScenario({
    id: variantId('record-layer.segments.coalesced', variant),
    title: variantTitle('frames a GET_VALUES and a request of 2000 one-byte STDIN records sent in one write', variant),
    group: 'record-layer',
    requirements: [FRAMING, 'FCGI-3.3-stream-value-app'],
    needs: variantNeeds(variant),
    async run(ctx) {
      const conn = await ctx.connect();
      const body = patternBytes(2000, 0x0400);
      const request = relayout(conn.encodeRequest(plan(variant, body)), { sizes: { [FCGI_STDIN]: [1] } });
      const bytes = concatBytes([encodeRecords([getValuesRecord([FCGI_MPXS_CONNS])]), request]);
      conn.note(`one write of ${bytes.length} bytes: GET_VALUES, then the request with 2000 one-byte STDIN records`);
      const { obs } = await sendAndRead(conn, bytes, { timeoutMs: ctx.timeouts.scale(5000) });
      // §3.3: records follow one another in the byte stream; many in one read are framed one after the other.
      expectEchoOrServed(ctx.check, variant, obs, body, FRAMING, 'a request of 2002 records in one write');
      // The GET_VALUES answer is the management group's to judge; here it is recorded.
      const answer = await readGetValuesResult(conn, ctx.timeouts.quietMs);
      ctx.check.observe('answer to the GET_VALUES in front', answer.kind === 'result' ? 'FCGI_GET_VALUES_RESULT' : describeEvent(answer.event));
    },
  });
}

export const segmentationScenarios: readonly Scenario[] = [
  ...variants.map(byteAtATime),
  ...variants.map(everyOffset),
  ...variants.map(coalesced),
];
