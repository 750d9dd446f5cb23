/**
 * Header fields a receiver must not depend on: the reserved byte (any value ignored) and the version byte
 * (only FCGI_VERSION_1 is defined; what an application does with another is recorded). @see §3.3 FCGI_Header
 */
import { FCGI_VERSION_1 } from '../../spec/constants.ts';
import { defineScenario, type Scenario } from '../define.ts';
import {
  bodyParams,
  describeObservation,
  describeOutcome,
  encodePlan,
  exchange,
  expectEchoOrServed,
  mapRecords,
  outcomeOf,
  patternBytes,
  probe,
  variantId,
  variantNeeds,
  variantTitle,
  variants,
  type Variant,
} from '../kit.ts';

function reservedByte(variant: Variant): Scenario {
  return defineScenario({
    id: variantId('record-layer.reserved-byte-ignored', variant),
    title: variantTitle('ignores 0xFF in the reserved header byte of every record', variant),
    group: 'record-layer',
    requirements: ['FCGI-3.3-reserved-ignored'],
    needs: variantNeeds(variant),
    async run(ctx) {
      const body = patternBytes(64, 0x0500);
      const bytes = mapRecords(
        encodePlan(ctx, { requestId: 1, params: [...bodyParams(body.length), ...(variant === 'probe' ? probe.echoStdin() : [])], stdin: body }),
        () => ({ reserved: 0xff }),
      );
      const { obs } = await exchange(ctx, bytes);
      // §3.3 FCGI_Header: `unsigned char reserved;` is given no meaning; a receiver must not act on its value.
      expectEchoOrServed(ctx.check, variant, obs, body, 'FCGI-3.3-reserved-ignored', 'a request whose every header has reserved = 0xFF');
    },
  });
}

const versionNot1 = defineScenario({
  id: 'record-layer.version-not-1',
  title: 'records what the application does with requests whose records carry version 0, 2 or 255',
  group: 'record-layer',
  requirements: ['FCGI-X-version-not-1-app'],
  hostile: true,
  timeoutMs: 20_000,
  async run(ctx) {
    // §3.3: "version: Identifies the FastCGI protocol version. This specification documents FCGI_VERSION_1."
    // Nothing says what a receiver does with another version; closing is the safest answer. Recorded only.
    for (const version of [0, 2, 255]) {
      if (version === FCGI_VERSION_1) continue;
      const bytes = mapRecords(encodePlan(ctx, { requestId: 1 }), () => ({ version }));
      const { conn, obs } = await exchange(ctx, bytes);
      conn.note(`version ${version}: ${describeObservation(obs)}`);
      ctx.check.observe(`version-${version}`, describeOutcome(outcomeOf(obs), obs));
      conn.close();
    }
  },
});

export const headerFieldScenarios: readonly Scenario[] = [...variants.map(reservedByte), versionNot1];
