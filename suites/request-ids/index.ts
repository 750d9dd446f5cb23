import type { Scenario } from '../define.ts';
import { idScenarios } from './ids.scenario.ts';
import { inactiveScenarios } from './inactive.scenario.ts';
import { misuseScenarios } from './misuse.scenario.ts';
import { undefinedTypeScenarios } from './undefined-types.scenario.ts';

/** Scenarios of the `request-ids` group, in the order they run. */
export const scenarios: readonly Scenario[] = [...idScenarios, ...inactiveScenarios, ...misuseScenarios, ...undefinedTypeScenarios];
