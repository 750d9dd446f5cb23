/**
 * The FCGI_BEGIN_REQUEST body: undefined flag bits and the five reserved bytes carry nothing and are ignored;
 * a body of the wrong length is malformed and must be refused cleanly. @see §5.1 FCGI_BeginRequestBody
 */
import { FCGI_BEGIN_REQUEST, FCGI_KEEP_CONN, FCGI_RESPONDER } from '../../spec/constants.ts';
import { concatBytes } from '../../reference/codec/record.ts';
import { defineScenario, type Scenario } from '../define.ts';
import {
  describeOutcome,
  encodePlan,
  encodeRecords,
  exchange,
  expectCleanOutcome,
  expectServed,
  keptConnectionProblem,
  recordsOf,
  sendAndRead,
} from '../kit.ts';

const unusedFlagBits = defineScenario({
  id: 'begin-request.flags.unused-bits',
  title: 'ignores the undefined flag bits (flags 0xFE): serves the request and, FCGI_KEEP_CONN being clear, closes',
  group: 'begin-request',
  requirements: ['FCGI-3.3-reserved-ignored'],
  async run(ctx) {
    const { conn, obs } = await exchange(ctx, { requestId: 1, flags: 0xfe });
    // §5.1: "The flags component contains a bit that controls connection shutdown: flags & FCGI_KEEP_CONN: If
    // zero, the application closes the connection after responding to this request." The other bits mean nothing.
    if (!expectServed(ctx.check, obs, 'FCGI-3.3-reserved-ignored', 'a request with flags 0xFE')) return;
    const closed = await conn.waitClose(ctx.timeouts.closeMs);
    if (closed.closed) return;
    // Still open: was it the undefined bits, or does the target never close? Ask with flags 0 to tell.
    conn.close();
    const plain = await exchange(ctx, { requestId: 1, flags: 0 });
    const plainClosed = plain.obs.ending === 'end-request' ? (await plain.conn.waitClose(ctx.timeouts.closeMs)).closed : true;
    if (!plainClosed) {
      ctx.check.observe('close after flags 0xFE', 'not closed (nor after flags 0: see the keep-conn group)');
      return;
    }
    ctx.check.violation(
      'FCGI-3.3-reserved-ignored',
      'with flags 0xFE (FCGI_KEEP_CONN clear) the connection closed after the request, as with flags 0',
      `still open ${ctx.timeouts.closeMs} ms after FCGI_END_REQUEST, while flags 0 closes it: an undefined bit was read as FCGI_KEEP_CONN`,
    );
  },
});

const keepConnWithUnusedBits = defineScenario({
  id: 'begin-request.flags.keep-conn-with-unused-bits',
  title: 'treats flags 0xFF with reserved bytes 0x20 as FCGI_KEEP_CONN: serves, keeps the connection, serves again',
  group: 'begin-request',
  requirements: ['FCGI-3.3-reserved-ignored'],
  needs: { keepConn: true },
  async run(ctx) {
    const conn = await ctx.connect();
    const reserved = new Uint8Array(5).fill(0x20);
    const first = await sendAndRead(conn, { requestId: 1, flags: 0xff, beginReserved: reserved });
    if (!expectServed(ctx.check, first.obs, 'FCGI-3.3-reserved-ignored', 'a request with flags 0xFF and reserved bytes 0x20')) return;
    const problem = await keptConnectionProblem(ctx, conn, 1);
    if (problem) {
      // Closed (or garbled) after flags 0xFF: the undefined bits' fault only if flags 1 keeps the connection.
      conn.close();
      const plain = await ctx.connect();
      const one = await sendAndRead(plain, { requestId: 1, flags: FCGI_KEEP_CONN });
      const plainProblem = one.obs.ending === 'end-request' ? await keptConnectionProblem(ctx, plain, 1) : 'not served';
      if (plainProblem) ctx.skip(`flags 1 does not keep the connection either (${plainProblem}): the keep-conn group judges that`);
      // §5.1: "If not zero, the application does not close the connection after responding to this request".
      ctx.check.violation(
        'FCGI-3.3-reserved-ignored',
        'flags 0xFF read as FCGI_KEEP_CONN: the connection kept, as with flags 1',
        `after flags 0xFF: ${problem}; after flags 1 the connection stays usable`,
      );
      return;
    }
    const second = await sendAndRead(conn, { requestId: 1, flags: 0xff, beginReserved: reserved });
    expectServed(ctx.check, second.obs, 'FCGI-3.3-reserved-ignored', 'a second request with flags 0xFF on the kept connection');
  },
});

const reservedNonzero = defineScenario({
  id: 'begin-request.reserved-nonzero',
  title: 'ignores non-zero reserved bytes in the FCGI_BEGIN_REQUEST body',
  group: 'begin-request',
  requirements: ['FCGI-3.3-reserved-ignored'],
  async run(ctx) {
    const { obs } = await exchange(ctx, { requestId: 1, beginReserved: Uint8Array.of(0xff, 0x01, 0x80, 0x7f, 0xaa) });
    // §5.1 FCGI_BeginRequestBody: `unsigned char reserved[5];`, given no meaning.
    expectServed(ctx.check, obs, 'FCGI-3.3-reserved-ignored', 'a request whose BEGIN_REQUEST reserved bytes are ff 01 80 7f aa');
  },
});

/** A valid request whose BEGIN_REQUEST body is cut to, or grown to, `length` bytes. */
function malformedBegin(length: 7 | 9): Scenario {
  return defineScenario({
    id: `begin-request.body-${length}-bytes`,
    title: `refuses cleanly, or serves, a FCGI_BEGIN_REQUEST whose body is ${length} bytes`,
    group: 'begin-request',
    requirements: ['FCGI-5.1-malformed-begin-body'],
    hostile: true,
    async run(ctx) {
      const plain = encodePlan(ctx, { requestId: 1 });
      const [begin, ...rest] = recordsOf(plain);
      const body = new Uint8Array(length);
      body.set(begin!.content.subarray(0, Math.min(length, 8)));
      if (length === 9) body[8] = 0x55;
      const bytes = concatBytes([
        encodeRecords([{ type: FCGI_BEGIN_REQUEST, requestId: 1, content: body, paddingLength: (8 - ((8 + length) % 8)) % 8 }]),
        plain.subarray(rest[0]!.offset),
      ]);
      const { obs } = await exchange(ctx, bytes);
      // §5.1: the body is FCGI_BeginRequestBody, eight bytes; one of another length is malformed and has no
      // stated handling, so serving it (role FCGI_RESPONDER read from its first bytes) or refusing it are both
      // clean; a crash, a hang or partial output is not.
      const outcome = expectCleanOutcome(ctx.check, obs, 'FCGI-5.1-malformed-begin-body', `a ${length}-byte BEGIN_REQUEST body (role ${FCGI_RESPONDER}, flags 0)`);
      ctx.check.observe(`BEGIN_REQUEST body of ${length} bytes`, describeOutcome(outcome, obs));
    },
  });
}

export const beginBodyScenarios: readonly Scenario[] = [
  unusedFlagBits,
  keepConnWithUnusedBits,
  reservedNonzero,
  malformedBegin(7),
  malformedBegin(9),
];
