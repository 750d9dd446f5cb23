/**
 * Everything the application sends over a session of ordinary traffic, judged byte by byte: the capture
 * frames as records from its first byte to its last, each record reads as a FastCGI header, request ids carry
 * only application record types, and the name-value pairs of FCGI_GET_VALUES_RESULT use the length forms
 * §3.4 defines. The codec's `StreamValidator` judges the rest of each record (version, reserved bytes,
 * padding, streams, request-id state), seeing the records we sent as the peer's.
 * @see §3.3, §3.4, §4.1, §6.1
 */
import {
  FCGI_BEGIN_REQUEST,
  FCGI_GET_VALUES_RESULT,
  FCGI_KEEP_CONN,
  FCGI_MAX_CONNS,
  FCGI_MAX_REQS,
  FCGI_MPXS_CONNS,
  FCGI_NULL_REQUEST_ID,
  propertiesOf,
  recordTypeName,
} from '../../spec/constants.ts';
import type { RequirementId } from '../../spec/requirements.ts';
import { decodeLength } from '../../reference/codec/name-value.ts';
import { RecordDecoder, type DecodedRecord } from '../../reference/codec/record.ts';
import { StreamValidator, type ValidationFinding } from '../../reference/codec/validate.ts';
import { defineScenario, type Check, type RequestPlan, type Scenario, type ScenarioConnection, type ScenarioContext } from '../define.ts';
import { asciiBytes, bodyParams, describeObservation, getValuesRecord, hex, patternBytes, probe, sendAndRead } from '../kit.ts';

/** A param value past the one-byte length form, so the application must read a four-byte length (§3.4). */
const LONG_VALUE = asciiBytes(300, 'fcgispec-long-value-');
/** A name past 127 bytes in FCGI_GET_VALUES: an application that answers it must use the four-byte form. */
const LONG_NAME = asciiBytes(200, 'FCGISPEC_LONG_NAME_');
/** A request id above 255, so a byte-swapped requestId in the application's headers shows. */
const HIGH_ID = 0x0102;
const BODY = patternBytes(1000, 0x0ca9);

/** One step of the session: a request, or a management record and its answer. */
type Step =
  | { readonly kind: 'request'; readonly label: string; readonly plan: RequestPlan }
  | { readonly kind: 'management'; readonly label: string; readonly send: (conn: ScenarioConnection) => Promise<void> };

function steps(ctx: ScenarioContext): Step[] {
  const p = ctx.profile.probe;
  return [
    {
      kind: 'management',
      label: 'FCGI_GET_VALUES',
      send: (conn) => conn.sendRecord(getValuesRecord([FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS, LONG_NAME])),
    },
    { kind: 'request', label: 'a plain request', plan: { requestId: 1 } },
    {
      kind: 'request',
      label: `a request with a ${LONG_VALUE.length}-byte param on request id ${HIGH_ID}`,
      plan: { requestId: HIGH_ID, params: [['HTTP_X_FCGISPEC_LONG', LONG_VALUE], ...(p ? probe.echoParam('HTTP_X_FCGISPEC_LONG') : [])] },
    },
    ...(p ? [{ kind: 'request' as const, label: 'a request that writes FCGI_STDERR', plan: { requestId: 1, params: probe.stderr('fcgispec: capture\n') } }] : []),
    { kind: 'management', label: 'an unknown management type', send: (conn) => conn.sendRecord({ type: 42, requestId: FCGI_NULL_REQUEST_ID }) },
    {
      kind: 'request',
      label: `a POST with a ${BODY.length}-byte body`,
      plan: { requestId: 3, params: [...bodyParams(BODY.length), ...(p ? probe.echoStdin() : [])], stdin: BODY },
    },
  ];
}

/**
 * Replays a connection's transcript through a record decoder per direction and an application-side
 * validator: our records go to `observePeer`, the application's to `push`, in the order they travelled.
 */
