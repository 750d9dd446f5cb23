import type { Scenario } from '../define.ts';

/** Scenarios of the `management` group, in the order they run. */
export const scenarios: readonly Scenario[] = [];
