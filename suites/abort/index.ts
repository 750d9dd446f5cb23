import type { Scenario } from '../define.ts';
import { phaseScenarios } from './phases.scenario.ts';
import { idScenarios } from './ids.scenario.ts';

/** Scenarios of the `abort` group, in the order they run. */
export const scenarios: readonly Scenario[] = [...phaseScenarios, ...idScenarios];