function validateCapture(conn: ScenarioConnection): {
  readonly records: readonly DecodedRecord[];
  readonly findings: readonly ValidationFinding[];
  readonly begun: ReadonlySet<number>;
  readonly complete: boolean;
} {
  const sent = new RecordDecoder();
  const begun = new Set<number>();
  const received = new RecordDecoder();
  const validator = new StreamValidator('application', { peerObserved: true });
  const records: DecodedRecord[] = [];
  const findings: ValidationFinding[] = [];
  const complete = conn.raw.omittedBytes === 0;
  for (const entry of conn.raw.transcript) {
    if (entry.dir === 'sent') {
      for (const r of sent.push(entry.bytes)) {
        if (r.type === FCGI_BEGIN_REQUEST) begun.add(r.requestId);
        validator.observePeer(r);
      }
    }
    else if (entry.dir === 'received') {
      for (const r of received.push(entry.bytes)) {
        records.push(r);
        findings.push(...validator.push(r));
      }
    } else if (entry.dir === 'closed' && entry.how !== 'local' && complete) {
      // The application closed: whatever it left of an unfinished record is bytes outside records. (When we
      // closed, a record may have been on its way; when the transcript was cut, the rest is unknown.)
      findings.push(...validator.end(received.pendingBytes));
    }
  }
  return { records, findings, begun, complete };
}

/** One violation per requirement: the first finding, with how many more there were. */
function reportFindings(check: Check, findings: readonly ValidationFinding[], connection: number): void {
  const byRequirement = new Map<RequirementId, ValidationFinding[]>();
  for (const f of findings) byRequirement.set(f.requirement, [...(byRequirement.get(f.requirement) ?? []), f]);
  for (const [requirement, list] of byRequirement) {
    const first = list[0]!;
    const where = `connection ${connection}, offset ${first.offset}${first.requestId !== undefined ? `, request id ${first.requestId}` : ''}`;
    check.violation(requirement, first.expected, `${first.actual} (${where})${list.length > 1 ? `; ${list.length - 1} more like it` : ''}`);
  }
}

/** The header of a record as its eight bytes, for findings. */
function headerHex(r: DecodedRecord): string {
  return hex(Uint8Array.of(r.version, r.type, r.requestId >> 8, r.requestId & 0xff, r.content.length >> 8, r.content.length & 0xff, r.paddingLength, r.reserved));
}

/** The checks this scenario cites, over one connection's records and the request ids we began on it. */
function checkRecords(check: Check, records: readonly DecodedRecord[], begun: ReadonlySet<number>, connection: number): void {
  // §3.3: "A FastCGI record consists of a fixed-length prefix followed by a variable number of content and
  // padding bytes." A record whose lengths lie, or a header laid out differently, loses the framing: the next
  // "header" then has neither version 1 nor a defined type, and the bytes from there on are not records.
  // Single wrong fields are judged by their own requirements (the validator's findings).
  const lost = records.find((r) => r.version !== 1 && propertiesOf(r.type) === undefined);
  const lostText = lost ? `connection ${connection}: at offset ${lost.offset} the bytes read as a header are ${headerHex(lost)}: version ${lost.version}, undefined type ${lost.type}; the framing was lost at or before it` : '';
  check.that(lost === undefined, 'FCGI-3.3-header-layout', 'every record an 8-byte header, then exactly contentLength content and paddingLength padding bytes', lostText);
  // §3.3: "All data that flows over the transport connection is carried in FastCGI records."
  check.that(lost === undefined, 'FCGI-3.3-records-only', 'every byte received part of a record', lostText);
  // requestIdB1 then requestIdB0: a sender that swaps them answers request 0x0102 on 0x0201.
  const swapped = records.find((r) => r.requestId !== FCGI_NULL_REQUEST_ID && !begun.has(r.requestId) && begun.has(swap16(r.requestId)));
  check.that(
    swapped === undefined,
    'FCGI-3.3-header-layout',
    'requestId in network byte order (requestIdB1, requestIdB0)',
    swapped ? `connection ${connection}: ${recordTypeName(swapped.type)} on request id ${swapped.requestId} (0x${swapped.requestId.toString(16)}), the byte swap of request ${swap16(swapped.requestId)} we began` : '',
  );
  // §6.1: "Role protocols only include records with application record types."
  const alien = records.filter((r) => r.requestId !== FCGI_NULL_REQUEST_ID && propertiesOf(r.type)?.management !== false);
  const first = alien[0];
  check.that(
    first === undefined,
    'FCGI-6.1-application-records-only',
    'only application record types (FCGI_STDOUT, FCGI_STDERR, FCGI_END_REQUEST) on a request id',
    first ? `connection ${connection}: ${recordTypeName(first.type)} on request id ${first.requestId} at offset ${first.offset}${alien.length > 1 ? `; ${alien.length} such records` : ''}` : '',
  );
  for (const r of records) if (r.type === FCGI_GET_VALUES_RESULT && r.requestId === FCGI_NULL_REQUEST_ID) checkLengthForms(check, r);
}

