/**
 * A load run as people and the report model see it: the text `fcgispec bench` prints, the report's bench
 * section, and a whole report whose one scenario is the conformance under load, with the violations as
 * findings and their sample traffic as its transcript.
 */
import { requirements, type RequirementId } from '../../../spec/requirements.ts';
import { validationRequirements } from '../../../reference/codec/validate.ts';
import type { BenchSection, ComplianceReport, Finding, ScenarioResult, Verdict } from '../../../reports/model.ts';
import { buildReport, type Catalog } from '../../../reports/summarize.ts';
import { buildTranscript, type ConnectionTranscript } from '../../../reports/transcript.ts';
import { transcriptText } from '../../../reports/text.ts';
import type { LoadResult } from './runner.ts';
import type { ViolationSample } from './tap.ts';

/** Requirements the tap judges: the validator's application-side checks, the probe answer, FCGI_MPXS_CONNS. */
export const checkedRequirements: readonly RequirementId[] = [
  ...new Set<RequirementId>([...Object.values(validationRequirements), 'FCGI-3.3-stream-value-app', 'FCGI-4.1-mpxs-conns']),
].filter((id) => requirements[id].side !== 'web-server');

/** The id of the report's one scenario. */
export const BENCH_SCENARIO_ID = 'bench.conformance-under-load';

/** The report model's bench section of a run. */
export function benchSection(r: LoadResult): BenchSection {
  return {
    requests: r.requests,
    durationMs: r.durationMs,
    requestsPerSecond: r.requestsPerSecond,
    bytesSentPerSecond: r.bytesSentPerSecond,
    bytesReceivedPerSecond: r.bytesReceivedPerSecond,
    latencyMs: { p50: r.latencyMs.p50, p90: r.latencyMs.p90, p99: r.latencyMs.p99, 'p99.9': r.latencyMs['p99.9'], max: r.latencyMs.max },
    errors: r.errors,
    protocolStatus: r.protocolStatus,
    violations: r.violations,
  };
}

const levelVerdict: Readonly<Record<string, Verdict>> = { must: 'fail', should: 'warn', may: 'info', info: 'info' };

function verdictOf(id: RequirementId): Verdict {
  return levelVerdict[requirements[id].level] ?? 'fail';
}

/** The transcript of the samples, one "connection" per sample, each opened by a note naming its finding. */
export function samplesTranscript(samples: readonly ViolationSample[]): ComplianceReport['results'][number]['transcript'] {
  if (samples.length === 0) return undefined;
  const connections: ConnectionTranscript[] = samples.map((s) => ({
    entries: [{ dir: 'note', atMs: s.entries[0]?.atMs ?? 0, text: `sample of ${s.requirement} on connection ${s.connection}${s.requestId === undefined ? '' : `, request ${s.requestId}`}: ${s.actual}` }, ...s.entries],
  }));
  return buildTranscript(connections);
}

/** The conformance-under-load scenario of a run. */
export function benchScenario(r: LoadResult): ScenarioResult {
  const findings: Finding[] = [];
  for (const [id, n] of Object.entries(r.violations) as [RequirementId, number][]) {
    const sample = r.samples.find((s) => s.requirement === id);
    findings.push({ requirement: id, verdict: verdictOf(id), expected: sample?.expected ?? '', actual: `${n} time(s) under load${sample ? `; first: ${sample.actual}` : ''}` });
  }
  const worst = findings.reduce<Verdict>((v, f) => (f.verdict === 'fail' || v === 'fail' ? 'fail' : f.verdict === 'warn' || v === 'warn' ? 'warn' : 'info'), 'pass');
  const verdict: Verdict = !r.settings.validate ? 'skip' : findings.length === 0 ? 'pass' : worst;
  const transcript = samplesTranscript(r.samples);
  return {
    id: BENCH_SCENARIO_ID,
    title: 'every response under load is conformant FastCGI (one FCGI_END_REQUEST per request, streams terminated, ids right)',
    group: 'bench',
    requirements: [...new Set([...checkedRequirements, ...(Object.keys(r.violations) as RequirementId[])])],
    verdict,
    expected: verdict === 'skip' ? '' : 'no violation in any response',
    actual: verdict === 'skip' ? 'the conformance tap was off (--no-validate)' : findings.length === 0 ? `none in ${r.requests} measured requests` : `${r.violationCount} violation(s): ${Object.entries(r.violations).map(([k, v]) => `${k} ×${v}`).join(', ')}`,
    findings,
    observations: observations(r),
    durationMs: Math.round(r.durationMs),
    ...(transcript ? { transcript } : {}),
  };
}

