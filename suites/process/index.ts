import type { Scenario } from '../define.ts';
import { fd0Scenarios } from './fd0.scenario.ts';
import { webServerAddrsScenarios } from './web-server-addrs.scenario.ts';
import { exitScenarios } from './exit.scenario.ts';

/** Scenarios of the `process` group, in the order they run; each needs a target the harness spawns (`--spawn`). */
export const scenarios: readonly Scenario[] = [...fd0Scenarios, ...webServerAddrsScenarios, ...exitScenarios];
