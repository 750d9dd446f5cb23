import type { Scenario } from '../define.ts';

/** Scenarios of the `request-ids` group, in the order they run. */
export const scenarios: readonly Scenario[] = [];