function observations(r: LoadResult): Record<string, string | number | boolean> {
  const s = r.settings;
  const out: Record<string, string | number | boolean> = {
    connections: s.connections,
    perConnection: s.perConnection,
    keepConn: s.keepConn,
    engine: s.engine,
    warmupMs: s.warmupMs,
    ok: r.ok,
    'latency.meanMs': round(r.latencyMs.mean),
    'connections.opened': r.connections.opened,
    'connections.closedByApplication': r.connections.closes.peer,
    'connections.reset': r.connections.closes.reset,
    'clientCpu.microsPerRequest': r.clientCpu.microsPerRequest,
    'clientCpu.coreShare': r.clientCpu.coreShare,
  };
  if (s.requests !== undefined) out['requests'] = s.requests;
  if (s.durationMs !== undefined) out['durationMs'] = s.durationMs;
  if (s.rate !== undefined) out['rate'] = s.rate;
  if (r.late !== undefined) out['lateRequests'] = r.late;
  if (s.probe) out['probe'] = true;
  const caps = r.capabilities;
  if (caps.mpxsConns !== undefined) out[`FCGI_MPXS_CONNS`] = caps.mpxsConns ? '1' : '0';
  if (caps.maxConns !== undefined) out['FCGI_MAX_CONNS'] = caps.maxConns;
  if (caps.maxReqs !== undefined) out['FCGI_MAX_REQS'] = caps.maxReqs;
  for (const [k, v] of Object.entries(r.cgiStatus)) out[`cgiStatus.${k}`] = v;
  return out;
}

/** Tool identity of a report. */
export interface ToolInfo {
  readonly version: string;
}

/**
 * A whole report of a run: its bench section, and its conformance under load as the one scenario. The target
 * is named by its address unless `name` is given, as `fcgispec app` names it, so that `report merge` takes a
 * bench report and a suite report of the same target for shards of one report.
 */
