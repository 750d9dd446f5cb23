/**
 * A fixed-rate schedule for open-loop load (`--rate R`): the k-th request is due at `start + k / R`, whoever
 * sends it and however late the previous ones were. Latency is then measured from the due time, not from
 * when a busy sender got round to it, so a target that stalls cannot hide its stall by slowing the load down
 * (the "coordinated omission" that closed-loop tools suffer from).
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Hands out due times at a fixed rate. */
export class RateSchedule {
  readonly #intervalMs: number;
  #start: number;
  #issued = 0;

  /** `perSecond` > 0; `start` is a `performance.now()` value (default: now). */
  constructor(perSecond: number, start = performance.now()) {
    if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new RangeError(`rate must be a positive number, got ${perSecond}`);
    this.#intervalMs = 1000 / perSecond;
    this.#start = start;
  }

  /** Due times handed out so far. */
  get issued(): number {
    return this.#issued;
  }

  /** Starts the schedule over at `start` (after a warm-up, say). */
  restart(start = performance.now()): void {
    this.#start = start;
    this.#issued = 0;
  }

  /** The due time of the next request (a `performance.now()` value); may be in the past when the load is behind. */
  next(): number {
    return this.#start + this.#issued++ * this.#intervalMs;
  }

  /** Takes the next due time and waits for it; resolves with the due time. A timer firing late counts as latency, as any lateness does. */
  async take(): Promise<number> {
    const due = this.next();
    const wait = due - performance.now();
    if (wait >= 1) await sleep(wait);
    return due;
  }
}
