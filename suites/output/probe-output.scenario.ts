/**
 * Output the probe application is told to produce: error text on FCGI_STDERR, bulk bodies of 1 and 10 MiB, a
 * CGI status, an exit status, and the spec's error example. @see §5.3, §6.1, §6.2, Appendix B example 3
 */
import { FCGI_KEEP_CONN, FCGI_REQUEST_COMPLETE, FCGI_STDERR, FCGI_STDOUT } from '../../spec/constants.ts';
import { defineScenario, type ResponseObservation, type Scenario, type ScenarioContext } from '../define.ts';
import {
  cgiOf,
  checkResponseFraming,
  describeObservation,
  exchange,
  expectProbeBody,
  expectQuietAfterEnd,
  expectServed,
  formatSize,
  preview,
  probe,
  sendAndRead,
  utf8,
} from '../kit.ts';

const STDERR_TEXT = 'fcgispec: config error: missing SI_UID\n';

/**
 * A probe app answers 501 `not implemented` for an action its implementation gives it no means to perform
 * (Go's net/http/fcgi and WSGI have no way to write FCGI_STDERR): nothing about the protocol to judge then.
 * Findings recorded before still count.
 */
function skipWhenProbeCannot(ctx: ScenarioContext, obs: ResponseObservation, what: string): void {
  const cgi = cgiOf(obs);
  if (cgi?.status === 501 && Buffer.from(cgi.body).toString('latin1') === 'not implemented\n') {
    ctx.skip(`the probe app cannot ${what} on this implementation (it answered 501 not implemented)`);
  }
}

const stderr = defineScenario({
  id: 'output.stderr',
  title: 'sends error text on FCGI_STDERR, apart from FCGI_STDOUT, and ends that stream if it carried data',
  group: 'output',
  requirements: ['FCGI-5.3-output-streams', 'FCGI-X-stderr-terminated', 'FCGI-3.3-nothing-after-terminator'],
  needs: { probe: true },
  async run(ctx) {
    const { obs } = await exchange(ctx, { requestId: 1, params: probe.stderr(STDERR_TEXT) });
    if (!expectServed(ctx.check, obs, 'FCGI-5.3-output-streams', 'a request told to write to stderr')) return;
    skipWhenProbeCannot(ctx, obs, 'write FCGI_STDERR');
    // §5.3: "FCGI_STDOUT and FCGI_STDERR are stream record types for sending arbitrary data and error data
    // respectively from the application to the Web server."
    // The probe's text must be there; an application may write more error text of its own (and PHP decorates it).
    const text = utf8(STDERR_TEXT);
    ctx.check.that(
      Buffer.from(obs.stderr).includes(Buffer.from(text)),
      'FCGI-5.3-output-streams',
      `FCGI_STDERR carrying ${preview(text)}`,
      `FCGI_STDERR ${formatSize(obs.stderr.length)}: ${preview(obs.stderr)}`,
    );
    const inStdout = Buffer.from(obs.stdout).includes(Buffer.from(text));
    ctx.check.that(!inStdout, 'FCGI-5.3-output-streams', 'the error text on FCGI_STDERR only, not on FCGI_STDOUT', 'the text also appears in FCGI_STDOUT');
    // STDERR may interleave with STDOUT anywhere (§6.1); the stream ends with its empty record (checked here).
    checkResponseFraming(ctx.check, obs);
    ctx.check.observe('STDERR records', obs.records.filter((r) => r.type === FCGI_STDERR).length);
  },
});

function bulk(size: number, id: `output.${string}`): Scenario {
  return defineScenario({
    id,
    title: `sends a ${formatSize(size)} body whole, in well-formed records`,
    group: 'output',
    requirements: ['FCGI-5.3-output-streams', 'FCGI-6.1-stdout-sent', 'FCGI-3.3-align-8', 'FCGI-3.3-no-records-after-end'],
    needs: { probe: true },
    timeoutMs: 20_000 + (size / (1024 * 1024)) * 2000,
    async run(ctx) {
      const keep = ctx.profile.keepConn;
      const conn = await ctx.connect();
      const { obs } = await sendAndRead(conn, { requestId: 1, flags: keep ? FCGI_KEEP_CONN : 0, params: probe.bulk(size) }, { timeoutMs: ctx.timeouts.scale(20_000) });
      // §3.3: the contentData of a stream's records, concatenated, "form a byte sequence; this byte sequence is the
      // value of the stream": the body reassembled from every FCGI_STDOUT record.
      expectProbeBody(ctx.check, obs, probe.bulkBytes(size), 'FCGI-5.3-output-streams', `a ${formatSize(size)} bulk body`);
      const summary = checkResponseFraming(ctx.check, obs);
      ctx.check.observe('STDOUT records', obs.records.filter((r) => r.type === FCGI_STDOUT).length);
      ctx.check.observe('misaligned records', summary.misaligned);
      if (obs.ending === 'end-request') await expectQuietAfterEnd(ctx, conn, 1);
    },
  });
}

