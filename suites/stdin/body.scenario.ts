/**
 * FCGI_STDIN, the request body: empty, one byte, 10 MiB, cut into records of odd sizes, sent slowly. The value
 * of the stream is the concatenation of its records' content. @see §3.3 "Stream records", §5.3, §6.2
 */
import { FCGI_MAX_CONTENT_LENGTH, FCGI_STDIN } from '../../spec/constants.ts';
import { concatBytes, encodeStream } from '../../reference/codec/record.ts';
import { defineScenario, type Scenario } from '../define.ts';
import {
  bodyParams,
  encodePlan,
  exchange,
  expectEchoOrServed,
  expectSeries,
  formatSize,
  patternBytes,
  probe,
  randomCuts,
  runSeries,
  sendAndRead,
  splitAt,
  streamInSizes,
  variantId,
  variantNeeds,
  variantProblem,
  variantTitle,
  variants,
  type Variant,
} from '../kit.ts';

const MiB = 1024 * 1024;

/** The params of a body of `length` bytes, with the probe's echo in the `probe` variant. */
function stdinParams(variant: Variant, length: number): [string, string][] {
  return [...bodyParams(length), ...(variant === 'probe' ? probe.echoStdin() : [])];
}

/** A probe-only scenario echoing one body sent in default records. */
function echoBody(id: `stdin.${string}`, body: Uint8Array, title: string): Scenario {
  return defineScenario({
    id,
    title,
    group: 'stdin',
    requirements: ['FCGI-3.3-stream-value-app'],
    needs: { probe: true },
    async run(ctx) {
      const { obs } = await exchange(ctx, { requestId: 1, params: stdinParams('probe', body.length), stdin: body });
      // §6.2: "the Responder application receives CGI/1.1 stdin data from the Web server over FCGI_STDIN."
      expectEchoOrServed(ctx.check, 'probe', obs, body, 'FCGI-3.3-stream-value-app', `a body of ${formatSize(body.length)}`);
    },
  });
}

function tenMiB(variant: Variant): Scenario {
  return defineScenario({
    id: variantId('stdin.10mib', variant),
    title: variantTitle('reads a 10 MiB body', variant),
    group: 'stdin',
    requirements: ['FCGI-3.3-stream-value-app'],
    needs: variantNeeds(variant),
    timeoutMs: 60_000,
    async run(ctx) {
      const body = patternBytes(10 * MiB, 0x0a00);
      // Read while sending: an application may answer before STDIN ends (§6.1), and must not be blocked by us.
      const { obs } = await exchange(ctx, { requestId: 1, params: stdinParams(variant, body.length), stdin: body }, { timeoutMs: ctx.timeouts.scale(30_000) });
      // §3.3: "The contentData components of a stream's records, when concatenated, form a byte sequence; this
      // byte sequence is the value of the stream."
      expectEchoOrServed(ctx.check, variant, obs, body, 'FCGI-3.3-stream-value-app', 'a 10 MiB body in 161 STDIN records');
    },
  });
}

interface SizeCase {
  readonly label: string;
  readonly body: Uint8Array;
  /** The STDIN stream for request id 1. */
  readonly stream: (randomInt: (min: number, max: number) => number) => Uint8Array;
}

const sizeCases: readonly SizeCase[] = [
  { label: '4 KiB in 1-byte records', body: patternBytes(4096, 0x0b01), stream: () => streamInSizes(FCGI_STDIN, 1, patternBytes(4096, 0x0b01), [1]) },
  { label: '64 KiB in 7-byte records', body: patternBytes(65536, 0x0b02), stream: () => streamInSizes(FCGI_STDIN, 1, patternBytes(65536, 0x0b02), [7]) },
  {
    label: '1 MiB in 65535-byte records with 255 padding bytes',
    body: patternBytes(MiB, 0x0b03),
    stream: () => encodeStream(FCGI_STDIN, 1, patternBytes(MiB, 0x0b03), { maxContent: FCGI_MAX_CONTENT_LENGTH, padding: 255, paddingByte: 0xaa }),
  },
  {
    label: '256 KiB cut at 40 seeded random offsets',
    body: patternBytes(256 * 1024, 0x0b04),
    stream: (randomInt) => {
      const body = patternBytes(256 * 1024, 0x0b04);
      // Parts longer than 65535 bytes are cut again by encodeStream.
      const parts = splitAt(body, randomCuts({ randomInt }, body.length, 40));
      return concatBytes([...parts.map((p) => encodeStream(FCGI_STDIN, 1, p, { terminate: false })), encodeStream(FCGI_STDIN, 1, new Uint8Array(0))]);
    },
  },
];

function recordSizes(variant: Variant): Scenario {
  return defineScenario({
    id: variantId('stdin.record-sizes', variant),
    title: variantTitle('reads bodies cut into records of 1, 7 and 65535 bytes and at random offsets', variant),
    group: 'stdin',
    requirements: ['FCGI-3.3-stream-value-app'],
    needs: variantNeeds(variant),
    timeoutMs: 45_000,
    async run(ctx) {
      const series = await runSeries(ctx, sizeCases.length, async (conn, i, flags) => {
        const c = sizeCases[i]!;
        const head = encodePlan(ctx, { requestId: 1, flags, params: stdinParams(variant, c.body.length), omit: { stdin: true } });
        const { obs } = await sendAndRead(conn, concatBytes([head, c.stream((a, b) => ctx.randomInt(a, b))]), { timeoutMs: ctx.timeouts.scale(5000) });
        return obs;
      }, (obs, i) => variantProblem(variant, obs, sizeCases[i]!.body));
      // §3.3: "the value of a stream is independent of how many records it contains or how its bytes are divided
      // among the non-empty records."
      expectSeries(ctx.check, series, sizeCases.map((c) => c.label), 'FCGI-3.3-stream-value-app', 'each body read whole');
    },
  });
}

const slow = defineScenario({
  id: 'stdin.slow',
  title: 'waits for a body sent in three parts with pauses between them',
  group: 'stdin',
  requirements: ['FCGI-3.3-stream-value-app'],
  needs: { probe: true },
  async run(ctx) {
    const body = patternBytes(3000, 0x0c00);
    const conn = await ctx.connect();
    await conn.send(encodePlan(ctx, { requestId: 1, params: stdinParams('probe', body.length), omit: { stdin: true } }));
    const reading = conn.readResponse(1, ctx.timeouts.scale(5000));
    for (const part of splitAt(body, [1000, 2000])) {
      await conn.send(encodeStream(FCGI_STDIN, 1, part, { terminate: false }));
      await ctx.sleep(100); // the application must wait for more rather than take what it has as the body
    }
    await conn.send(encodeStream(FCGI_STDIN, 1, new Uint8Array(0)));
    // §3.3: the stream ends with its empty record, not when the records so far run out.
    expectEchoOrServed(ctx.check, 'probe', await reading, body, 'FCGI-3.3-stream-value-app', 'a body sent in three parts 100 ms apart');
  },
});

export const bodyScenarios: readonly Scenario[] = [
  echoBody('stdin.empty', new Uint8Array(0), 'reads an empty body (only the empty STDIN record)'),
  echoBody('stdin.one-byte', Uint8Array.of(0x5a), 'reads a body of one byte'),
  ...variants.map(tenMiB),
  ...variants.map(recordSizes),
  slow,
];
