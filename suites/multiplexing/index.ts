import type { Scenario } from '../define.ts';
import { claimScenarios } from './claim.scenario.ts';
import { concurrentScenarios } from './concurrent.scenario.ts';

/** Scenarios of the `multiplexing` group, in the order they run. */
export const scenarios: readonly Scenario[] = [...claimScenarios, ...concurrentScenarios];
