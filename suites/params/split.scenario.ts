/**
 * Pairs across records: the PARAMS stream's value is the concatenation of its records' content, so a pair may
 * be cut anywhere, inside its length bytes, its name or its value. The spec's own example 2 cuts a name.
 * @see §3.3 "Stream records", §3.4, Appendix B example 2
 */
import { FCGI_PARAMS, FCGI_STDIN } from '../../spec/constants.ts';
import { concatBytes, encodeStream } from '../../reference/codec/record.ts';
import { encodeNameValuePair } from '../../reference/codec/name-value.ts';
import { defineScenario, type Scenario, type ScenarioContext } from '../define.ts';
import {
  asciiBytes,
  beginRecord,
  bodyParams,
  expectProbeAnswer,
  emptyStdin,
  encodePlan,
  encodeRecords,
  exchange,
  expectEchoOrServed,
  expectSeries,
  expectServedLikePlain,
  paramsStreamCut,
  plainStatus,
  probe,
  randomCuts,
  relayout,
  runSeries,
  sendAndRead,
  servedProblem,
  cgiOf,
  echoProblem,
  utf8,
  variantId,
  variantNeeds,
  variantTitle,
  variants,
  withBaseParams,
  type Variant,
} from '../kit.ts';

const SPLIT_NAME = 'FCGISPEC_SPLIT';

/** A request: BEGIN_REQUEST (flags), PARAMS `pairBytes` cut at `cut`, empty STDIN. */
function cutRequest(pairBytes: Uint8Array, cut: number, flags: number): Uint8Array {
  return concatBytes([encodeRecords([beginRecord(1, { flags })]), paramsStreamCut(1, pairBytes, [cut]), emptyStdin(1)]);
}

/** Every offset when there are few, else the first and last 64 and a seeded sample, 300 in all. */
function offsetsIn(from: number, to: number, randomInt: ScenarioContext['randomInt']): number[] {
  if (to - from <= 300) return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const set = new Set<number>();
  for (let i = 0; i < 64; i++) set.add(from + i).add(to - i);
  for (const c of randomCuts({ randomInt }, to - from, 300 - set.size)) set.add(from + c);
  return [...set].sort((a, b) => a - b);
}

function everyOffset(variant: Variant): Scenario {
  return defineScenario({
    id: variantId('params.split-every-offset', variant),
    title: variantTitle('reads a pair cut across two PARAMS records at every byte offset', variant),
    group: 'params',
    requirements: ['FCGI-3.3-stream-value-app'],
    needs: variantNeeds(variant),
    timeoutMs: 60_000,
    async run(ctx) {
      // A pair with a four-byte value length, so cuts fall inside one-byte and four-byte lengths, the name and the value.
      const value = asciiBytes(130, 'split-value:');
      const control = variant === 'probe' ? probe.echoParam(SPLIT_NAME) : [];
      const head = concatBytes(withBaseParams(ctx, control).map((p) => encodeNameValuePair(p.name, p.value)));
      const pairBytes = concatBytes([head, encodeNameValuePair(SPLIT_NAME, value)]);
      // With the probe, the cuts that matter are those inside the echoed pair; without it, those anywhere in the
      // stream (the target's own params are what it must read right).
      const offsets = variant === 'probe' ? offsetsIn(head.length, pairBytes.length, (a, b) => ctx.randomInt(a, b)) : offsetsIn(1, pairBytes.length - 1, (a, b) => ctx.randomInt(a, b));
      const plain = variant === 'framing' ? await plainStatus(ctx) : undefined;
      const series = await runSeries(ctx, offsets.length, async (conn, i, flags) => {
        const { obs } = await sendAndRead(conn, cutRequest(pairBytes, offsets[i]!, flags));
        return obs;
      }, (obs) => {
        if (variant === 'probe') return echoProblem(obs, value);
        const status = cgiOf(obs)?.status;
        return servedProblem(obs) ?? (plain !== undefined && status !== plain ? `CGI status ${status}, plainly sent ${plain}` : undefined);
      });
      const labels = offsets.map((o) => (variant === 'probe' ? `pair offset ${o - head.length}` : `stream offset ${o}`));
      // §3.3: "the value of a stream is independent of how many records it contains or how its bytes are divided
      // among the non-empty records."
      expectSeries(ctx.check, series, labels, 'FCGI-3.3-stream-value-app', 'the PARAMS stream cut in two records');
    },
  });
}

