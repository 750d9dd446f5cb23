/**
 * The target's capability profile: what it claims (`--profile FILE`) or what FCGI_GET_VALUES proposes. The
 * claims are themselves tested by scenarios; the profile only decides which scenarios apply. @see §4.1
 */
import { readFileSync } from 'node:fs';
import type { Address } from '../reference/address.ts';
import { RawConnection } from '../reference/client/raw-connection.ts';
import { decodeNameValuePairs, encodeNameValuePairs, toText } from '../reference/codec/name-value.ts';
import {
  FCGI_GET_VALUES,
  FCGI_GET_VALUES_RESULT,
  FCGI_MAX_CONNS,
  FCGI_MAX_REQS,
  FCGI_MPXS_CONNS,
  FCGI_NULL_REQUEST_ID,
  roleNumbers,
  type RoleName,
} from '../spec/constants.ts';
import type { Needs, Profile } from '../suites/define.ts';
import { HarnessError } from './errors.ts';

/** The claims a profile file may make; every key is optional. */
export type ProfileClaims = Partial<Omit<Profile, 'probe'>>;

const profileKeys = ['roles', 'multiplex', 'keepConn', 'maxConns', 'maxReqs'] as const;

/** Parses a profile file's JSON; any error is a usage error with one line naming the file. */
export function parseProfile(text: string, file = 'profile'): ProfileClaims {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new HarnessError('E_USAGE', `${file}: not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new HarnessError('E_USAGE', `${file}: expected a JSON object`);
  const o = json as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !(profileKeys as readonly string[]).includes(k));
  if (unknown.length > 0) throw new HarnessError('E_USAGE', `${file}: unknown key ${unknown.map((k) => JSON.stringify(k)).join(', ')}; expected ${profileKeys.join(', ')}`);
  const out: { -readonly [K in keyof ProfileClaims]: ProfileClaims[K] } = {};
  if (o['roles'] !== undefined) {
    const roles = o['roles'];
    const known = Object.keys(roleNumbers);
    if (!Array.isArray(roles) || roles.length === 0 || !roles.every((r) => typeof r === 'string' && known.includes(r))) {
      throw new HarnessError('E_USAGE', `${file}: "roles" must be a non-empty array of ${known.join(', ')}`);
    }
    out.roles = [...new Set(roles as RoleName[])];
  }
  for (const key of ['multiplex', 'keepConn'] as const) {
    const v = o[key];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw new HarnessError('E_USAGE', `${file}: "${key}" must be true or false`);
    out[key] = v;
  }
  for (const key of ['maxConns', 'maxReqs'] as const) {
    const v = o[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new HarnessError('E_USAGE', `${file}: "${key}" must be a positive integer`);
    out[key] = v;
  }
  return out;
}

/** Reads and parses a profile file. */
export function loadProfile(file: string): ProfileClaims {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new HarnessError('E_USAGE', `--profile ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseProfile(text, file);
}

/** What FCGI_GET_VALUES returned on a fresh connection, or why nothing did. */
export interface GetValuesAnswer {
  readonly answered: boolean;
  readonly values: Readonly<Record<string, string>>;
  /** What happened when it did not answer (timeout, close) or answered oddly. */
  readonly detail?: string;
}

/** The variables asked before a run. @see §4.1 */
export const getValuesNames = [FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS] as const;

/**
 * Asks FCGI_GET_VALUES for all three variables on a fresh connection and waits for FCGI_GET_VALUES_RESULT.
 * Never rejects for what the target does; rejects only when it cannot connect.
 */
export async function queryGetValues(address: Address, timeoutMs: number): Promise<GetValuesAnswer> {
  const conn = await RawConnection.connect(address, { timeoutMs });
  try {
    await conn.sendRecord({
      type: FCGI_GET_VALUES,
      requestId: FCGI_NULL_REQUEST_ID,
      content: encodeNameValuePairs(getValuesNames.map((n) => [n, ''] as const)),
    });
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const event = await conn.next(Math.max(1, deadline - performance.now()));
      if (event.kind === 'timeout') return { answered: false, values: {}, detail: `no FCGI_GET_VALUES_RESULT within ${timeoutMs} ms` };
      if (event.kind === 'closed') return { answered: false, values: {}, detail: `connection closed (${event.how}) without FCGI_GET_VALUES_RESULT` };
      if (event.record.type !== FCGI_GET_VALUES_RESULT) continue;
      const { pairs, error } = decodeNameValuePairs(event.record.content, { maxPairs: 64, maxPairLength: 4096 });
      const values: Record<string, string> = {};
      for (const p of pairs) values[toText(p.name)] = toText(p.value);
      return { answered: true, values, ...(error ? { detail: `malformed result body (${error.kind})` } : {}) };
    }
  } finally {
    conn.destroy();
  }
}

function positiveInt(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  const n = Number(text.trim());
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * The profile a run uses: the file's claims where given, else what FCGI_GET_VALUES proposes (FCGI_MPXS_CONNS
 * "1" → multiplex), else the defaults (responder only, keeps connections, no multiplexing).
 */
export function proposeProfile(claims: ProfileClaims, answer: GetValuesAnswer | undefined, probe: boolean): Profile {
  const values = answer?.values ?? {};
  const maxConns = claims.maxConns ?? positiveInt(values[FCGI_MAX_CONNS]);
  const maxReqs = claims.maxReqs ?? positiveInt(values[FCGI_MAX_REQS]);
  return {
    roles: claims.roles ?? ['responder'],
    multiplex: claims.multiplex ?? values[FCGI_MPXS_CONNS]?.trim() === '1',
    keepConn: claims.keepConn ?? true,
    ...(maxConns === undefined ? {} : { maxConns }),
    ...(maxReqs === undefined ? {} : { maxReqs }),
    probe,
  };
}

/** Why a scenario does not apply to a target with this profile, or `undefined` when it does. */
export function unmetNeeds(needs: Needs | undefined, profile: Profile): string | undefined {
  if (!needs) return undefined;
  if (needs.probe && !profile.probe) return 'needs a target that implements the probe contract (--probe)';
  const missing = (needs.roles ?? []).filter((r) => !profile.roles.includes(r));
  if (missing.length > 0) return `needs the ${missing.join(' and ')} role${missing.length > 1 ? 's' : ''}; the profile has ${profile.roles.join(', ')}`;
  if (needs.multiplex && !profile.multiplex) return 'needs a target that multiplexes connections (FCGI_MPXS_CONNS = "1")';
  if (needs.multiplex === false && profile.multiplex) return 'applies only to targets that do not multiplex connections';
  if (needs.keepConn && !profile.keepConn) return 'needs a target that honours FCGI_KEEP_CONN';
  if (needs.keepConn === false && profile.keepConn) return 'applies only to targets that do not keep connections';
  return undefined;
}
