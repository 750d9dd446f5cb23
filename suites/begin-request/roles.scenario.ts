/**
 * FCGI_BEGIN_REQUEST roles: the application plays the roles it knows (Responder, and Authorizer and Filter
 * where it claims them) and rejects any other role with FCGI_UNKNOWN_ROLE. @see §5.1, §5.5, §6.2–6.4
 */
import {
  FCGI_AUTHORIZER,
  FCGI_FILTER,
  FCGI_KEEP_CONN,
  FCGI_STDOUT,
  FCGI_UNKNOWN_ROLE,
  protocolStatusName,
} from '../../spec/constants.ts';
import { defineScenario, type ResponseObservation, type Scenario, type ScenarioConnection } from '../define.ts';
import {
  cgiOf,
  describeObservation,
  describeOutcome,
  exchange,
  expectCleanOutcome,
  expectProbeBody,
  expectServed,
  filterParams,
  headerValue,
  keptConnectionProblem,
  outcomeOf,
  patternBytes,
  probe,
  sendAndRead,
} from '../kit.ts';

const responder = defineScenario({
  id: 'begin-request.responder',
  title: "serves a Responder request as the spec's example 1 shows: STDOUT, empty STDOUT, END_REQUEST, close",
  group: 'begin-request',
  requirements: ['FCGI-B-simple-request-app', 'FCGI-5.5-request-complete'],
  async run(ctx) {
    const { conn, obs } = await exchange(ctx, { requestId: 1 });
    // Appendix B, example 1: {FCGI_STDOUT, 1, "Content-type: text/html\r\n\r\n<html>…"} {FCGI_STDOUT, 1, ""}
    // {FCGI_END_REQUEST, 1, {0, FCGI_REQUEST_COMPLETE}}; with flags 0 the application then closes (§5.1).
    if (!expectServed(ctx.check, obs, 'FCGI-5.5-request-complete', 'a plain Responder request')) return;
    const stdoutRecords = obs.records.filter((r) => r.type === FCGI_STDOUT);
    ctx.check.that(
      obs.stdout.length > 0 && obs.stdoutTerminated && stdoutRecords.at(-1)?.content.length === 0,
      'FCGI-B-simple-request-app',
      'FCGI_STDOUT data, then one empty FCGI_STDOUT record, then FCGI_END_REQUEST',
      describeObservation(obs),
    );
    ctx.check.observe('appStatus of a plain request', obs.end?.appStatus ?? -1);
    const closed = await conn.waitClose(ctx.timeouts.closeMs);
    ctx.check.that(closed.closed, 'FCGI-B-simple-request-app', 'the application closes the connection after FCGI_END_REQUEST (flags 0)', `still open after ${ctx.timeouts.closeMs} ms`);
  },
});

const authorizer = defineScenario({
  id: 'begin-request.authorizer',
  title: 'plays the Authorizer role: 200 with Variable- headers to allow, another status to deny',
  group: 'begin-request',
  requirements: ['FCGI-6.3-authorizer-response'],
  needs: { roles: ['authorizer'], probe: true },
  async run(ctx) {
    for (const allow of [true, false]) {
      const { conn, obs } = await exchange(ctx, { requestId: 1, role: FCGI_AUTHORIZER, params: probe.authorize(allow) });
      conn.close();
      // §6.3: "The Authorizer application sends stdout and stderr data in the same manner as a Responder. The
      // CGI/1.1 response status specifies the disposition of the request."
      if (!expectServed(ctx.check, obs, 'FCGI-6.3-authorizer-response', `an Authorizer request told to ${allow ? 'allow' : 'deny'}`)) continue;
      const cgi = cgiOf(obs);
      const status = cgi?.status;
      ctx.check.that(
        cgi !== undefined && (allow ? status === 200 : status !== 200),
        'FCGI-6.3-authorizer-response',
        allow ? 'a CGI response with status 200' : 'a CGI response with a status other than 200',
        cgi ? `status ${status}` : `no CGI response: ${describeObservation(obs)}`,
      );
      if (allow && cgi) {
        // §6.3: "An Authorizer application's 200 response may include headers whose names are prefixed with Variable-."
        const variable = headerValue(cgi, `Variable-${probe.authorizeVariable.name}`);
        ctx.check.that(
          variable === probe.authorizeVariable.value,
          'FCGI-6.3-authorizer-response',
          `header Variable-${probe.authorizeVariable.name}: ${probe.authorizeVariable.value}`,
          variable === undefined ? 'no such header' : `value "${variable}"`,
        );
      }
    }
  },
});

