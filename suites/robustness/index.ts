import type { Scenario } from '../define.ts';
import { garbageScenarios } from './garbage.scenario.ts';
import { stallScenarios } from './stall.scenario.ts';
import { lengthScenarios } from './lengths.scenario.ts';
import { loadScenarios } from './load.scenario.ts';

/** Scenarios of the `robustness` group, in the order they run. Every one is hostile: the runner checks liveness after it. */
export const scenarios: readonly Scenario[] = [...garbageScenarios, ...stallScenarios, ...lengthScenarios, ...loadScenarios];
