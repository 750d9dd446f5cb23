/**
 * Application-level errors as §7 describes their report: the error text on FCGI_STDERR and a non-zero
 * appStatus in FCGI_END_REQUEST, often with an error page on FCGI_STDOUT. The probe is told to fail; the
 * library must carry what it reports to the wire. @see §7, Appendix B example 3
 */
import { FCGI_REQUEST_COMPLETE } from '../../spec/constants.ts';
import { defineScenario, type Scenario } from '../define.ts';
import { cgiOf, exchange, expectServed, formatSize, preview, probe, utf8 } from '../kit.ts';

const ERROR_TEXT = 'fcgispec: application error: cannot open the database\n';
const APP_STATUS = 1;

const appErrorReported = defineScenario({
  id: 'output.app-error-reported',
  title: 'reports an application error on FCGI_STDERR with a non-zero appStatus; an error page on FCGI_STDOUT is recorded',
  group: 'output',
  requirements: ['FCGI-7-app-errors-reported'],
  needs: { probe: true },
  async run(ctx) {
    // §7: "FastCGI applications report application-level errors with the FCGI_STDERR stream and the appStatus
    // component of the FCGI_END_REQUEST record. In many cases an error will be reported directly to the user via
    // the FCGI_STDOUT stream."
    const failing = await exchange(ctx, { requestId: 1, params: [...probe.stderr(ERROR_TEXT), ...probe.exit(APP_STATUS)] });
    failing.conn.close();
    const obs = failing.obs;
    if (!expectServed(ctx.check, obs, 'FCGI-7-app-errors-reported', 'a request whose handler reports an error')) return;
    // A probe answers 501 `not implemented` where its implementation cannot write FCGI_STDERR (Go's
    // net/http/fcgi, WSGI): nothing to judge about the protocol then.
    const refused = cgiOf(obs);
    if (refused?.status === 501 && Buffer.from(refused.body).toString('latin1') === 'not implemented\n') {
      ctx.skip('the probe app cannot write FCGI_STDERR on this implementation (it answered 501 not implemented)');
    }
    const text = utf8(ERROR_TEXT);
    ctx.check.that(
      Buffer.from(obs.stderr).includes(Buffer.from(text)),
      'FCGI-7-app-errors-reported',
      `the error text ${preview(text)} on FCGI_STDERR`,
      `FCGI_STDERR ${formatSize(obs.stderr.length)}: ${preview(obs.stderr)}`,
    );
    const page = await exchange(ctx, { requestId: 1, params: [...probe.status(500), ...probe.exit(APP_STATUS)] });
    page.conn.close();
    const cgi = cgiOf(page.obs);
    ctx.check.observe('error page on FCGI_STDOUT', cgi ? `status ${cgi.status}, ${formatSize(cgi.body.length)} body` : `no CGI response: ${preview(page.obs.stdout)}`);
    // Only the reference probe can be told its exit status (PHP always ends with 0): with appStatus 0 that part
    // cannot be told apart from a probe without the capability, so the scenario skips (findings above count).
    const statuses = [obs, page.obs].map((o) => (o.end?.protocolStatus === FCGI_REQUEST_COMPLETE ? o.end.appStatus : undefined));
    ctx.check.observe('appStatus of the failing requests', statuses.map((s) => s ?? '-').join(', '));
    if (statuses.every((s) => s === 0)) ctx.skip(`appStatus 0: this probe does not pass ${probe.names.exit} through (only the reference probe does)`);
    ctx.check.that(
      statuses.every((s) => s === undefined || s === APP_STATUS),
      'FCGI-7-app-errors-reported',
      `appStatus ${APP_STATUS}, the status the failing handler ended with`,
      `appStatus ${statuses.map((s) => s ?? '-').join(' and ')}`,
    );
  },
});

export const appErrorScenarios: readonly Scenario[] = [appErrorReported];
