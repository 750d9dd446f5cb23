/**
 * The report's JSON Schema (`report.schema.json`, draft 2020-12) and the checks that read a report back from JSON.
 */
import { readFileSync } from 'node:fs';
import { REPORT_SCHEMA_VERSION, type ComplianceReport } from './model.ts';
import { formatSchemaErrors, validate, type JsonSchema, type SchemaError } from './json-schema.ts';

let cached: JsonSchema | undefined;

/** The report schema, read once from `report.schema.json` beside this file. */
export function reportSchema(): JsonSchema {
  cached ??= JSON.parse(readFileSync(new URL('./report.schema.json', import.meta.url), 'utf8')) as JsonSchema;
  return cached;
}

/** Validates a value against the report schema; empty when it is a valid report. */
export function validateReport(value: unknown): SchemaError[] {
  return validate(reportSchema(), value);
}

/** A report read back from JSON, or why it is not one (one line). */
export type ParsedReport = { readonly ok: true; readonly report: ComplianceReport } | { readonly ok: false; readonly message: string };

/** Parses and validates report JSON. Never throws. */
export function parseReport(text: string): ParsedReport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, message: `not JSON: ${(err as Error).message.split('\n')[0]}` };
  }
  const version = typeof value === 'object' && value !== null ? (value as { schemaVersion?: unknown }).schemaVersion : undefined;
  if (version !== undefined && version !== REPORT_SCHEMA_VERSION) {
    return { ok: false, message: `report schemaVersion ${JSON.stringify(version)} is not supported (this fcgispec reads ${REPORT_SCHEMA_VERSION})` };
  }
  const errors = validateReport(value);
  if (errors.length > 0) return { ok: false, message: `not a fcgispec report: ${formatSchemaErrors(errors)}` };
  return { ok: true, report: value as ComplianceReport };
}
