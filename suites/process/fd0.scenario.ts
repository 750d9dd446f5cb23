/**
 * The listening socket at file descriptor 0: a spawned application accepts its connections there, whether
 * the socket is AF_UNIX or AF_INET, and can tell that it runs under FastCGI rather than CGI.
 * @see §2.2 FCGI_LISTENSOCK_FILENO, §3.2
 */
import { defineScenario, type Scenario } from '../define.ts';
import { describeObservation, exchange, parseCgi, preview, servedProblem, toBytes } from '../kit.ts';
import { describeExit, launchAndAsk, PROCESS_SCENARIO_MS, spawnOf, STARTUP_MS } from './launch.ts';

const CONNECTIONS = 3;

const acceptOnFd0 = defineScenario({
  id: 'process.accept-on-fd0',
  title: 'accepts connection after connection on the listening socket it was given as fd 0',
  group: 'process',
  requirements: ['FCGI-3.2-accept-on-fd0'],
  needs: { spawn: true },
  timeoutMs: PROCESS_SCENARIO_MS,
  async run(ctx) {
    spawnOf(ctx);
    // §3.2: "A FastCGI application calls accept() on the socket referred to by file descriptor
    // FCGI_LISTENSOCK_FILENO to accept a new transport connection." The target was spawned with nothing but
    // that socket to listen on, so every connection served below was accepted there.
    const problems: string[] = [];
    for (let i = 0; i < CONNECTIONS; i++) {
      // The first may meet a process the harness has just restarted: it has the time of a start.
      const { conn, obs } = await exchange(ctx, { requestId: 1 }, { timeoutMs: i === 0 ? ctx.timeouts.scale(STARTUP_MS) : ctx.timeouts.replyMs });
      conn.close();
      const problem = servedProblem(obs);
      if (problem) problems.push(`connection ${i + 1}: ${problem}`);
    }
    ctx.check.that(
      problems.length === 0,
      'FCGI-3.2-accept-on-fd0',
      `${CONNECTIONS} connections to the fd 0 socket, one after another, each served`,
      problems.join('; '),
    );
  },
});

const eitherTransport = defineScenario({
  id: 'process.either-transport',
  title: 'serves on fd 0 whether it is an AF_UNIX or an AF_INET listening socket (two fresh instances)',
  group: 'process',
  requirements: ['FCGI-2.2-either-transport', 'FCGI-3.2-accept-on-fd0'],
  needs: { spawn: true },
  timeoutMs: PROCESS_SCENARIO_MS,
  async run(ctx) {
    // §2.2: "The Web server's choice of reliable transport, Unix stream pipes (AF_UNIX) or TCP/IP (AF_INET), is
    // implicit in the internal state of the FCGI_LISTENSOCK_FILENO socket." Without FCGI_WEB_SERVER_ADDRS, which
    // would refuse AF_UNIX peers (§3.2).
    const runs = await Promise.all(
      (['unix', 'tcp'] as const).map(async (transport) => ({ transport, ...(await launchAndAsk(ctx, { transport, env: { FCGI_WEB_SERVER_ADDRS: null } })) })),
    );
    for (const { transport, answer } of runs) {
      const family = transport === 'unix' ? 'AF_UNIX' : 'AF_INET';
      const problem = answer.kind === 'answered' ? servedProblem(answer.obs) : answer.reason;
      ctx.check.that(problem === undefined, 'FCGI-2.2-either-transport', `a request served over an ${family} listening socket at fd 0`, problem ?? '');
      ctx.check.observe(`${family} first request`, answer.kind === 'answered' ? describeObservation(answer.obs) : answer.reason);
    }
  },
});

/** A CGI/1.1 environment for one GET request (RFC 3875 §4.1), with the target's base params on top. */
function cgiEnvironment(baseParams: Readonly<Record<string, string>>): Record<string, string> {
  return {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: 'HTTP/1.1',
    SERVER_SOFTWARE: 'fcgispec',
    SERVER_NAME: 'localhost',
    SERVER_PORT: '80',
    REQUEST_METHOD: 'GET',
    QUERY_STRING: '',
    REMOTE_ADDR: '127.0.0.1',
    SCRIPT_NAME: '/',
    ...baseParams,
  };
}

const fastcgiDetection = defineScenario({
  id: 'process.cgi-detection',
  title: 'records what the application does when fd 0 is a pipe and the environment a CGI request (run as CGI, or exit)',
  group: 'process',
  requirements: ['FCGI-2.2-fastcgi-detection'],
  needs: { spawn: true },
  timeoutMs: PROCESS_SCENARIO_MS,
  async run(ctx) {
    const spawn = spawnOf(ctx);
    // §2.2: "A reliable method for an application to determine whether it was invoked using CGI or FastCGI is to
    // call getpeername(FCGI_LISTENSOCK_FILENO), which returns -1 with errno set to ENOTCONN for a FastCGI
    // application." On the listening socket the target serves FastCGI (every scenario shows it); with fd 0 a
    // pipe, getpeername fails with ENOTSOCK instead, and a dual-mode application runs as CGI. Either is allowed.
    const { conn, obs } = await exchange(ctx, { requestId: 1 });
    conn.close();
    ctx.check.observe('fd 0 a listening socket', servedProblem(obs) === undefined ? 'served FastCGI' : `not served: ${describeObservation(obs)}`);
    const run = await spawn.runPiped({ env: cgiEnvironment(ctx.baseParams), stdin: new Uint8Array(0), timeoutMs: ctx.timeouts.scale(STARTUP_MS) });
    const parsed = parseCgi(run.stdout);
    const asCgi = 'response' in parsed;
    const how = run.exit ? describeExit(run.exit) : `still running after ${run.elapsedMs} ms (killed)`;
    ctx.check.observe('fd 0 a pipe, CGI environment', asCgi ? `ran as CGI: status ${parsed.response.status}, ${how}` : `no CGI response; ${how}`);
    if (run.stdout.length > 0 && !asCgi) ctx.check.observe('fd 0 a pipe: stdout', preview(run.stdout, 80));
    const stderr = run.stderr.trim();
    if (stderr) ctx.check.observe('fd 0 a pipe: stderr', preview(toBytes(stderr.split('\n')[0] ?? ''), 120));
  },
});

export const fd0Scenarios: readonly Scenario[] = [acceptOnFd0, eitherTransport, fastcgiDetection];
