/**
 * Name-value pair lengths: one byte up to 127, four bytes (high bit set) above; the high bit, not the size,
 * selects the form, so short lengths in four bytes are valid too; names and values are binary. @see §3.4
 */
import { concatBytes } from '../../reference/codec/record.ts';
import { encodeNameValuePair, type LengthForm } from '../../reference/codec/name-value.ts';
import { defineScenario, type Scenario } from '../define.ts';
import {
  allByteValues,
  asciiBytes,
  cgiOf,
  describeMismatch,
  echoProblem,
  encodePairsWithForms,
  encodePlan,
  exchange,
  expectProbeBody,
  expectSeries,
  expectServedLikePlain,
  formatSize,
  outcomeOf,
  plainStatus,
  probe,
  runSeries,
  sendAndRead,
  withBaseParams,
  type Variant,
  variantId,
  variantNeeds,
  variantTitle,
  variants,
} from '../kit.ts';

/** A request whose params are the base ones, `control`, then `extra` already encoded. */
function withRawPairs(ctx: Parameters<Scenario['run']>[0], control: readonly (readonly [string | Uint8Array, string | Uint8Array])[], extra: Uint8Array, flags: number): Uint8Array {
  const head = withBaseParams(ctx, control).map((p) => encodeNameValuePair(p.name, p.value));
  return encodePlan(ctx, { requestId: 1, flags, paramsBytes: concatBytes([...head, extra]) });
}

interface LengthCase {
  readonly label: string;
  readonly name: Uint8Array;
  readonly value: Uint8Array;
}

const lengthCases: readonly LengthCase[] = [
  ...[0, 1, 127, 128, 65535, 65536, 100_000].map((n) => ({ label: `value of ${formatSize(n)}`, name: asciiBytes(13, 'FCGISPEC_VAL_'), value: asciiBytes(n, `v${n}:`) })),
  ...[1, 127, 128, 65536].map((n) => ({ label: `name of ${formatSize(n)}`, name: asciiBytes(n, n > 1 ? 'FCGISPEC_NAME_' : 'Z'), value: asciiBytes(5, 'named') })),
];

const lengths = defineScenario({
  id: 'params.lengths',
  title: 'reads names and values of 0 to 100000 bytes across the 127/128 boundary (probe echoes each value)',
  group: 'params',
  requirements: ['FCGI-3.4-length-forms-accepted'],
  needs: { probe: true },
  timeoutMs: 30_000,
  async run(ctx) {
    const series = await runSeries(ctx, lengthCases.length, async (conn, i, flags) => {
      const c = lengthCases[i]!;
      const { obs } = await sendAndRead(conn, { requestId: 1, flags, params: [...probe.echoParam(c.name), [c.name, c.value]] }, { timeoutMs: ctx.timeouts.scale(5000) });
      return obs;
    }, (obs, i) => echoProblem(obs, lengthCases[i]!.value));
    // §3.4: "Lengths of 127 bytes and less can be encoded in one byte, while longer lengths are always encoded in
    // four bytes"; "The high-order bit of the first byte of a length indicates the length's encoding."
    expectSeries(ctx.check, series, lengthCases.map((c) => c.label), 'FCGI-3.4-length-forms-accepted', 'each pair echoed back exactly');
  },
});

interface FormCase {
  readonly label: string;
  readonly nameForm: LengthForm;
  readonly valueForm: LengthForm;
  readonly value: Uint8Array;
}

const formCases: readonly FormCase[] = [
  { label: '11 (short name, short value)', nameForm: 1, valueForm: 1, value: asciiBytes(5, 'short') },
  { label: '14 (short value in 4 bytes)', nameForm: 1, valueForm: 4, value: asciiBytes(5, 'short') },
  { label: '41 (short name in 4 bytes)', nameForm: 4, valueForm: 1, value: asciiBytes(5, 'short') },
  { label: '44 (both short, in 4 bytes)', nameForm: 4, valueForm: 4, value: asciiBytes(5, 'short') },
  { label: '14 (long value)', nameForm: 1, valueForm: 4, value: asciiBytes(300, 'long:') },
  { label: '44 (short name in 4 bytes, long value)', nameForm: 4, valueForm: 4, value: asciiBytes(300, 'long:') },
];

