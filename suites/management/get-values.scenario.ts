/**
 * FCGI_GET_VALUES: the web server asks for variables by name (empty values); the application answers with one
 * FCGI_GET_VALUES_RESULT holding the names it understands, with their values. @see §4.1
 */
import { FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS } from '../../spec/constants.ts';
import { toText } from '../../reference/codec/name-value.ts';
import { defineScenario, type Check, type Scenario, type ScenarioConnection, type ScenarioContext } from '../define.ts';
import { checkValueFormats, describeEvent, expectServed, getValuesNames, queryValues, sendAndRead } from '../kit.ts';

const formatRequirements = { maxConns: 'FCGI-4.1-limit-values', maxReqs: 'FCGI-4.1-limit-values', mpxsConns: 'FCGI-4.1-mpxs-conns' } as const;

/** Names in the answer that were not asked, and names answered more than once. */
function checkOnlyAsked(check: Check, asked: readonly string[], answered: readonly string[]): void {
  const extra = answered.filter((n) => !asked.includes(n));
  const counts = new Map<string, number>();
  for (const n of answered) counts.set(n, (counts.get(n) ?? 0) + 1);
  const repeated = [...counts].filter(([, c]) => c > 1).map(([n, c]) => `${n} ×${c}`);
  // §4.1: the result carries "the values supplied" for the query's names; the catalog reads this as: only names
  // that were asked, each once.
  check.that(extra.length === 0, 'FCGI-4.1-only-names-asked', `only names from the query (${asked.join(', ') || 'none'})`, `also ${extra.join(', ')}`);
  check.that(repeated.length === 0, 'FCGI-4.1-only-names-asked', 'each name answered at most once', repeated.join(', '));
}

/**
 * After the answer, nothing more on the management channel for a quiet period: one query, one result (Go's
 * library, for one, sends a second, empty GET_VALUES_RESULT).
 */
async function expectNoSecondResult(ctx: Pick<ScenarioContext, 'check' | 'timeouts'>, conn: ScenarioConnection): Promise<void> {
  const more = await conn.nextManagement(ctx.timeouts.quietMs);
  // §4.1: "The application responds by sending a record {FCGI_GET_VALUES_RESULT, 0, ...}": one record.
  ctx.check.that(more.kind !== 'record', 'FCGI-4.1-get-values-answered', 'one FCGI_GET_VALUES_RESULT per FCGI_GET_VALUES', `then ${describeEvent(more)}`);
}

const each = defineScenario({
  id: 'management.get-values.each',
  title: 'answers FCGI_GET_VALUES for each variable asked alone',
  group: 'management',
  requirements: ['FCGI-4.1-get-values-answered', 'FCGI-4.1-only-names-asked', 'FCGI-4.1-limit-values', 'FCGI-4.1-mpxs-conns'],
  async run(ctx) {
    // A fresh connection per query, so an application that closes after answering does not spoil the next; the
    // three at once (an application may also take them in turn, §3.2), so their quiet periods overlap.
    await Promise.all(
      getValuesNames.map(async (name) => {
        const conn = await ctx.connect();
        const { answered, pairs } = await queryValues(ctx, conn, [name]);
        if (answered) {
          const names = pairs.map((p) => toText(p.name));
          checkOnlyAsked(ctx.check, [name], names);
          checkValueFormats(ctx.check, pairs, formatRequirements);
          // §4.1 defines the three variables; an application may still not understand one ("If the application
          // doesn't understand a variable name … it omits that name"): recorded, not judged.
          if (!names.includes(name)) ctx.check.observe(`${name} (asked alone)`, 'not answered');
          await expectNoSecondResult(ctx, conn);
        }
        conn.close();
      }),
    );
  },
});

const all = defineScenario({
  id: 'management.get-values.all',
  title: 'answers one FCGI_GET_VALUES naming all three variables with one FCGI_GET_VALUES_RESULT',
  group: 'management',
  requirements: ['FCGI-4.1-get-values-answered', 'FCGI-4.1-only-names-asked', 'FCGI-4.1-limit-values', 'FCGI-4.1-mpxs-conns'],
  async run(ctx) {
    const conn = await ctx.connect();
    const { answered, pairs } = await queryValues(ctx, conn, getValuesNames);
    if (!answered) return;
    const names = pairs.map((p) => toText(p.name));
    checkOnlyAsked(ctx.check, getValuesNames, names);
    checkValueFormats(ctx.check, pairs, formatRequirements);
    ctx.check.observe('variables answered', names.length ? names.join(', ') : 'none');
    await expectNoSecondResult(ctx, conn);
  },
});

