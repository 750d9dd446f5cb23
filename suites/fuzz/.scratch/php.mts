import { startPhpFpm } from '../../../harness/peers/php-fpm.ts';
import { fuzz } from '../../../harness/commands/fuzz.ts';
const time = process.argv[2] ?? '2m';
const out = process.argv[3] ?? '/tmp/fz/php';
const seed = Number(process.argv[4] ?? 20240612);
const extra = process.argv.slice(5);
const php = await startPhpFpm({ listen: 'unix' });
console.log('php-fpm at', php.address, php.params);
try {
  const run = await fuzz({ target: php.address, probe: true, name: 'php-fpm', params: Object.entries(php.params).map(([k, v]) => `${k}=${v}`), time, seed, out, ...(extra.includes('small') ? { maxStdin: 4096 } : {}) }, { stdout: process.stdout });
  console.log('exit', run.exitCode, 'cases', run.cases, 'rate', run.casesPerSecond);
} finally {
  await php.stop();
}
