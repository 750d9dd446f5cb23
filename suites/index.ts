/**
 * Every application scenario, listed explicitly (no globbing), grouped as the spec's chapters are.
 * Each group's own `index.ts` lists its scenarios in order; the regression replays are loaded from their folder.
 */
import type { Scenario } from './define.ts';
import { scenarios as recordLayer } from './record-layer/index.ts';
import { scenarios as management } from './management/index.ts';
import { scenarios as beginRequest } from './begin-request/index.ts';
import { scenarios as params } from './params/index.ts';
import { scenarios as oversizedParams } from './oversized-params/index.ts';
import { scenarios as stdin } from './stdin/index.ts';
import { scenarios as output } from './output/index.ts';
import { scenarios as keepConn } from './keep-conn/index.ts';
import { scenarios as multiplexing } from './multiplexing/index.ts';
import { scenarios as abort } from './abort/index.ts';
import { scenarios as requestIds } from './request-ids/index.ts';
import { scenarios as robustness } from './robustness/index.ts';
import { scenarios as limits } from './limits/index.ts';
import { scenarios as processGroup } from './process/index.ts';
import { regressionScenarios } from './regressions/index.ts';

export const appScenarios: readonly Scenario[] = [
  ...recordLayer,
  ...management,
  ...beginRequest,
  ...params,
  ...oversizedParams,
  ...stdin,
  ...output,
  ...keepConn,
  ...multiplexing,
  ...abort,
  ...requestIds,
  ...robustness,
  // The fuzzer's replays of real deviations (`regressions/*.replay.json`), one scenario per file.
  ...regressionScenarios,
  ...limits,
  ...processGroup,
];
