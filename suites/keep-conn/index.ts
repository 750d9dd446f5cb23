import type { Scenario } from '../define.ts';
import { sequentialScenarios } from './sequential.scenario.ts';
import { closeScenarios } from './close.scenario.ts';
import { betweenScenarios } from './between.scenario.ts';

/** Scenarios of the `keep-conn` group, in the order they run. */
export const scenarios: readonly Scenario[] = [...closeScenarios, ...sequentialScenarios, ...betweenScenarios];
