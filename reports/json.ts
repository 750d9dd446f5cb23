/** The JSON writer: the model as it is, validated by `report.schema.json`. */
import type { ReportWriter } from './model.ts';

/** Pretty-printed JSON of the report, with a final newline. */
export const writeJson: ReportWriter = (report) => `${JSON.stringify(report, null, 2)}\n`;
