/**
 * A hand-built report for the writer tests: every verdict, a failing scenario with a transcript, a fuzz
 * finding with replay data, and hostile text (markup, control characters, mentions) where a peer's bytes go.
 */
import { encodeRecord, encodeStream, concatBytes } from '../../reference/codec/record.ts';
import { encodeBeginRequestBody, encodeEndRequestBody } from '../../reference/codec/bodies.ts';
import { encodeNameValuePairs } from '../../reference/codec/name-value.ts';
import {
  FCGI_BEGIN_REQUEST,
  FCGI_END_REQUEST,
  FCGI_PARAMS,
  FCGI_RESPONDER,
  FCGI_STDERR,
  FCGI_STDIN,
  FCGI_STDOUT,
  FCGI_GET_VALUES,
  FCGI_GET_VALUES_RESULT,
  FCGI_KEEP_CONN,
} from '../../spec/constants.ts';
import type { TranscriptEntry } from '../../reference/client/raw-connection.ts';
import type { ComplianceReport, ScenarioResult } from '../model.ts';
import { buildReport, type Catalog } from '../summarize.ts';
import { buildTranscript } from '../transcript.ts';

/** Text a hostile peer might send back: markup, an XML terminator, escapes, a mention, pipes, a lone surrogate. */
export const hostileText = '<script>alert("pwned")</script> ]]> &amp; \u0000\u001b[31mred\u001b[0m @everyone | a | b | `tick` \ud800 end';

export const fixtureCatalog: Catalog = {
  'FCGI-3.3-padding-discarded': { section: '3.3', level: 'must', side: 'application' },
  'FCGI-3.3-reserved-ignored': { section: '3.3', level: 'should', side: 'application' },
  'FCGI-3.3-padding-discarded-web-server': { section: '3.3', level: 'must', side: 'web-server' },
  'FCGI-4.1-get-values-answered': { section: '4.1', level: 'must', side: 'application' },
  'FCGI-4.1-limit-values': { section: '4.1', level: 'info', side: 'application' },
  'FCGI-4.2-unknown-type-reply': { section: '4.2', level: 'must', side: 'application' },
  'FCGI-5.4-abort-ends-request': { section: '5.4', level: 'must', side: 'application' },
  'FCGI-A-record-direction': { section: 'A', level: 'must', side: 'both' },
  'FCGI-B-multiplexed-app': { section: 'B', level: 'must', side: 'application' },
};

const begin = (requestId: number, flags = 0, paddingLength = 0): Uint8Array =>
  encodeRecord({ type: FCGI_BEGIN_REQUEST, requestId, content: encodeBeginRequestBody({ role: FCGI_RESPONDER, flags }), paddingLength }, { paddingByte: 0xaa });
const params = (requestId: number): Uint8Array =>
  encodeStream(FCGI_PARAMS, requestId, encodeNameValuePairs({ SCRIPT_FILENAME: '/srv/app/index.php', REQUEST_METHOD: 'GET' }));
const stdinEnd = (requestId: number): Uint8Array => encodeStream(FCGI_STDIN, requestId, new Uint8Array());
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The failing scenario's raw transcript: a padded request answered with stderr and appStatus 255, then a close. */
export function failingTranscriptEntries(): TranscriptEntry[] {
  const reply = concatBytes([
    encodeStream(FCGI_STDERR, 1, text('PHP Warning: <b>padding</b> not understood\n')),
    encodeStream(FCGI_STDOUT, 1, new Uint8Array()),
    encodeRecord({ type: FCGI_END_REQUEST, requestId: 1, content: encodeEndRequestBody({ appStatus: 255, protocolStatus: 0 }) }),
  ]);
  return [
    { dir: 'sent', atMs: 0.25, bytes: begin(1, 0, 255) },
    { dir: 'sent', atMs: 0.5, bytes: concatBytes([params(1), stdinEnd(1)]) },
    { dir: 'note', atMs: 0.75, text: 'waiting up to 2000 ms for the response' },
    // The reply arrives cut in two, mid-record, as TCP may deliver it.
    { dir: 'received', atMs: 12.5, bytes: reply.subarray(0, 30) },
    { dir: 'received', atMs: 12.75, bytes: reply.subarray(30) },
    { dir: 'closed', atMs: 13, how: 'end' },
  ];
}

