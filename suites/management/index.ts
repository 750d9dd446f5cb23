import type { Scenario } from '../define.ts';
import { getValuesScenarios } from './get-values.scenario.ts';
import { unknownTypeScenarios } from './unknown-type.scenario.ts';
import { interleavedScenarios } from './interleaved.scenario.ts';

/** Scenarios of the `management` group, in the order they run. */
export const scenarios: readonly Scenario[] = [...getValuesScenarios, ...unknownTypeScenarios, ...interleavedScenarios];
