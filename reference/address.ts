/**
 * Transport addresses as users write them: `tcp:HOST:PORT`, `HOST:PORT`, `unix:PATH`, and (for listeners)
 * `fd:0`, the inherited listening socket FCGI_LISTENSOCK_FILENO. @see §2.2
 */
import { connect, type Socket } from 'node:net';

export type Address =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'fd'; readonly fd: number };

/** Thrown for an address that cannot be parsed; its message is one line meant for users. */
export class AddressError extends Error {
  override readonly name = 'AddressError';
}

/** Parses an address. Throws `AddressError` with a one-line message for anything else. */
export function parseAddress(text: string): Address {
  if (text.startsWith('unix:')) {
    const path = text.slice(5);
    if (!path) throw new AddressError(`address "${text}": unix: needs a path`);
    return { kind: 'unix', path };
  }
  if (text.startsWith('fd:')) {
    const fd = Number(text.slice(3));
    if (!Number.isInteger(fd) || fd < 0) throw new AddressError(`address "${text}": fd: needs a descriptor number`);
    return { kind: 'fd', fd };
  }
  const rest = text.startsWith('tcp:') ? text.slice(4) : text;
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(rest);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new AddressError(`address "${text}": expected tcp:HOST:PORT, HOST:PORT or unix:PATH`);
  }
  return { kind: 'tcp', host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/** The address written back in the canonical form. */
export function formatAddress(address: Address): string {
  switch (address.kind) {
    case 'tcp':
      return `tcp:${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
    case 'unix':
      return `unix:${address.path}`;
    case 'fd':
      return `fd:${address.fd}`;
  }
}

/** Opens a stream connection to a TCP or Unix address; rejects on failure or after `timeoutMs`. */
export function connectTo(address: Address, timeoutMs = 10_000): Promise<Socket> {
  if (address.kind === 'fd') return Promise.reject(new AddressError(`cannot connect to ${formatAddress(address)}`));
  return new Promise((resolve, reject) => {
    const socket = address.kind === 'tcp' ? connect({ host: address.host, port: address.port }) : connect({ path: address.path });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to ${formatAddress(address)} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setNoDelay?.(true);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
