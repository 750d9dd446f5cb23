// `tsx peers-start.ts peers start NAME [STATE_DIR]`: runs `peers start` as the CLI would (the words
// `peers start` in its command line are what `peers stop` looks for), with a state folder of the test's own.
import { runPeersStart } from '../../commands/peers.ts';

const [, , , name, stateDir] = process.argv.slice(1);
process.exitCode = await runPeersStart({ name: name ?? '' }, { stdout: (t) => process.stdout.write(t), ...(stateDir ? { stateDir } : {}) });