const filter = defineScenario({
  id: 'begin-request.filter',
  title: 'plays the Filter role: reads FCGI_DATA after STDIN and answers with the filtered data',
  group: 'begin-request',
  requirements: ['FCGI-6.4-filter-end-request', 'FCGI-3.3-stream-value-app'],
  needs: { roles: ['filter'], probe: true },
  async run(ctx) {
    const data = patternBytes(5000, 0x0700);
    const { obs } = await exchange(ctx, {
      requestId: 1,
      role: FCGI_FILTER,
      params: [...filterParams(data.length), ...probe.echoData()],
      data,
    });
    // §6.4: "Next the Filter application receives the file data from the Web server over FCGI_DATA." … "After
    // sending all its stdout and stderr data, the application sends a FCGI_END_REQUEST record."
    expectProbeBody(ctx.check, obs, data, 'FCGI-6.4-filter-end-request', 'a Filter request echoing its FCGI_DATA');
  },
});

/** Checks the FCGI_UNKNOWN_ROLE rejection of a request of `role`. Returns whether it ended with FCGI_END_REQUEST. */
function judgeUnknownRole(ctx: Parameters<Scenario['run']>[0], role: number, obs: ResponseObservation): boolean {
  const what = `role ${role} (0x${role.toString(16).padStart(4, '0')})`;
  // §5.5: "FCGI_UNKNOWN_ROLE: rejecting a new request. This happens when the Web server has specified a role
  // that is unknown to the application."
  ctx.check.that(
    obs.ending === 'end-request' && obs.end?.protocolStatus === FCGI_UNKNOWN_ROLE,
    'FCGI-5.1-unknown-role',
    `${what}: {FCGI_END_REQUEST, ${obs.requestId}, {appStatus, FCGI_UNKNOWN_ROLE}}`,
    obs.ending === 'end-request' ? `${protocolStatusName(obs.end?.protocolStatus ?? -1)}: ${describeObservation(obs)}` : describeObservation(obs),
  );
  // The request never ran: a rejection carries no output (an empty STDOUT record is tolerated).
  ctx.check.that(obs.stdout.length === 0, 'FCGI-5.1-unknown-role', `${what}: no FCGI_STDOUT data with the rejection`, `${obs.stdout.length} bytes of stdout`);
  return obs.ending === 'end-request';
}

const unknownRole = defineScenario({
  id: 'begin-request.unknown-role',
  title: 'rejects roles 0, 4, 9, 0x0101 and 0xFFFF with FCGI_UNKNOWN_ROLE',
  group: 'begin-request',
  requirements: ['FCGI-5.1-unknown-role'],
  async run(ctx) {
    const roles = [0, 4, 9, 0x0101, 0xffff];
    let keep = ctx.profile.keepConn;
    // With keep-conn, on one kept connection, then a Responder request: the rejected requests' PARAMS and STDIN
    // (records of an id no longer active) must not disturb it. Each request has an id of its own, so anything a
    // target sends late for one (the output group judges that) is never read as part of the next. A target that
    // closes the kept connection anyway (the keep-conn group judges that) gets fresh connections from then on.
    let conn: ScenarioConnection | undefined;
    let reused = false;
    const ids = roles.map((_, i) => i + 1);
    for (const [i, role] of roles.entries()) {
      if (!conn) {
        conn = await ctx.connect();
        reused = false;
      }
      let { obs } = await sendAndRead(conn, { requestId: ids[i]!, role, flags: keep ? FCGI_KEEP_CONN : 0 });
      if (reused && obs.ending === 'closed' && obs.records.length === 0) {
        ctx.check.observe('kept connection closed by the target', `after a rejection, before role ${role}: the rest on fresh connections`);
        keep = false;
        conn.close();
        conn = await ctx.connect();
        obs = (await sendAndRead(conn, { requestId: ids[i]!, role, flags: 0 })).obs;
      }
      const ended = judgeUnknownRole(ctx, role, obs);
      if (keep && ended) reused = true;
      else {
        conn.close();
        conn = undefined;
      }
    }
    if (!conn) return;
    const { obs } = await sendAndRead(conn, { requestId: roles.length + 1, flags: FCGI_KEEP_CONN });
    if (obs.ending === 'closed' && obs.records.length === 0) {
      ctx.check.observe('kept connection closed by the target', 'after the last rejection: no Responder request on it');
      return;
    }
    expectServed(ctx.check, obs, 'FCGI-5.1-unknown-role', 'a Responder request after the rejected ones on the same connection');
  },
});

