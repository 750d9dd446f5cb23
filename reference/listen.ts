/** Listening helpers shared by the reference responder and the harness's web-server backend. */
import { lstat, unlink } from 'node:fs/promises';
import { connect, type Server } from 'node:net';

/** `server.listen` as a promise: rejects with the listen error instead of emitting it. */
export function listenOn(server: Server, options: { host: string; port: number } | { fd: number } | { path: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(options, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Listens on a Unix socket path; a socket file left by a process that died is removed, one with a live listener is not. */
export async function listenUnix(server: Server, path: string): Promise<void> {
  try {
    await listenOn(server, { path });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !(await isStaleSocket(path))) throw err;
    await unlink(path);
    await listenOn(server, { path });
  }
}

async function isStaleSocket(path: string): Promise<boolean> {
  const st = await lstat(path).catch(() => undefined);
  if (!st?.isSocket()) return false;
  return new Promise((resolve) => {
    const probe = connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(false);
    });
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}