function oneByteRecords(variant: Variant): Scenario {
  return defineScenario({
    id: variantId('params.one-byte-records', variant),
    title: variantTitle('reads a PARAMS stream sent as one-byte records', variant),
    group: 'params',
    requirements: ['FCGI-3.3-stream-value-app'],
    needs: variantNeeds(variant),
    async run(ctx) {
      const plain = variant === 'framing' ? await plainStatus(ctx) : undefined;
      const own = Array.from({ length: 5 }, (_, i) => [`FCGISPEC_ONE_${i}`, asciiBytes(40 * i, `one-byte-records ${i}:`)] as const);
      const plan = { requestId: 1, params: [...(variant === 'probe' ? probe.echoParams('FCGISPEC_ONE_') : []), ...own] };
      const bytes = relayout(encodePlan(ctx, plan), { sizes: { [FCGI_PARAMS]: [1] } });
      const { obs } = await exchange(ctx, bytes, { timeoutMs: ctx.timeouts.scale(5000) });
      // §3.3: "the value of a stream is independent of how many records it contains".
      if (variant === 'probe') {
        expectProbeAnswer(ctx.check, obs, bytes, 'FCGI-3.3-stream-value-app', 'params sent as one-byte PARAMS records, FCGISPEC_ONE_… listed back');
      } else {
        expectServedLikePlain(ctx.check, obs, plain, 'FCGI-3.3-stream-value-app', 'params in one-byte PARAMS records');
      }
    },
  });
}

// Appendix B example 2, byte for byte: "\013\002SERVER_PORT80\013\016SER" / "VER_ADDR199.170.183.42 ... ".
const exampleHead = concatBytes([encodeNameValuePair('SERVER_PORT', '80'), encodeNameValuePair('SERVER_ADDR', '199.170.183.42')]);
const exampleCut = 2 + 'SERVER_PORT80'.length + 2 + 'SER'.length;
const exampleBody = utf8('quantity=100&item=3047936');

function specExample(variant: Variant): Scenario {
  return defineScenario({
    id: variantId('params.spec-example-2', variant),
    title: variantTitle("serves Appendix B example 2: PARAMS cut inside the name SERVER_ADDR, a body on STDIN", variant),
    group: 'params',
    requirements: ['FCGI-B-split-params-app', 'FCGI-3.3-stream-value-app'],
    needs: variantNeeds(variant),
    async run(ctx) {
      if (exampleHead.subarray(exampleCut - 3, exampleCut + 3).toString() !== utf8('SERVER').toString()) throw new Error('scenario bug: cut');
      const request = (control: readonly (readonly [string, string])[]): Uint8Array => {
        // The example's two pairs first, as in the spec; then the target's own params (less these two) and ours.
        const rest = withBaseParams(ctx, [...bodyParams(exampleBody.length), ...control]).filter(
          (p) => !['SERVER_PORT', 'SERVER_ADDR'].includes(new TextDecoder().decode(p.name)),
        );
        const params = concatBytes([exampleHead, ...rest.map((p) => encodeNameValuePair(p.name, p.value))]);
        return concatBytes([
          encodeRecords([beginRecord(1)]),
          encodeRecords([
            { type: FCGI_PARAMS, requestId: 1, content: params.subarray(0, exampleCut) },
            { type: FCGI_PARAMS, requestId: 1, content: params.subarray(exampleCut) },
            { type: FCGI_PARAMS, requestId: 1 },
          ]),
          encodeStream(FCGI_STDIN, 1, exampleBody, { padding: 0 }),
        ]);
      };
      // Appendix B, example 2: "The Web server chooses to send the parameters using more FCGI_PARAMS records than before".
      if (variant === 'framing') {
        const { obs } = await exchange(ctx, request([]));
        expectEchoOrServed(ctx.check, variant, obs, exampleBody, 'FCGI-B-split-params-app', "the spec's example 2");
        return;
      }
      // The probe reports SERVER_PORT, SERVER_ADDR (the name cut across the records) and the body.
      for (const control of [probe.echoParam('SERVER_PORT'), probe.echoParam('SERVER_ADDR'), probe.echoStdin()] as const) {
        const bytes = request(control as readonly (readonly [string, string])[]);
        const { conn, obs } = await exchange(ctx, bytes);
        conn.close();
        expectProbeAnswer(ctx.check, obs, bytes, 'FCGI-B-split-params-app', `example 2 with ${control.map(([, v]) => v).join(' ')}`);
      }
    },
  });
}

export const splitScenarios: readonly Scenario[] = [...variants.map(everyOffset), ...variants.map(oneByteRecords), ...variants.map(specExample)];