const filterOrUnknown = defineScenario({
  id: 'begin-request.filter-or-unknown-role',
  title: 'either plays the Filter role, consuming FCGI_DATA, or rejects it with FCGI_UNKNOWN_ROLE',
  group: 'begin-request',
  requirements: ['FCGI-6.4-filter-or-unknown-role'],
  async run(ctx) {
    const keep = ctx.profile.keepConn;
    const data = patternBytes(100 * 1024, 0x0800);
    const conn = await ctx.connect();
    const { obs } = await sendAndRead(
      conn,
      { requestId: 1, role: FCGI_FILTER, flags: keep ? FCGI_KEEP_CONN : 0, params: filterParams(data.length), data },
      { timeoutMs: ctx.timeouts.scale(5000) },
    );
    // §5.5 FCGI_UNKNOWN_ROLE for a role the application does not play; §6.4 the Filter reads FCGI_DATA.
    // Treating Filter as a Responder that leaves DATA unread (php-fpm then resets the connection) is neither.
    const outcome = expectCleanOutcome(ctx.check, obs, 'FCGI-6.4-filter-or-unknown-role', 'a Filter request with 100 KiB of FCGI_DATA', ['complete', 'rejected']);
    ctx.check.observe('Filter request', describeOutcome(outcome, obs));
    if (outcome === 'rejected') {
      ctx.check.that(
        obs.end?.protocolStatus === FCGI_UNKNOWN_ROLE,
        'FCGI-6.4-filter-or-unknown-role',
        'a rejection with FCGI_UNKNOWN_ROLE',
        protocolStatusName(obs.end?.protocolStatus ?? -1),
      );
    }
    if (!keep || obs.ending !== 'end-request' || (await keptConnectionProblem(ctx, conn, 1))) return;
    const next = await sendAndRead(conn, { requestId: 1, flags: FCGI_KEEP_CONN });
    expectServed(ctx.check, next.obs, 'FCGI-6.4-filter-or-unknown-role', 'a Responder request after the Filter request on the same connection');
  },
});

const authorizerUnclaimed = defineScenario({
  id: 'begin-request.authorizer-or-unknown-role',
  title: 'records what a target that does not claim the Authorizer role does with one',
  group: 'begin-request',
  requirements: ['FCGI-5.1-unknown-role'],
  async run(ctx) {
    if (ctx.profile.roles.includes('authorizer')) ctx.skip('the profile claims the Authorizer role: begin-request.authorizer tests it');
    const { obs } = await exchange(ctx, { requestId: 1, role: FCGI_AUTHORIZER });
    const outcome = outcomeOf(obs);
    ctx.check.observe('Authorizer request', describeOutcome(outcome, obs));
    // §5.5 FCGI_UNKNOWN_ROLE "happens when the Web server has specified a role that is unknown to the
    // application". Serving it is fine too (the profile may just not claim it); anything else is not.
    expectCleanOutcome(ctx.check, obs, 'FCGI-5.1-unknown-role', 'an Authorizer request to a target not claiming the role', ['complete', 'rejected']);
    if (outcome === 'rejected') {
      ctx.check.that(obs.end?.protocolStatus === FCGI_UNKNOWN_ROLE, 'FCGI-5.1-unknown-role', 'a rejection with FCGI_UNKNOWN_ROLE', protocolStatusName(obs.end?.protocolStatus ?? -1));
    }
  },
});

export const roleScenarios: readonly Scenario[] = [responder, authorizer, filter, unknownRole, filterOrUnknown, authorizerUnclaimed];
