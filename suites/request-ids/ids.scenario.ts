/**
 * Request ids as numbers: any 16-bit value, big-endian on the wire, answered on exactly the id the request
 * came on, and free again for a new request once its FCGI_END_REQUEST is sent. @see §3.1, §3.3
 */
import { FCGI_KEEP_CONN, FCGI_PARAMS, FCGI_STDIN } from '../../spec/constants.ts';
import { encodeNameValuePair } from '../../reference/codec/name-value.ts';
import { concatBytes } from '../../reference/codec/record.ts';
import { defineScenario, type ResponseObservation, type Scenario, type ScenarioConnection } from '../define.ts';
import {
  beginRecord,
  encodeRecords,
  expectEchoOrServed,
  patternBytes,
  probe,
  recordsOf,
  sendAndRead,
  streamEnd,
  utf8,
  bodyParams,
  variantId,
  variantNeeds,
  variantProblem,
  variantTitle,
  variants,
  withBaseParams,
  type Variant,
} from '../kit.ts';
import { echoPlan, expectBaseline } from '../kit-flow.ts';

/** Why a response was not on its own id: the ids of records that came instead, if any. */
function elsewhere(conn: ScenarioConnection, obs: ResponseObservation): string {
  if (obs.records.length > 0) return '';
  const others = [...new Set(conn.unclaimed().map((r) => r.requestId))];
  return others.length ? `; records came on request id ${others.map((id) => `${id} (0x${id.toString(16).padStart(4, '0')})`).join(', ')} instead` : '';
}

function large(variant: Variant): Scenario {
  const ids = [255, 256, 0x0102, 0x7fff, 0x8000, 0xff00, 0xffff];
  return defineScenario({
    id: variantId('request-ids.large', variant),
    title: variantTitle(`serves requests with ids ${ids.map((i) => `0x${i.toString(16)}`).join(', ')}, each answered on its own id`, variant),
    group: 'request-ids',
    requirements: ['FCGI-3.1-byte-order'],
    needs: variantNeeds(variant),
    async run(ctx) {
      for (const id of ids) {
        const conn = await ctx.connect();
        const body = utf8(`request id ${id}\n`);
        const { obs } = await sendAndRead(conn, echoPlan(variant, id, body));
        // §3.1: "when two adjacent structure components are named identically except for the suffixes "B1" and
        // "B0," it means that the two components may be viewed as a single number, computed as B1<<8 + B0." A
        // reader with the bytes swapped answers on another id (256 → 1).
        const problem = variantProblem(variant, obs, body);
        ctx.check.that(problem === undefined, 'FCGI-3.1-byte-order', `request id ${id} (0x${id.toString(16)}) answered on that id`, `${problem ?? ''}${elsewhere(conn, obs)}`);
        conn.close();
      }
    },
  });
}

/** A filler pair of exactly `size` bytes (`size` ≥ 18): a 13-byte name and a value whose length takes the 4-byte form. */
function filler(size: number): Uint8Array {
  return encodeNameValuePair('FCGISPEC_FILL', new Uint8Array(size - 18).fill(0x2e), { valueForm: 4 });
}

function byteOrder(variant: Variant): Scenario {
  const requestId = 0x0102;
  const stdinLength = 0x0201;
  return defineScenario({
    id: variantId('request-ids.byte-order', variant),
    title: variantTitle('reads requestId 0x0102, a PARAMS contentLength 0x0103 and a STDIN contentLength 0x0201 big-endian', variant),
    group: 'request-ids',
    requirements: ['FCGI-3.1-byte-order'],
    needs: variantNeeds(variant),
    async run(ctx) {
      const body = patternBytes(stdinLength, 0x7100);
      const pairs = withBaseParams(ctx, [...bodyParams(body.length), ...(variant === 'probe' ? probe.echoStdin() : [])]);
      const content = concatBytes(pairs.map((p) => encodeNameValuePair(p.name, p.value)));
      // The smallest PARAMS length 0x0N03 that holds the params and an 18-byte filler: both bytes differ.
      let paramsLength = 0x0103;
      while (paramsLength - content.length < 18) paramsLength += 0x0100;
      const bytes = encodeRecords([
        beginRecord(requestId),
        { type: FCGI_PARAMS, requestId, content: concatBytes([content, filler(paramsLength - content.length)]) },
        streamEnd(FCGI_PARAMS, requestId),
        { type: FCGI_STDIN, requestId, content: body },
        streamEnd(FCGI_STDIN, requestId),
      ]);
      const lengths = recordsOf(bytes).map((r) => r.content.length);
      if (lengths[1] !== paramsLength || lengths[3] !== stdinLength) throw new Error(`scenario bug: record lengths ${lengths.join(', ')}`);
      const conn = await ctx.connect();
      const { obs } = await sendAndRead(conn, bytes, { requestId });
      // §3.1: "The first byte defined in the structure is transmitted first, the second byte second, etc." and
      // B1/B0 pairs are "computed as B1<<8 + B0".
      const problem = variantProblem(variant, obs, body);
      ctx.check.that(
        problem === undefined,
        'FCGI-3.1-byte-order',
        `request 0x0102 with a 0x${paramsLength.toString(16).padStart(4, '0')}-byte PARAMS record and a 0x0201-byte STDIN record served on id 0x0102`,
        `${problem ?? ''}${elsewhere(conn, obs)}`,
      );
    },
  });
}

function reuse(variant: Variant): Scenario {
  return defineScenario({
    id: variantId('request-ids.reuse-after-end', variant),
    title: variantTitle('serves a new request on an id whose request ended, with the new request\'s input only', variant),
    group: 'request-ids',
    requirements: ['FCGI-3.3-request-id-reuse'],
    needs: variantNeeds(variant, { keepConn: true }),
    async run(ctx) {
      const conn = await ctx.connect();
      const bodies = [utf8('first request on id 7\n'), utf8('second request on id 7, longer than the first\n'), utf8('third\n')];
      for (const [i, body] of bodies.entries()) {
        const { obs } = await sendAndRead(conn, echoPlan(variant, 7, body, FCGI_KEEP_CONN));
        if (i === 0) {
          if (!expectBaseline(ctx, obs, 'request 1 on id 7 (FCGI_KEEP_CONN)')) return;
          continue;
        }
        // §3.3: "A request ID R becomes active when the application receives a record {FCGI_BEGIN_REQUEST, R,
        // ...} and becomes inactive when the application sends a record {FCGI_END_REQUEST, R, ...}". The new
        // request starts from nothing: no input of the old one carried over.
        if (!expectEchoOrServed(ctx.check, variant, obs, body, 'FCGI-3.3-request-id-reuse', `request ${i + 1} on id 7, after request ${i}'s FCGI_END_REQUEST`)) return;
      }
    },
  });
}

export const idScenarios: readonly Scenario[] = [...variants.map(large), ...variants.map(byteOrder), ...variants.map(reuse)];