const cgiStatus = defineScenario({
  id: 'output.cgi-status',
  title: 'sets the HTTP status with a CGI Status: header (probe answers 404)',
  group: 'output',
  requirements: ['FCGI-6.1-no-nph'],
  needs: { probe: true },
  async run(ctx) {
    const { obs } = await exchange(ctx, { requestId: 1, params: probe.status(404) });
    if (!expectServed(ctx.check, obs, 'FCGI-6.1-no-nph', 'a request told to answer 404')) return;
    // §6.1: "FastCGI applications set response status using the Status and Location CGI headers."
    const cgi = cgiOf(obs);
    ctx.check.that(cgi?.status === 404, 'FCGI-6.1-no-nph', 'a CGI response whose Status: header says 404', cgi ? `status ${cgi.status}` : `stdout ${preview(obs.stdout)}`);
  },
});

const EXIT = 3;

const appStatus = defineScenario({
  id: 'output.app-status',
  title: "passes the handler's exit status through as appStatus (reference probe only; others are skipped)",
  group: 'output',
  requirements: ['FCGI-6.2-app-status-exit'],
  needs: { probe: true },
  async run(ctx) {
    const { obs } = await exchange(ctx, { requestId: 1, params: [...probe.echoStdin(), ...probe.exit(EXIT)] });
    if (!expectServed(ctx.check, obs, 'FCGI-6.2-app-status-exit', `a request whose handler exits with ${EXIT}`)) return;
    const got = obs.end?.appStatus;
    ctx.check.observe('appStatus', got ?? -1);
    // §6.2: "the appStatus component to the status code that the CGI program would have returned via the exit
    // system call." Only the reference probe can be told its exit status; a 0 here may be the probe, not the library.
    // appStatus 0: the probe cannot set it (PHP); anything else must be the status asked for.
    if (got === 0) ctx.skip(`appStatus 0: this probe does not pass ${probe.names.exit} through (only the reference probe does)`);
    ctx.check.that(got === EXIT, 'FCGI-6.2-app-status-exit', `{FCGI_END_REQUEST, 1, {${EXIT}, FCGI_REQUEST_COMPLETE}}`, `appStatus ${got}`);
  },
});

const errorExample = defineScenario({
  id: 'output.error-example',
  title: "answers like Appendix B example 3: page on STDOUT, message on STDERR, both streams ended, appStatus 938",
  group: 'output',
  requirements: ['FCGI-B-error-response-app', 'FCGI-5.3-output-streams', 'FCGI-X-stderr-terminated'],
  needs: { probe: true },
  async run(ctx) {
    const { obs } = await exchange(ctx, { requestId: 1, params: [...probe.stderr(STDERR_TEXT), ...probe.exit(938)] });
    // Appendix B example 3: {FCGI_STDOUT, 1, …} {FCGI_STDERR, 1, "config error: missing SI_UID\n"} {FCGI_STDOUT, 1, …}
    // {FCGI_STDOUT, 1, ""} {FCGI_STDERR, 1, ""} {FCGI_END_REQUEST, 1, {938, FCGI_REQUEST_COMPLETE}}
    if (!expectServed(ctx.check, obs, 'FCGI-B-error-response-app', 'a request whose handler reports an error')) return;
    skipWhenProbeCannot(ctx, obs, 'write FCGI_STDERR');
    ctx.check.that(obs.stdout.length > 0 && obs.stderr.length > 0, 'FCGI-B-error-response-app', 'data on both FCGI_STDOUT and FCGI_STDERR', describeObservation(obs));
    checkResponseFraming(ctx.check, obs);
    ctx.check.observe('appStatus', obs.end?.appStatus ?? -1);
    // The example's non-zero appStatus needs a probe that can be told its exit status (the reference probe); with
    // another, that part cannot be checked, so the scenario skips (findings above still count).
    if (obs.end?.protocolStatus !== FCGI_REQUEST_COMPLETE) return;
    if (obs.end.appStatus === 0) ctx.skip(`appStatus 0: this probe does not pass ${probe.names.exit} through (only the reference probe does)`);
    ctx.check.that(obs.end.appStatus === 938, 'FCGI-B-error-response-app', 'appStatus 938, the handler\'s exit status', `appStatus ${obs.end.appStatus}`);
  },
});

export const probeOutputScenarios: readonly Scenario[] = [
  stderr,
  bulk(1024 * 1024, 'output.bulk-1mib'),
  bulk(10 * 1024 * 1024, 'output.bulk-10mib'),
  cgiStatus,
  appStatus,
  errorExample,
];
