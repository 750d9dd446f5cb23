/**
 * What comes between kept requests: management records, and requests whose every record is padded. Neither
 * may throw the application out of step with the connection. @see §5.1, §4.1, §3.3 "Padding"
 */
import { FCGI_KEEP_CONN, FCGI_MAX_REQS, FCGI_MPXS_CONNS } from '../../spec/constants.ts';
import { defineScenario, type Scenario } from '../define.ts';
import {
  describeEvent,
  encodeRecords,
  expectEchoOrServed,
  expectServed,
  getValuesNames,
  getValuesRecord,
  readGetValuesResult,
  relayout,
  sendAndRead,
  variantId,
  variantNeeds,
  variantTitle,
  variants,
  type Variant,
} from '../kit.ts';
import { echoPlan, expectBaseline, expectOpen } from '../kit-flow.ts';
import { numberedBody } from './sequential.scenario.ts';

const managementBetween = defineScenario({
  id: 'keep-conn.management-between',
  title: 'keeps the connection through FCGI_GET_VALUES queries between kept requests',
  group: 'keep-conn',
  requirements: ['FCGI-5.1-keep-conn-set-stays-open', 'FCGI-4.1-get-values-any-time'],
  needs: { keepConn: true },
  async run(ctx) {
    const conn = await ctx.connect();
    const first = await sendAndRead(conn, { requestId: 1, flags: FCGI_KEEP_CONN });
    if (!expectBaseline(ctx, first.obs, 'request 1 (FCGI_KEEP_CONN)')) return;

    await conn.sendRecord(getValuesRecord(getValuesNames));
    const answer = await readGetValuesResult(conn, ctx.timeouts.replyMs);
    if (answer.kind === 'other' && answer.event.kind === 'closed') {
      // Closed unanswered: after request 1 (FCGI_KEEP_CONN) or because of the query (php-fpm before 8.2).
      ctx.check.violation(
        'FCGI-5.1-keep-conn-set-stays-open',
        'the connection stays open after request 1 (FCGI_KEEP_CONN) and answers FCGI_GET_VALUES',
        `${describeEvent(answer.event)} before any FCGI_GET_VALUES_RESULT`,
      );
      return;
    }
    // §4.1: "An application may receive a FCGI_GET_VALUES record at any time."
    ctx.check.that(answer.kind === 'result', 'FCGI-4.1-get-values-any-time', 'FCGI_GET_VALUES_RESULT between kept requests', answer.kind === 'other' ? describeEvent(answer.event) : '');
    const second = await sendAndRead(conn, { requestId: 1, flags: FCGI_KEEP_CONN });
    // §5.1: "If not zero, the application does not close the connection after responding to this request".
    if (!expectServed(ctx.check, second.obs, 'FCGI-5.1-keep-conn-set-stays-open', 'request 2, after FCGI_GET_VALUES on the kept connection')) return;

    // Two more queries back to back, then request 3 at once, without waiting for the answers. (Unknown
    // management types are the management group's: an application that closes on them fails there.)
    await conn.send(encodeRecords([getValuesRecord([FCGI_MPXS_CONNS]), getValuesRecord([FCGI_MAX_REQS])]));
    const third = await sendAndRead(conn, { requestId: 1, flags: FCGI_KEEP_CONN });
    if (!expectServed(ctx.check, third.obs, 'FCGI-5.1-keep-conn-set-stays-open', 'request 3, sent right after two more FCGI_GET_VALUES')) return;
    await expectOpen(ctx, conn, 'FCGI-5.1-keep-conn-set-stays-open', 'after request 3');
  },
});

function paddedRequests(variant: Variant): Scenario {
  const count = 3;
  return defineScenario({
    id: variantId('keep-conn.padded-requests', variant),
    title: variantTitle(`serves ${count} kept requests whose every record, stream ends included, carries 1..255 padding bytes`, variant),
    group: 'keep-conn',
    requirements: ['FCGI-3.3-padding-discarded', 'FCGI-5.1-keep-conn-set-stays-open'],
    needs: variantNeeds(variant, { keepConn: true }),
    async run(ctx) {
      const conn = await ctx.connect();
      for (let i = 0; i < count; i++) {
        const body = numberedBody(i, count, 200 + i);
        // Seeded paddings, never 0, on every record: BEGIN_REQUEST, the empty PARAMS and STDIN records
        // included. A receiver that skips padding only after non-empty records reads the padding of a
        // terminator as the next header, which shows on the next request of a kept connection (libfcgi and
        // php-fpm are reported to fail here).
        const bytes = relayout(conn.encodeRequest(echoPlan(variant, 1, body, FCGI_KEEP_CONN)), {
          padding: () => ctx.randomInt(1, 255),
          paddingByte: ctx.randomInt(0, 255),
        });
        const { obs } = await sendAndRead(conn, bytes);
        // §3.3: "The protocol allows senders to pad the records they send, and requires receivers to interpret
        // the paddingLength and skip the paddingData."
        if (!expectEchoOrServed(ctx.check, variant, obs, body, 'FCGI-3.3-padding-discarded', `padded request ${i + 1} of ${count} on one kept connection`)) return;
      }
      await expectOpen(ctx, conn, 'FCGI-5.1-keep-conn-set-stays-open', `after ${count} padded requests`);
    },
  });
}

export const betweenScenarios: readonly Scenario[] = [managementBetween, ...variants.map(paddedRequests)];
