import type { Scenario } from '../define.ts';
import { paddingScenarios } from './padding.scenario.ts';
import { maxRecordScenarios } from './max-record.scenario.ts';
import { segmentationScenarios } from './segmentation.scenario.ts';
import { headerFieldScenarios } from './header-fields.scenario.ts';
import { captureScenarios } from './capture.scenario.ts';

/** Scenarios of the `record-layer` group, in the order they run. */
export const scenarios: readonly Scenario[] = [
  ...paddingScenarios,
  ...maxRecordScenarios,
  ...segmentationScenarios,
  ...headerFieldScenarios,
  ...captureScenarios,
];
