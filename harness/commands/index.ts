/**
 * Every command of the CLI, in the order `--help` lists them.
 * Each module is a yargs `CommandModule` whose handler throws `HarnessError` for usage problems.
 */
import type { CommandModule } from 'yargs';

// Commands are added here as they are built: request, serve, app, client, fuzz, replay, bench, report, peers.
export const commands: readonly CommandModule<object, never>[] = [];
