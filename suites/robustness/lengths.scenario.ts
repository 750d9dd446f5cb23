/**
 * Name-value lengths that lie: 0x7fffffff declared with a few bytes behind it, or a length that runs past the
 * end of the PARAMS stream. The format invites allocating the declared size at once; the application must
 * instead refuse the request cleanly (or serve it), promptly, and go on serving. @see §3.4
 */
import { FCGI_MAX_NAME_VALUE_LENGTH, FCGI_PARAMS } from '../../spec/constants.ts';
import { encodeLength, encodeNameValuePair } from '../../reference/codec/name-value.ts';
import { concatBytes } from '../../reference/codec/record.ts';
import { defineScenario, type Scenario } from '../define.ts';
import { beginRecord, describeOutcome, emptyStdin, encodeRecords, expectCleanOutcome, sendAndRead, streamEnd, utf8, withBaseParams } from '../kit.ts';
import { expectFreshServed } from '../kit-flow.ts';

const HUGE = FCGI_MAX_NAME_VALUE_LENGTH;

interface BadPair {
  readonly name: `robustness.${string}`;
  readonly title: string;
  readonly bytes: () => Uint8Array;
}

const badPairs: readonly BadPair[] = [
  {
    name: 'robustness.huge-name-length',
    title: 'refuses cleanly a pair declaring nameLength 0x7fffffff followed by 8 bytes',
    bytes: () => concatBytes([encodeLength(HUGE, 4), encodeLength(1, 1), utf8('ABCDEFGH')]),
  },
  {
    name: 'robustness.huge-value-length',
    title: 'refuses cleanly a pair declaring valueLength 0x7fffffff followed by a name and 3 bytes',
    bytes: () => concatBytes([encodeLength(4, 1), encodeLength(HUGE, 4), utf8('NAMEabc')]),
  },
  {
    name: 'robustness.huge-both-lengths',
    title: 'refuses cleanly a pair declaring nameLength and valueLength 0x7fffffff, with 16 bytes behind them',
    bytes: () => concatBytes([encodeLength(HUGE, 4), encodeLength(HUGE, 4), utf8('0123456789abcdef')]),
  },
  {
    name: 'robustness.length-past-stream-end',
    title: 'refuses cleanly a pair whose value runs 97 bytes past the end of the PARAMS stream',
    bytes: () => concatBytes([encodeLength(4, 1), encodeLength(100, 1), utf8('NAMEabc')]),
  },
];

function badLength(bad: BadPair): Scenario {
  return defineScenario({
    id: bad.name,
    title: bad.title,
    group: 'robustness',
    requirements: ['FCGI-3.4-bad-lengths-survived'],
    hostile: true,
    async run(ctx) {
      const conn = await ctx.connect();
      // The base params first (a well-formed request up to here), the lying pair last, then the empty PARAMS
      // record: the stream ends where the declared lengths say it cannot.
      const good = concatBytes(withBaseParams(ctx).map((p) => encodeNameValuePair(p.name, p.value)));
      const bytes = concatBytes([
        encodeRecords([beginRecord(1), { type: FCGI_PARAMS, requestId: 1, content: concatBytes([good, bad.bytes()]) }, streamEnd(FCGI_PARAMS, 1)]),
        emptyStdin(1),
      ]);
      const { obs } = await sendAndRead(conn, bytes);
      // §3.4: the format "enables the receiver to allocate the correct amount of storage immediately even for
      // large values": a receiver must bound that. FCGI_END_REQUEST (any status) or a close before any output
      // is a clean refusal; silence or a close after partial output is not.
      const outcome = expectCleanOutcome(ctx.check, obs, 'FCGI-3.4-bad-lengths-survived', bad.title.replace(/^refuses cleanly /, ''));
      ctx.check.observe('outcome', describeOutcome(outcome, obs));
      conn.close();
      // The catalog asks for "a fresh connection must be served afterwards, promptly".
      await expectFreshServed(ctx, 'FCGI-3.4-bad-lengths-survived', 'right after the lying pair');
    },
  });
}

export const lengthScenarios: readonly Scenario[] = badPairs.map(badLength);
