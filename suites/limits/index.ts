import type { Scenario } from '../define.ts';
import { claimScenarios } from './claims.scenario.ts';
import { enduranceScenarios } from './endurance.scenario.ts';
import { concurrencyScenarios } from './concurrency.scenario.ts';

/** Scenarios of the `limits` group, in the order they run. */
export const scenarios: readonly Scenario[] = [...claimScenarios, ...enduranceScenarios, ...concurrencyScenarios];
