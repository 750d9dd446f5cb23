/**
 * Regression scenarios: every fuzzer replay file (`*.replay.json`) in this folder, loaded by name. Adding a
 * file adds a scenario; no code changes.
 */
import { fileURLToPath } from 'node:url';
import type { Scenario } from '../define.ts';
import { loadRegressionScenarios } from '../fuzz/regressions.ts';

export const regressionScenarios: readonly Scenario[] = loadRegressionScenarios(fileURLToPath(new URL('.', import.meta.url)));
