/** A sleep that an AbortSignal cuts short: it resolves at once when the signal aborts, and never rejects. */
import { setTimeout as delay } from 'node:timers/promises';

/** Resolves after `ms`, or as soon as `signal` aborts (a watchdog, a closed connection). */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return delay(ms, undefined, { signal }).catch(() => undefined);
}
