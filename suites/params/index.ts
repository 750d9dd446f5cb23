import type { Scenario } from '../define.ts';
import { pairScenarios } from './pairs.scenario.ts';
import { lengthScenarios } from './lengths.scenario.ts';
import { splitScenarios } from './split.scenario.ts';

/** Scenarios of the `params` group, in the order they run. */
export const scenarios: readonly Scenario[] = [...pairScenarios, ...lengthScenarios, ...splitScenarios];
