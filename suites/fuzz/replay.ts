/**
 * Replay files: one shrunk failure as JSON, enough to run it again and get the same verdict (`fcgispec replay
 * FILE TARGET`), to read it (the records, one line each), and to keep it as a regression scenario
 * (`suites/regressions/`). They hold the fast-check seed and path, the plan, the options the case was judged
 * with, the bytes sent and received, and the findings.
 */
import { readFileSync, statSync } from 'node:fs';
import { FCGI_VERSION_1, roleNames, type RoleName } from '../../spec/constants.ts';
import { requirements, type RequirementId } from '../../spec/requirements.ts';
import { verdicts, type Finding, type Verdict } from '../../reports/model.ts';
import { describeRecord } from '../../reference/codec/describe.ts';
import type { TranscriptEntry } from '../../reference/client/raw-connection.ts';
import type { Profile } from '../define.ts';
import type { ModelOptions } from './model.ts';
import { buildWirePlan, parsePlan, PlanError, type BuildOptions, type FuzzPlan } from './plan.ts';

export const REPLAY_FORMAT = 'fcgispec-replay';
export const REPLAY_VERSION = 1;
/** Largest replay file read. */
export const MAX_REPLAY_FILE_BYTES = 64 * 1024 * 1024;
/** Hex bytes of traffic a replay file keeps; the plan regenerates what is sent, so only large answers are cut. */
export const MAX_REPLAY_TRAFFIC_BYTES = 2 * 1024 * 1024;

/** How a case was run and judged: what `replay` needs besides the plan. */
export interface ReplayOptions {
  readonly probe: boolean;
  readonly baseParams: Readonly<Record<string, string>>;
  readonly profile: Profile;
  readonly mpxsConns?: string;
  readonly appStatus: ModelOptions['appStatus'];
  readonly strict: boolean;
  readonly barrier: boolean;
  readonly timeouts: { readonly replyMs: number; readonly closeMs: number; readonly quietMs: number };
}

/** One line of traffic. */
export interface ReplayTraffic {
  readonly conn: number;
  readonly dir: TranscriptEntry['dir'];
  readonly atMs: number;
  readonly hex?: string;
  readonly text?: string;
}

export interface ReplayFile {
  readonly format: typeof REPLAY_FORMAT;
  readonly version: typeof REPLAY_VERSION;
  readonly title: string;
  readonly tool: string;
  readonly createdAt: string;
  readonly target: { readonly name: string; readonly address: string };
  readonly seed: number;
  readonly path: string;
  readonly options: ReplayOptions;
  readonly plan: FuzzPlan;
  /** The plan's records, one line each, per connection and batch (for people; the plan is what runs). */
  readonly records: readonly string[];
  readonly traffic: readonly ReplayTraffic[];
  readonly omittedTrafficBytes: number;
  readonly verdict: Verdict;
  readonly findings: readonly Finding[];
}

/** The plan's records as lines: `#conn batch b: FCGI_PARAMS id=1 len=12 pad=4 …`. */
export function recordLines(plan: FuzzPlan, options: BuildOptions): string[] {
  const wire = buildWirePlan(plan, options);
  const out: string[] = [];
  wire.connections.forEach((c, ci) =>
    c.batches.forEach((b, bi) => {
      for (const r of b.records) out.push(`#${ci} batch ${bi}: ${describeRecord({ ...r, version: r.version ?? FCGI_VERSION_1 })}`);
      out.push(`#${ci} batch ${bi}: ${b.writes.length} write(s) of ${b.writes.reduce((n, w) => n + w.length, 0)} bytes`);
    }),
  );
  return out;
}

/** The traffic of a case's connections, hex capped at `MAX_REPLAY_TRAFFIC_BYTES` in all. */
export function trafficOf(connections: readonly { readonly transcript: readonly TranscriptEntry[]; readonly openedAtMs: number }[]): { traffic: ReplayTraffic[]; omitted: number } {
  const traffic: ReplayTraffic[] = [];
  let room = MAX_REPLAY_TRAFFIC_BYTES;
  let omitted = 0;
  connections.forEach((c, conn) => {
    for (const e of c.transcript) {
      const atMs = Math.round((c.openedAtMs + e.atMs) * 1000) / 1000;
      if (e.dir === 'sent' || e.dir === 'received') {
        const keep = Math.min(room, e.bytes.length);
        room -= keep;
        omitted += e.bytes.length - keep;
        traffic.push({ conn, dir: e.dir, atMs, hex: Buffer.from(e.bytes.subarray(0, keep)).toString('hex') });
      } else if (e.dir === 'closed') traffic.push({ conn, dir: 'closed', atMs, text: e.detail === undefined ? e.how : `${e.how}: ${e.detail}` });
      else if (e.dir === 'note') traffic.push({ conn, dir: 'note', atMs, text: e.text });
    }
  });
  return { traffic, omitted };
}

/** Thrown for a replay file that cannot be used; the message is one line. */
export class ReplayError extends Error {
  override readonly name = 'ReplayError';
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ReplayError(`${what}: expected an object`);
  return v as Record<string, unknown>;
}

function num(v: unknown, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new ReplayError(`${what}: expected a number in ${min}..${max}`);
  return v;
}

function str(v: unknown, what: string, max = 1_000_000): string {
  if (typeof v !== 'string' || v.length > max) throw new ReplayError(`${what}: expected a string`);
  return v;
}

function flag(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw new ReplayError(`${what}: expected true or false`);
  return v;
}

