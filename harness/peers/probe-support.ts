/**
 * What each probe implementation can do on its peer, as data the tests (and the interop matrix) read: the
 * model's capabilities, the roles the peer serves, and the actions the probe must answer with 501 because
 * the peer gives it no way to perform them.
 * @see §6.2 Responder, §6.3 Authorizer, §6.4 Filter
 */
import type { RoleName } from '../../spec/constants.ts';
import { paramsToPairs, type NameValuePair, type ParamsInit } from '../../reference/codec/name-value.ts';
import {
  expectedProbeResponse,
  parseProbeRequest,
  probeActions,
  type ProbeAction,
  type ProbeCapabilities,
  type ProbeExpectation,
} from '../../reference/probe/model.ts';

/** What happens to a request in a role the peer does not serve. */
export type OtherRoles =
  /** FCGI_END_REQUEST with FCGI_UNKNOWN_ROLE. @see §5.5 */
  | 'unknown-role'
  /** Served as a Responder: the application never learns the role. */
  | 'as-responder';

/** One probe implementation on one peer. */
export interface ProbeSupport {
  /** What `expectedProbeResponse` is told (FCGI_DATA, appStatus, how FCGI_STDERR relates to PROBE_TEXT). */
  readonly capabilities: ProbeCapabilities;
  /** Roles the peer passes to the probe; always includes the Responder. */
  readonly roles: readonly RoleName[];
  /** What the peer does with the other roles. */
  readonly otherRoles: OtherRoles;
  /**
   * Actions the probe answers with status 501 and the body `not implemented\n` although the model expects
   * an answer, each with the reason (Go cannot write FCGI_STDERR, …). `echo-data` without the `data`
   * capability is the model's own case and needs no entry.
   */
  readonly notImplemented: Readonly<Partial<Record<ProbeAction, string>>>;
  /** Params that never reach the probe as params (a library consumes them), with why. */
  readonly hiddenParams?: { readonly names: readonly string[]; readonly prefixes: readonly string[]; readonly why: string };
}

/** The body of a 501 answer. */
export const NOT_IMPLEMENTED_BODY = 'not implemented\n';

/**
 * The answer the probe on a peer gives: `expectedProbeResponse` over the params the probe can see, except
 * for the actions in `support.notImplemented`, which answer 501.
 */
export function expectedOnPeer(
  support: ProbeSupport,
  role: RoleName,
  params: ParamsInit | readonly NameValuePair[],
  stdin?: Uint8Array,
  data?: Uint8Array,
): ProbeExpectation {
  const { call, appStatus } = parseProbeRequest(role, params);
  const action = (probeActions as readonly string[]).includes(call.kind) ? (call.kind as ProbeAction) : undefined;
  if (action !== undefined && support.notImplemented[action] !== undefined) {
    return {
      status: 501,
      headers: [['Content-Type', 'application/octet-stream']],
      body: Buffer.from(NOT_IMPLEMENTED_BODY),
      stderr: new Uint8Array(0),
      stderrMatch: 'exact',
      appStatus: support.capabilities.appStatus ? appStatus : undefined,
    };
  }
  return expectedProbeResponse(role, visibleParams(support, params), stdin, data, support.capabilities);
}

/** The params the probe on a peer can see: all of them, less `support.hiddenParams`. */
export function visibleParams(support: ProbeSupport, params: ParamsInit | readonly NameValuePair[]): NameValuePair[] {
  const pairs = isPairList(params) ? [...params] : paramsToPairs(params);
  const hidden = support.hiddenParams;
  if (!hidden) return pairs;
  return pairs.filter((p) => {
    const name = Buffer.from(p.name).toString('latin1');
    return !hidden.names.includes(name) && !hidden.prefixes.some((prefix) => name.startsWith(prefix));
  });
}

function isPairList(params: ParamsInit | readonly NameValuePair[]): params is readonly NameValuePair[] {
  if (!Array.isArray(params)) return false;
  const first: unknown = params[0];
  return first !== undefined && typeof first === 'object' && first !== null && 'name' in first && 'value' in first;
}
