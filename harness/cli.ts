/**
 * The `fcgispec` command line. Each command lives in `harness/commands/<name>.ts` and is listed here, so
 * `--help` and the code cannot drift. Errors: a `HarnessError` or a yargs usage error prints one line on
 * stderr and sets the exit code (2 usage, 3 unreachable); nothing prints a stack unless `FCGISPEC_DEBUG` is set.
 */
import yargs, { type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { HarnessError, exitCodes, usageError } from './errors.ts';
import { commands } from './commands/index.ts';

export async function main(argv: readonly string[]): Promise<void> {
  const cli = yargs(argv as string[])
    .scriptName('fcgispec')
    .usage('$0 <command> [options]\n\nConformance test suite and reference peer for FastCGI 1.0.')
    .strict()
    .demandCommand(1, 'name a command; see --help')
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .fail((msg, err) => {
      // Throwing stops yargs from running the handler after a failed validation; reportError prints one line.
      throw err ?? usageError(msg ?? 'bad usage');
    })
    .help()
    .version();
  for (const command of commands) cli.command(command as CommandModule);
  try {
    await cli.parseAsync();
  } catch (err) {
    reportError(err);
  }
}

function reportError(err: unknown): void {
  if (err instanceof HarnessError) {
    process.stderr.write(`fcgispec: ${err.message}\n`);
    process.exitCode = err.code === 'E_USAGE' ? exitCodes.usage : err.code === 'E_CONNECT' ? exitCodes.unreachable : exitCodes.findings;
  } else {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`fcgispec: internal error: ${message.split('\n')[0]}\n`);
    if (process.env['FCGISPEC_DEBUG'] && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exitCode = exitCodes.findings;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/harness/cli.ts')) {
  await main(hideBin(process.argv));
}
