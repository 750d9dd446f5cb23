import type { Scenario } from '../define.ts';
import { sizeScenarios } from './size.scenario.ts';

/** Scenarios of the `oversized-params` group, in the order they run. */
export const scenarios: readonly Scenario[] = [...sizeScenarios];
