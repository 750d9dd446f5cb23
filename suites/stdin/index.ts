import type { Scenario } from '../define.ts';
import { bodyScenarios } from './body.scenario.ts';
import { misorderedScenarios } from './misordered.scenario.ts';
import { filterDataScenarios } from './filter-data.scenario.ts';
import { authorizerScenarios } from './authorizer.scenario.ts';

/** Scenarios of the `stdin` group, in the order they run. */
export const scenarios: readonly Scenario[] = [...bodyScenarios, ...misorderedScenarios, ...filterDataScenarios, ...authorizerScenarios];