function lengthForms(variant: Variant): Scenario {
  return defineScenario({
    id: variantId('params.length-forms', variant),
    title: variantTitle('reads all four pair layouts (11, 14, 41, 44), four-byte forms of short lengths included', variant),
    group: 'params',
    requirements: ['FCGI-3.4-length-forms-accepted'],
    needs: variantNeeds(variant),
    async run(ctx) {
      if (variant === 'framing') {
        // Without the probe: the target's own params (SCRIPT_FILENAME…) sent in the 44 layout must be read as
        // when sent plainly, which the CGI status shows.
        const plain = await plainStatus(ctx);
        const pairs = withBaseParams(ctx).map((p) => ({ name: p.name, value: p.value, forms: { nameForm: 4, valueForm: 4 } as const }));
        const { obs } = await exchange(ctx, encodePlan(ctx, { requestId: 1, paramsBytes: encodePairsWithForms(pairs) }));
        // §3.4: "A high-order zero implies a one-byte encoding, a one a four-byte encoding."
        expectServedLikePlain(ctx.check, obs, plain, 'FCGI-3.4-length-forms-accepted', 'every param in the four-byte length form (44)');
        return;
      }
      const name = 'FCGISPEC_FORM';
      const series = await runSeries(ctx, formCases.length, async (conn, i, flags) => {
        const c = formCases[i]!;
        const bytes = withRawPairs(ctx, probe.echoParam(name), encodePairsWithForms([{ name, value: c.value, forms: { nameForm: c.nameForm, valueForm: c.valueForm } }]), flags);
        const { obs } = await sendAndRead(conn, bytes);
        return obs;
      }, (obs, i) => echoProblem(obs, formCases[i]!.value));
      // §3.4: "The high-order bit of the first byte of a length indicates the length's encoding."
      expectSeries(ctx.check, series, formCases.map((c) => c.label), 'FCGI-3.4-length-forms-accepted', 'each layout read, value echoed');
    },
  });
}

const binaryValues = defineScenario({
  id: 'params.binary-values',
  title: 'passes param values through byte for byte: 0x01..0xFF exactly; NUL bytes exactly or refused cleanly',
  group: 'params',
  requirements: ['FCGI-3.4-binary-values'],
  needs: { probe: true },
  async run(ctx) {
    const name = 'FCGISPEC_BINARY';
    const nonNul = allByteValues().subarray(1);
    const a = await exchange(ctx, { requestId: 1, params: [...probe.echoParam(name), [name, nonNul]] });
    a.conn.close();
    // §3.4: "This name-value pair format allows the sender to transmit binary values without additional encoding".
    expectProbeBody(ctx.check, a.obs, nonNul, 'FCGI-3.4-binary-values', 'a value holding every byte 0x01..0xFF');

    const withNul = concatBytes([allByteValues(), Uint8Array.of(0, 0, 0x41, 0)]);
    const b = await exchange(ctx, { requestId: 1, params: [...probe.echoParam(name), [name, withNul]] });
    const cgi = cgiOf(b.obs);
    const outcome = outcomeOf(b.obs);
    // A library that builds C strings may refuse NUL bytes (§6.1: CGI values carry none), but only cleanly,
    // never by cutting the value short and answering 200.
    const exact = echoProblem(b.obs, withNul) === undefined;
    const refused = outcome === 'rejected' || (outcome === 'complete' && cgi !== undefined && cgi.status !== 200);
    ctx.check.observe('value with NUL bytes', exact ? 'echoed exactly' : refused ? `refused (${outcome === 'rejected' ? 'FCGI_END_REQUEST status' : `CGI status ${cgi?.status}`})` : 'other');
    ctx.check.that(
      exact || refused,
      'FCGI-3.4-binary-values',
      'a value holding NUL bytes echoed exactly, or the request refused cleanly',
      echoProblem(b.obs, withNul) ?? describeMismatch(cgi?.body ?? new Uint8Array(0), withNul) ?? '',
    );
  },
});

export const lengthScenarios: readonly Scenario[] = [lengths, ...variants.map(lengthForms), binaryValues];

