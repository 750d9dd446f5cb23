/**
 * `npm run interop`: the interop run from the command line.
 *   --only NAME (repeatable)   run these targets only (the matrix still shows every stored report)
 *   --out DIR                  reports and matrix folder (default reports/interop/, whose matrix the README shows:
 *                              its group tables are copied into README.md; not with --out)
 *   --update-expectations      rewrite each target's expectation file from this run, keeping the reasons
 *   --verbose                  print each scenario's progress
 * Exit code 0 when every gate passed, 1 otherwise, 2 on bad usage.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { HarnessError, exitCodes } from '../errors.ts';
import { interopNames } from './targets.ts';
import { defaultReadme, runInterop } from './run.ts';

async function main(argv: readonly string[]): Promise<void> {
  const args = await yargs(argv as string[])
    .scriptName('npm run interop --')
    .usage('$0 [--only NAME]… [--out DIR] [--update-expectations]')
    .option('only', { type: 'string', array: true, describe: `targets to run: ${interopNames.join(', ')}` })
    .option('out', { type: 'string', describe: 'folder of the JSON reports and the matrix (default reports/interop/)' })
    .option('update-expectations', { type: 'boolean', describe: 'rewrite the expectation files from this run' })
    .option('verbose', { type: 'boolean', describe: "print each scenario's progress" })
    .strict()
    .help()
    .parseAsync();
  const result = await runInterop({
    ...(args.only ? { only: args.only.map(String) } : {}),
    // The README shows the matrix of reports/interop/: only a run that writes there updates it.
    ...(args.out !== undefined ? { out: args.out } : { readme: defaultReadme }),
    ...(args['update-expectations'] ? { updateExpectations: true } : {}),
    ...(args.verbose ? { verbose: true } : {}),
  });
  process.exitCode = result.passed ? exitCodes.ok : exitCodes.findings;
}

try {
  await main(hideBin(process.argv));
} catch (err) {
  process.stderr.write(`interop: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = err instanceof HarnessError && err.code === 'E_USAGE' ? exitCodes.usage : exitCodes.findings;
}