const empty = defineScenario({
  id: 'management.get-values.empty',
  title: 'answers an FCGI_GET_VALUES that names no variable with an empty FCGI_GET_VALUES_RESULT',
  group: 'management',
  requirements: ['FCGI-4.1-get-values-answered', 'FCGI-4.1-only-names-asked'],
  async run(ctx) {
    const conn = await ctx.connect();
    // §4.1: "The application responds by sending a record {FCGI_GET_VALUES_RESULT, 0, ...} with the values
    // supplied": for no names, a result with no pairs.
    const { answered, pairs } = await queryValues(ctx, conn, []);
    if (answered) checkOnlyAsked(ctx.check, [], pairs.map((p) => toText(p.name)));
  },
});

const unknownNames = defineScenario({
  id: 'management.get-values.unknown-names',
  title: 'leaves names it does not understand out of FCGI_GET_VALUES_RESULT',
  group: 'management',
  requirements: ['FCGI-4.1-unknown-name-omitted', 'FCGI-4.1-get-values-answered'],
  async run(ctx) {
    const conn = await ctx.connect();
    const unknown = ['FCGISPEC_UNKNOWN_NAME', 'fcgi_max_conns', 'FCGI_MAX_CONNS_'];
    const { answered, pairs } = await queryValues(ctx, conn, [FCGI_MAX_CONNS, ...unknown]);
    if (!answered) return;
    const names = pairs.map((p) => toText(p.name));
    const present = unknown.filter((n) => names.includes(n));
    // §4.1: "If the application doesn't understand a variable name that was included in the query, it omits that
    // name from the response." (Names are byte strings: a lower-case spelling is another name.)
    ctx.check.that(present.length === 0, 'FCGI-4.1-unknown-name-omitted', `no pair for ${unknown.join(', ')}`, `answered ${present.join(', ')}`);
  },
});

const repeatedName = defineScenario({
  id: 'management.get-values.repeated-name',
  title: 'answers a variable asked twice in one query once, without harm',
  group: 'management',
  requirements: ['FCGI-4.1-only-names-asked', 'FCGI-4.1-get-values-answered'],
  // libfcgi writes the answer for repeated names into a fixed stack buffer.
  hostile: true,
  async run(ctx) {
    const conn = await ctx.connect();
    const asked = [FCGI_MAX_REQS, FCGI_MAX_REQS, FCGI_MPXS_CONNS, FCGI_MPXS_CONNS, FCGI_MAX_REQS];
    const { answered, pairs } = await queryValues(ctx, conn, asked);
    if (answered) checkOnlyAsked(ctx.check, asked, pairs.map((p) => toText(p.name)));
  },
});

const thenRequest = defineScenario({
  id: 'management.get-values.then-request',
  title: 'serves a request sent on the connection after FCGI_GET_VALUES was answered',
  group: 'management',
  requirements: ['FCGI-4.1-get-values-any-time', 'FCGI-4.1-get-values-answered'],
  async run(ctx) {
    const conn = await ctx.connect();
    const { answered } = await queryValues(ctx, conn, getValuesNames);
    if (!answered) return;
    // §4.1: "An application may receive a FCGI_GET_VALUES record at any time." Answering it must leave the
    // connection as it was: the first request on it is served, with FCGI_KEEP_CONN clear as usual
    // (php-fpm closed here before PHP 8.2, bug #76922).
    const { obs } = await sendAndRead(conn, { requestId: 1 });
    expectServed(ctx.check, obs, 'FCGI-4.1-get-values-any-time', 'a request after FCGI_GET_VALUES on the same connection');
  },
});

export const getValuesScenarios: readonly Scenario[] = [each, all, empty, unknownNames, repeatedName, thenRequest];