function parseProfile(v: unknown): Profile {
  const o = obj(v, 'options.profile');
  const roles = o['roles'];
  const known = Object.values(roleNames) as string[];
  if (!Array.isArray(roles) || roles.length > 3 || !roles.every((r) => typeof r === 'string' && known.includes(r))) throw new ReplayError('options.profile.roles: expected role names');
  return {
    roles: roles as RoleName[],
    multiplex: flag(o['multiplex'], 'options.profile.multiplex'),
    keepConn: flag(o['keepConn'], 'options.profile.keepConn'),
    probe: flag(o['probe'], 'options.profile.probe'),
    ...(o['maxConns'] === undefined ? {} : { maxConns: num(o['maxConns'], 'options.profile.maxConns', 1) }),
    ...(o['maxReqs'] === undefined ? {} : { maxReqs: num(o['maxReqs'], 'options.profile.maxReqs', 1) }),
  };
}

function parseOptions(v: unknown): ReplayOptions {
  const o = obj(v, 'options');
  const params = obj(o['baseParams'] ?? {}, 'options.baseParams');
  const baseParams: Record<string, string> = {};
  for (const [k, value] of Object.entries(params)) baseParams[k] = str(value, `options.baseParams.${k}`, 65536);
  const t = obj(o['timeouts'] ?? {}, 'options.timeouts');
  const appStatus = o['appStatus'] ?? 'lenient';
  if (appStatus !== 'exact' && appStatus !== 'lenient') throw new ReplayError('options.appStatus: expected exact or lenient');
  return {
    probe: flag(o['probe'], 'options.probe'),
    baseParams,
    profile: parseProfile(o['profile']),
    ...(o['mpxsConns'] === undefined ? {} : { mpxsConns: str(o['mpxsConns'], 'options.mpxsConns', 64) }),
    appStatus,
    strict: o['strict'] === undefined ? false : flag(o['strict'], 'options.strict'),
    barrier: o['barrier'] === undefined ? false : flag(o['barrier'], 'options.barrier'),
    timeouts: {
      replyMs: num(t['replyMs'] ?? 2000, 'options.timeouts.replyMs', 1, 600_000),
      closeMs: num(t['closeMs'] ?? 2000, 'options.timeouts.closeMs', 1, 600_000),
      quietMs: num(t['quietMs'] ?? 200, 'options.timeouts.quietMs', 1, 600_000),
    },
  };
}

function parseFinding(v: unknown, i: number): Finding {
  const o = obj(v, `findings[${i}]`);
  const requirement = str(o['requirement'], `findings[${i}].requirement`, 200);
  if (!Object.hasOwn(requirements, requirement)) throw new ReplayError(`findings[${i}].requirement: unknown requirement ${requirement}`);
  const verdict = o['verdict'];
  if (!(verdicts as readonly unknown[]).includes(verdict)) throw new ReplayError(`findings[${i}].verdict: expected one of ${verdicts.join(', ')}`);
  return { requirement: requirement as RequirementId, verdict: verdict as Verdict, expected: str(o['expected'] ?? '', `findings[${i}].expected`), actual: str(o['actual'] ?? '', `findings[${i}].actual`) };
}

/** Reads a replay file from parsed JSON. Throws `ReplayError`. */
export function parseReplay(json: unknown): ReplayFile {
  const o = obj(json, 'replay file');
  if (o['format'] !== REPLAY_FORMAT) throw new ReplayError(`not a replay file (format is not "${REPLAY_FORMAT}")`);
  if (o['version'] !== REPLAY_VERSION) throw new ReplayError(`replay file version ${String(o['version'])}; this fcgispec reads version ${REPLAY_VERSION}`);
  let plan: FuzzPlan;
  try {
    plan = parsePlan(o['plan']);
  } catch (err) {
    if (err instanceof PlanError) throw new ReplayError(err.message);
    throw err;
  }
  const verdict = o['verdict'];
  if (!(verdicts as readonly unknown[]).includes(verdict)) throw new ReplayError(`verdict: expected one of ${verdicts.join(', ')}`);
  const findings = Array.isArray(o['findings']) ? o['findings'].slice(0, 1000).map(parseFinding) : [];
  const target = obj(o['target'] ?? {}, 'target');
  return {
    format: REPLAY_FORMAT,
    version: REPLAY_VERSION,
    title: str(o['title'] ?? 'fuzz failure', 'title', 1000),
    tool: str(o['tool'] ?? '', 'tool', 200),
    createdAt: str(o['createdAt'] ?? '', 'createdAt', 100),
    target: { name: str(target['name'] ?? '', 'target.name', 1000), address: str(target['address'] ?? '', 'target.address', 4096) },
    seed: num(o['seed'], 'seed', 0, 0xffffffff),
    path: str(o['path'], 'path', 100_000),
    options: parseOptions(o['options']),
    plan,
    records: Array.isArray(o['records']) ? o['records'].slice(0, 100_000).map((r, i) => str(r, `records[${i}]`, 10_000)) : [],
    traffic: [],
    omittedTrafficBytes: 0,
    verdict: verdict as Verdict,
    findings,
  };
}

/** Reads and parses a replay file (bounded in size). Throws `ReplayError` with a one-line message. */
export function readReplayFile(file: string): ReplayFile {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    throw new ReplayError(`${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (size > MAX_REPLAY_FILE_BYTES) throw new ReplayError(`${file}: larger than ${MAX_REPLAY_FILE_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ReplayError(`${file}: not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  try {
    return parseReplay(json);
  } catch (err) {
    if (err instanceof ReplayError) throw new ReplayError(`${file}: ${err.message}`);
    throw err;
  }
}

/** The replay file as text: stable key order, the plan and records readable. */
export function formatReplay(file: ReplayFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}
