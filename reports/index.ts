/**
 * The report writers, registered in one map so the CLI's format choices and the types cannot drift:
 * `Object.keys(writers)` gives the choices, `ReportFormat` the type.
 */
import type { ReportWriter } from './model.ts';
import { writeJson } from './json.ts';
import { writeJunit } from './junit.ts';
import { writeHtml } from './html.ts';
import { writeMarkdown } from './markdown.ts';

export const writers = { json: writeJson, junit: writeJunit, html: writeHtml, markdown: writeMarkdown } as const satisfies Record<string, ReportWriter>;

export type ReportFormat = keyof typeof writers;

/** The usual file extension of each format. */
export const reportExtensions: Readonly<Record<ReportFormat, string>> = { json: '.json', junit: '.xml', html: '.html', markdown: '.md' };

export { buildReport, summarize, type Catalog, type ReportInput } from './summarize.ts';
export { buildTranscript, defaultTranscriptCaps, type ConnectionTranscript, type TranscriptCaps } from './transcript.ts';
export { parseReport, validateReport } from './schema.ts';
export { compareReports, type Comparison } from './compare.ts';
export { mergeShards, groupByTarget, writeMatrixHtml, writeMatrixMarkdown } from './matrix.ts';
export { applyExpectations, parseExpectations, type Expectations, type GateResult } from './expectations.ts';