function result(r: Partial<ScenarioResult> & Pick<ScenarioResult, 'id' | 'title' | 'group' | 'requirements' | 'verdict'>): ScenarioResult {
  return {
    id: r.id,
    title: r.title,
    group: r.group,
    requirements: r.requirements,
    verdict: r.verdict,
    expected: r.expected ?? '',
    actual: r.actual ?? '',
    findings: r.findings ?? [],
    observations: r.observations ?? {},
    durationMs: r.durationMs ?? 5,
    ...(r.transcript ? { transcript: r.transcript } : {}),
    ...(r.replay ? { replay: r.replay } : {}),
  };
}

/** The fixture's results, one or more of each verdict. */
export function fixtureResults(): ScenarioResult[] {
  const hostileOut = encodeStream(FCGI_STDOUT, 7, text(hostileText));
  return [
    result({
      id: 'record-layer.padding.any-length',
      title: 'skips padding of every length 0..255',
      group: 'record-layer',
      requirements: ['FCGI-3.3-padding-discarded'],
      verdict: 'pass',
      durationMs: 41.5,
    }),
    result({
      id: 'record-layer.padding.max',
      title: 'serves a request whose BEGIN_REQUEST carries 255 bytes of padding',
      group: 'record-layer',
      requirements: ['FCGI-3.3-padding-discarded'],
      verdict: 'fail',
      expected: 'FCGI_STDOUT with a CGI response, then FCGI_END_REQUEST with FCGI_REQUEST_COMPLETE and appStatus 0',
      actual: 'FCGI_STDERR "PHP Warning: <b>padding</b> not understood", then FCGI_END_REQUEST appStatus 255',
      findings: [
        {
          requirement: 'FCGI-3.3-padding-discarded',
          verdict: 'fail',
          expected: 'a response as to the same request unpadded',
          actual: 'appStatus 255 and no output',
        },
      ],
      durationMs: 13.25,
      transcript: buildTranscript([{ entries: failingTranscriptEntries() }]),
    }),
    result({
      id: 'record-layer.reserved.nonzero',
      title: 'ignores a non-zero reserved header byte',
      group: 'record-layer',
      requirements: ['FCGI-3.3-reserved-ignored', 'FCGI-3.3-padding-discarded'],
      verdict: 'warn',
      expected: 'the request served as if reserved were 0',
      actual: 'connection closed after the BEGIN_REQUEST',
      findings: [{ requirement: 'FCGI-3.3-reserved-ignored', verdict: 'warn', expected: 'a response', actual: 'connection closed (FIN)' }],
      durationMs: 3,
      transcript: buildTranscript([
        {
          entries: [
            { dir: 'sent', atMs: 0.5, bytes: encodeRecord({ type: FCGI_BEGIN_REQUEST, requestId: 1, reserved: 0x5a, content: encodeBeginRequestBody({ role: 1, flags: 0 }) }) },
            { dir: 'closed', atMs: 2.5, how: 'end' },
          ],
        },
      ]),
    }),
    result({
      id: 'management.get-values.limits',
      title: 'reports FCGI_MAX_CONNS, FCGI_MAX_REQS and FCGI_MPXS_CONNS',
      group: 'management',
      requirements: ['FCGI-4.1-get-values-answered', 'FCGI-4.1-limit-values'],
      verdict: 'info',
      observations: { FCGI_MAX_CONNS: '50', FCGI_MAX_REQS: '50', FCGI_MPXS_CONNS: '0', answeredWithinMs: 1.5, multiplexes: false },
      findings: [{ requirement: 'FCGI-4.1-limit-values', verdict: 'info', expected: 'the values the application chooses', actual: 'MAX_CONNS 50, MAX_REQS 50, MPXS_CONNS 0' }],
      durationMs: 2,
      transcript: buildTranscript([
        {
          entries: [
            { dir: 'sent', atMs: 0.1, bytes: encodeRecord({ type: FCGI_GET_VALUES, requestId: 0, content: encodeNameValuePairs({ FCGI_MAX_CONNS: '', FCGI_MAX_REQS: '', FCGI_MPXS_CONNS: '' }) }) },
            {
              dir: 'received',
              atMs: 1.6,
              bytes: encodeRecord({ type: FCGI_GET_VALUES_RESULT, requestId: 0, content: encodeNameValuePairs({ FCGI_MAX_CONNS: '50', FCGI_MAX_REQS: '50', FCGI_MPXS_CONNS: '0' }) }),
            },
          ],
        },
      ]),
    }),
    result({
      id: 'robustness.fuzz.output-direction',
      title: 'sends only application record types, whatever the request',
      group: 'robustness',
      requirements: ['FCGI-A-record-direction'],
      verdict: 'fail',
      expected: 'only FCGI_STDOUT, FCGI_STDERR, FCGI_END_REQUEST and management replies',
      actual: `FCGI_STDOUT echoed ${hostileText}`,
      findings: [{ requirement: 'FCGI-A-record-direction', verdict: 'fail', expected: 'application record types', actual: hostileText }],
      durationMs: 812.75,
      replay: { seed: -1904378521, path: '3:1:0', file: 'fcgispec-report/replays/robustness.fuzz.output-direction.json' },
      transcript: buildTranscript([{ entries: [{ dir: 'received', atMs: 3.5, bytes: hostileOut }, { dir: 'note', atMs: 4, text: hostileText }] }]),
    }),
    result({
      id: 'keep-conn.second-request',
      title: 'serves a second request on a kept connection',
      group: 'keep-conn',
      requirements: ['FCGI-B-multiplexed-app'],
      verdict: 'skip',
      expected: 'skipped: the profile says the target does not keep connections (keepConn: false)',
      durationMs: 0,
    }),
    result({
      id: 'abort.mid-stdin',
      title: 'ends the request when aborted in the middle of FCGI_STDIN',
      group: 'abort',
      requirements: ['FCGI-5.4-abort-ends-request'],
      verdict: 'error',
      actual: 'E_TIMEOUT: no verdict within 10000 ms (watchdog)',
      durationMs: 10000,
    }),
    result({
      id: 'multiplexing.interleaved',
      title: 'answers two interleaved requests on two connections',
      group: 'multiplexing',
      requirements: ['FCGI-B-multiplexed-app'],
      verdict: 'pass',
      durationMs: 6.5,
      transcript: buildTranscript([
        { entries: [{ dir: 'sent', atMs: 0.5, bytes: concatBytes([begin(1, FCGI_KEEP_CONN), params(1), stdinEnd(1)]) }] },
        { openedAtMs: 0.25, entries: [{ dir: 'sent', atMs: 0.5, bytes: concatBytes([begin(2), params(2), stdinEnd(2)]) }] },
      ]),
    }),
  ];
}

/** The fixture report, built through `buildReport` as the runner builds one. */
export function fixtureReport(overrides: Partial<Pick<ComplianceReport, 'target' | 'seed' | 'startedAt' | 'durationMs' | 'strict'>> = {}): ComplianceReport {
  return buildReport({
    tool: { name: 'fcgispec', version: '0.1.0', suiteVersion: '1' },
    target: overrides.target ?? {
      name: 'example-app',
      address: 'tcp:127.0.0.1:9000',
      mode: 'app',
      profile: { roles: ['responder'], multiplex: false, keepConn: false, probe: true },
      params: { SCRIPT_FILENAME: '/srv/app/index.php', HTTP_X_NOTE: hostileText },
    },
    startedAt: overrides.startedAt ?? '2025-01-02T03:04:05.678Z',
    durationMs: overrides.durationMs ?? 10883.75,
    seed: overrides.seed ?? 42,
    strict: overrides.strict ?? false,
    results: fixtureResults(),
    catalog: fixtureCatalog,
  });
}
