#!/usr/bin/env node
// The published entry point: the sources are TypeScript, loaded through tsx's runtime loader, so the package
// needs no build step and works the same from a checkout and from the packed tarball.
import { register } from 'tsx/esm/api';
import { hideBin } from 'yargs/helpers';

register();
const { main } = await import('../cli.ts');
await main(hideBin(process.argv));
