import type { Scenario } from '../define.ts';
import { roleScenarios } from './roles.scenario.ts';
import { beginBodyScenarios } from './body.scenario.ts';

/** Scenarios of the `begin-request` group, in the order they run. */
export const scenarios: readonly Scenario[] = [...roleScenarios, ...beginBodyScenarios];