export function benchReport(r: LoadResult, tool: ToolInfo, startedAt: Date, name = r.target): ComplianceReport {
  const catalog: Catalog = Object.fromEntries(checkedRequirements.map((id) => [id, requirements[id]]));
  return buildReport({
    tool: { name: 'fcgispec', version: tool.version, suiteVersion: tool.version },
    target: { name, address: r.target, mode: 'app', profile: { ...r.capabilities }, params: {} },
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(r.durationMs + r.settings.warmupMs),
    seed: 0,
    strict: false,
    results: [benchScenario(r)],
    catalog,
    bench: benchSection(r),
  });
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** A duration for people: `850 µs`, `12.3 ms`, `4.56 s`. */
export function formatMs(ms: number): string {
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** Bytes per second for people, in decimal units. */
export function formatRate(bytesPerSecond: number): string {
  if (bytesPerSecond >= 1e9) return `${(bytesPerSecond / 1e9).toFixed(2)} GB/s`;
  if (bytesPerSecond >= 1e6) return `${(bytesPerSecond / 1e6).toFixed(2)} MB/s`;
  if (bytesPerSecond >= 1e3) return `${(bytesPerSecond / 1e3).toFixed(1)} kB/s`;
  return `${bytesPerSecond.toFixed(0)} B/s`;
}

function counts(map: Readonly<Record<string, number>>): string {
  const entries = Object.entries(map).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? 'none' : entries.map(([k, v]) => `${k} ${v}`).join(', ');
}

/** The settings of a run in one line. */
export function settingsLine(r: LoadResult): string {
  const s = r.settings;
  const amount = s.durationMs !== undefined ? `for ${formatMs(s.durationMs)}` : `${s.requests} requests`;
  const parts = [
    `${s.connections} connection${s.connections === 1 ? '' : 's'} × ${s.perConnection} request${s.perConnection === 1 ? '' : 's'} at once`,
    s.keepConn ? 'FCGI_KEEP_CONN' : 'a connection per request',
    amount,
    ...(s.warmupMs > 0 ? [`after ${formatMs(s.warmupMs)} of warm-up`] : []),
    ...(s.rate !== undefined ? [`at ${s.rate} req/s (latency from each due time)`] : []),
    s.validate ? `conformance checked${s.probe ? ' (and probe answers)' : ''}` : 'conformance NOT checked (--no-validate)',
    ...(s.engine === 'client' ? ['driven by the reference client'] : []),
  ];
  return parts.join(', ');
}

/** The text report of a run: figures, then violations with their samples. */
export function formatLoadResult(r: LoadResult): string[] {
  const l = r.latencyMs;
  const errorTotal = Object.values(r.errors).reduce((a, b) => a + b, 0);
  const caps = r.capabilities;
  const capText =
    caps.mpxsConns === undefined && caps.maxConns === undefined && caps.maxReqs === undefined
      ? `FCGI_GET_VALUES: ${caps.note ?? 'no values'}`
      : [
          caps.mpxsConns === undefined ? undefined : `FCGI_MPXS_CONNS=${caps.mpxsConns ? 1 : 0}`,
          caps.maxConns === undefined ? undefined : `FCGI_MAX_CONNS=${caps.maxConns}`,
          caps.maxReqs === undefined ? undefined : `FCGI_MAX_REQS=${caps.maxReqs}`,
        ].filter((x) => x !== undefined).join(' ');
  const out = [
    `fcgispec bench ${r.target}: ${settingsLine(r)}`,
    `  application: ${capText}`,
    ...r.notes.map((n) => `  note: ${n}`),
    '',
    `requests        ${r.requests} in ${formatMs(r.durationMs)}: ${r.ok} ok, ${errorTotal} error${errorTotal === 1 ? '' : 's'}`,
    `throughput      ${r.requestsPerSecond.toFixed(1)} req/s; sent ${formatRate(r.bytesSentPerSecond)}, received ${formatRate(r.bytesReceivedPerSecond)}`,
    ...(r.late !== undefined ? [`schedule        ${r.late} of ${r.requests} requests sent more than 1 ms after their due time`] : []),
    `latency         p50 ${formatMs(l.p50)}  p90 ${formatMs(l.p90)}  p99 ${formatMs(l.p99)}  p99.9 ${formatMs(l['p99.9'])}  max ${formatMs(l.max)}  (mean ${formatMs(l.mean)})`,
    `errors          ${counts(r.errors)}`,
    `protocolStatus  ${counts(r.protocolStatus)}`,
    `CGI status      ${counts(r.cgiStatus)}`,
    `client          ${formatMs(r.clientCpu.microsPerRequest / 1000)} of fcgispec CPU per request, ${(r.clientCpu.coreShare * 100).toFixed(0)} % of one core${r.clientCpu.coreShare >= 0.9 ? ': near a full core, fcgispec itself may be what limits the rate' : ''}`,
    `connections     ${r.connections.opened} opened, at most ${r.connections.peak} at once; while measuring: ${r.connections.closes.peer} closed by the application, ${r.connections.closes.reset} reset, ${r.connections.closes.error} failed, ${r.connections.closes.local} closed by fcgispec`,
  ];
  if (!r.settings.validate) {
    out.push('conformance     not checked (--no-validate)');
    return out;
  }
  out.push(`conformance     ${r.violationCount === 0 ? 'no violations' : `${r.violationCount} violation${r.violationCount === 1 ? '' : 's'}: ${counts(r.violations)}`}`);
  for (const s of r.samples) {
    out.push('', `sample: ${s.requirement} on connection ${s.connection}${s.requestId === undefined ? '' : `, request ${s.requestId}`}`, `  expected: ${s.expected}`, `  actual:   ${s.actual}`);
    const t = samplesTranscript([s]);
    if (t) for (const line of transcriptText(t)) out.push(`  ${line}`);
  }
  return out;
}
