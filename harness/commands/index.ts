/**
 * Every command of the CLI, in the order `--help` lists them.
 * Each module is a yargs `CommandModule` whose handler throws `HarnessError` for usage problems.
 */
import type { CommandModule } from 'yargs';
import { appCommand } from './app.ts';
import { benchCommand } from './bench.ts';
import { clientCommand } from './client.ts';
import { fuzzCommand, replayCommand } from './fuzz.ts';
import { peersCommand } from './peers.ts';
import { reportCommand } from './report.ts';
import { requestCommand } from './request.ts';
import { serveCommand } from './serve.ts';

// Each command has its own argument type and yargs' CommandModule is invariant in it, so the list erases it.
type ErasedCommand = CommandModule<object, object>;
const erase = (command: object): ErasedCommand => command as ErasedCommand;

export const commands: readonly ErasedCommand[] = [
  appCommand,
  clientCommand,
  fuzzCommand,
  replayCommand,
  benchCommand,
  requestCommand,
  serveCommand,
  reportCommand,
  peersCommand,
].map(erase);
