// The web-server double as a process, for `fcgispec client --exec`: `double-main.ts PORT [FAULT…]`, in front of
// the backend named by FCGISPEC_LISTEN; stops on SIGTERM.
import { startDouble, type DoubleFault } from '../double.ts';

const [port, ...faults] = process.argv.slice(2);
const backend = process.env['FCGISPEC_LISTEN'];
if (!backend || !port) {
  process.stderr.write('usage: FCGISPEC_LISTEN=ADDR double-main.ts PORT [FAULT…]\n');
  process.exitCode = 2;
} else {
  const running = await startDouble({ backend, port: Number(port), faults: faults as DoubleFault[] });
  process.stdout.write(`double listening on ${running.url}\n`);
  process.once('SIGTERM', () => void running.close());
}
