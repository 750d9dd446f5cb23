import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { fuzzCommand, replayCommand } from '../../../harness/commands/fuzz.ts';
import { HarnessError } from '../../../harness/errors.ts';
try {
  await yargs(hideBin(process.argv)).command(fuzzCommand as any).command(replayCommand as any).strict().fail((m, e) => { throw e ?? new Error(m); }).parseAsync();
} catch (e) { console.error('ERR', e instanceof HarnessError ? `${e.code} ${e.message}` : e); process.exitCode = 2; }
