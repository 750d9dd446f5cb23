import type { Scenario } from '../define.ts';
import { framingScenarios } from './framing.scenario.ts';
import { cgiScenarios } from './cgi.scenario.ts';
import { probeOutputScenarios } from './probe-output.scenario.ts';
import { inputOrderScenarios } from './input-order.scenario.ts';
import { appErrorScenarios } from './app-errors.scenario.ts';

/** Scenarios of the `output` group, in the order they run. */
export const scenarios: readonly Scenario[] = [
  ...framingScenarios,
  ...cgiScenarios,
  ...probeOutputScenarios,
  ...inputOrderScenarios,
  ...appErrorScenarios,
];