function swap16(id: number): number {
  return ((id & 0xff) << 8) | (id >> 8);
}

// §3.4: "Lengths of 127 bytes and less can be encoded in one byte, while longer lengths are always encoded in
// four bytes". A length above 127 written in one byte reads as the start of a four-byte length, so the pairs
// no longer fit the content: walking the length prefixes shows it.
function checkLengthForms(check: Check, record: DecodedRecord): void {
  const c = record.content;
  const forms: string[] = [];
  let at = 0;
  let problem: string | undefined;
  while (at < c.length && problem === undefined) {
    const name = decodeLength(c, at);
    const value = name ? decodeLength(c, at + name.size) : undefined;
    if (!name || !value) {
      problem = `a length prefix cut short at content offset ${at} (bytes ${hex(c.subarray(at, at + 8))})`;
      break;
    }
    const end = at + name.size + value.size + name.length + value.length;
    if (end > c.length) problem = `a pair at content offset ${at} declares ${name.length} + ${value.length} bytes; ${c.length - at - name.size - value.size} remain`;
    forms.push(`${name.length}/${name.size}B+${value.length}/${value.size}B`);
    at = end;
  }
  check.that(
    problem === undefined,
    'FCGI-3.4-four-byte-length',
    'FCGI_GET_VALUES_RESULT pairs whose length prefixes frame the content exactly (one byte up to 127, four bytes with the high bit set above)',
    `${problem ?? ''}; content ${hex(c, 24)}`,
  );
  check.observe('GET_VALUES_RESULT lengths (length/form, name+value)', forms.join(' ') || 'no pairs');
}

const capture = defineScenario({
  id: 'record-layer.capture',
  title: 'sends only well-formed records over a session of ordinary traffic (management records, requests, stderr, a body), judged byte by byte',
  group: 'record-layer',
  requirements: ['FCGI-3.3-records-only', 'FCGI-3.3-header-layout', 'FCGI-3.4-four-byte-length', 'FCGI-6.1-application-records-only'],
  timeoutMs: 20_000,
  async run(ctx) {
    const keep = ctx.profile.keepConn;
    const plan = steps(ctx);
    const connections: ScenarioConnection[] = [];
    let conn: ScenarioConnection | undefined;
    for (let i = 0; i < plan.length; i++) {
      const step = plan[i]!;
      const last = i === plan.length - 1;
      conn ??= await ctx.connect();
      if (!connections.includes(conn)) connections.push(conn);
      if (step.kind === 'management') {
        await step.send(conn);
        const event = await conn.nextManagement(ctx.timeouts.replyMs);
        if (event.kind === 'closed') conn = undefined;
        continue;
      }
      // With FCGI_KEEP_CONN the session stays on one connection; the last request lets the application close it,
      // so the capture ends where the application ended it.
      const flags = keep && !last ? FCGI_KEEP_CONN : 0;
      const { obs } = await sendAndRead(conn, { ...step.plan, flags });
      if (obs.ending !== 'end-request') {
        // Whatever went wrong is other scenarios' to judge; the bytes received so far are judged here.
        conn.note(`${step.label}: ${describeObservation(obs)}; the session stops here`);
        break;
      }
      if (flags === 0) {
        await conn.waitClose(ctx.timeouts.closeMs);
        conn = undefined;
      }
    }
    if (conn && !conn.raw.closed) await conn.waitClose(ctx.timeouts.quietMs);
    let records = 0;
    for (const c of connections) {
      const v = validateCapture(c);
      records += v.records.length;
      if (!v.complete) c.note(`the transcript omitted ${c.raw.omittedBytes} bytes: the capture is judged as far as it goes`);
      reportFindings(ctx.check, v.findings, c.index);
      checkRecords(ctx.check, v.records, v.begun, c.index);
    }
    ctx.check.observe('records judged', records);
  },
});

export const captureScenarios: readonly Scenario[] = [capture];
