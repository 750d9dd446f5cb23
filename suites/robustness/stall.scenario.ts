/**
 * A peer that stops in the middle of a record: half a header, or a record announcing 65535 bytes that sends
 * ten. The application cannot serve that connection, and must not let it stop everything else: other
 * connections are served meanwhile (where it claims to take more than one), and after the stalled one closes.
 * @see §3.3, §3.2 "An application may accept several concurrent transport connections, but it need not do so."
 */
import { FCGI_PARAMS } from '../../spec/constants.ts';
import { concatBytes, encodeRecord } from '../../reference/codec/record.ts';
import { defineScenario, type Scenario } from '../define.ts';
import { beginRecord, describeObservation, encodeRecords, sendAndRead, servedProblem } from '../kit.ts';
import { claimedLimit, collectFor, describeQuiet, expectFreshServed } from '../kit-flow.ts';

type StallKind = 'half-header' | 'short-content';

const stallBytes: Readonly<Record<StallKind, () => Uint8Array>> = {
  // Five bytes of a BEGIN_REQUEST header: version, type, requestId, and one byte of contentLength.
  'half-header': () => encodeRecords([beginRecord(1)]).subarray(0, 5),
  // A whole BEGIN_REQUEST, then a PARAMS header announcing 65535 bytes followed by ten of them.
  'short-content': () =>
    concatBytes([encodeRecords([beginRecord(1)]), encodeRecord({ type: FCGI_PARAMS, requestId: 1, content: new Uint8Array(10).fill(0x41) }, { contentLength: 0xffff })]),
};

const stallTitle: Readonly<Record<StallKind, string>> = {
  'half-header': 'serves other connections while one has sent half a record header and stalls',
  'short-content': 'serves other connections while one has sent 10 of the 65535 content bytes it announced and stalls',
};

function stall(kind: StallKind): Scenario {
  return defineScenario({
    id: `robustness.stall.${kind}`,
    title: stallTitle[kind],
    group: 'robustness',
    requirements: ['FCGI-3.5-accept-after-close', 'FCGI-4.1-limit-values'],
    hostile: true,
    timeoutMs: 15_000,
    async run(ctx) {
      const maxConns = await claimedLimit(ctx, 'FCGI_MAX_CONNS');
      const staller = await ctx.connect();
      await staller.send(stallBytes[kind]());
      await ctx.sleep(ctx.timeouts.quietMs);

      const other = await ctx.connect();
      const { obs } = await sendAndRead(other, { requestId: 1 }, { timeoutMs: ctx.timeouts.replyMs });
      const problem = servedProblem(obs);
      ctx.check.observe('another connection while one stalls', problem === undefined ? 'served' : describeObservation(obs));
      if (problem !== undefined) {
        if (maxConns !== undefined && maxConns.value > 1) {
          // §4.1: FCGI_MAX_CONNS is "The maximum number of concurrent transport connections this application
          // will accept": claiming more than one, it should not be held up by one stalled peer.
          ctx.check.violation(
            'FCGI-4.1-limit-values',
            `a second connection served while one stalls (FCGI_MAX_CONNS ${maxConns.value}, from ${maxConns.source})`,
            problem,
          );
        } else {
          ctx.check.observe('note', '§3.2 lets an application serve one connection at a time, and it claims no more');
        }
      }
      // Nothing can have served the stalled request: it has no complete record beyond BEGIN_REQUEST.
      const got = await collectFor(staller, 1);
      ctx.check.observe('the stalled connection got', describeQuiet(got));
      staller.close();
      other.close();
      await expectFreshServed(ctx, 'FCGI-3.5-accept-after-close', 'after the stalled connection closed');
    },
  });
}

export const stallScenarios: readonly Scenario[] = [stall('half-header'), stall('short-content')];
