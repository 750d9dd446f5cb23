import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkSchema, formatSchemaErrors, validate, type JsonSchema } from './json-schema.ts';
import { parseReport, reportSchema, validateReport } from './schema.ts';
import { fixtureReport } from './__fixtures__/report.ts';
import { writeJson } from './json.ts';

const seed = 20250102;

describe('validate', () => {
  const person: JsonSchema = {
    type: 'object',
    properties: {
      name: { type: 'string' },
      age: { type: 'integer', minimum: 0 },
      tags: { type: 'array', items: { enum: ['a', 'b'] } },
      kind: { const: 'person' },
      pet: { $ref: '#/$defs/Pet' },
      extra: { type: 'object', additionalProperties: { type: ['string', 'number'] } },
    },
    required: ['name', 'kind'],
    additionalProperties: false,
    $defs: { Pet: { type: 'object', properties: { legs: { type: 'number', minimum: 0 } }, required: ['legs'] } },
  };

  it('accepts a valid instance', () => {
    expect(validate(person, { name: 'x', kind: 'person', age: 3, tags: ['a'], pet: { legs: 4 }, extra: { q: 1, r: 's' } })).toEqual([]);
  });

  it.each([
    ['a wrong type', { name: 1, kind: 'person' }, '/name', 'must be string, got integer'],
    ['a missing required property', { kind: 'person' }, '/', 'is missing required property "name"'],
    ['an extra property', { name: 'x', kind: 'person', zzz: 1 }, '/zzz', 'is not an allowed property'],
    ['a non-integer', { name: 'x', kind: 'person', age: 1.5 }, '/age', 'must be integer, got number'],
    ['a value under the minimum', { name: 'x', kind: 'person', age: -1 }, '/age', 'must be ≥ 0, got -1'],
    ['a value outside the enum', { name: 'x', kind: 'person', tags: ['a', 'c'] }, '/tags/1', 'must be one of "a", "b", got "c"'],
    ['a wrong const', { name: 'x', kind: 'robot' }, '/kind', 'must be "person"'],
    ['a bad $ref target', { name: 'x', kind: 'person', pet: {} }, '/pet', 'is missing required property "legs"'],
    ['a bad additionalProperties value', { name: 'x', kind: 'person', extra: { q: true } }, '/extra/q', 'must be string or number, got boolean'],
    ['an array where an object belongs', [], '/', 'must be object, got array'],
  ])('reports %s', (_what, instance, path, message) => {
    expect(validate(person, instance)).toContainEqual({ path, message });
  });

  it('escapes property names in paths (JSON Pointer)', () => {
    expect(validate({ type: 'object', additionalProperties: false }, { 'a/b~c': 1 })).toEqual([{ path: '/a~1b~0c', message: 'is not an allowed property' }]);
  });

  it('rejects schemas with keywords it does not implement, so a schema edit cannot silently stop checking', () => {
    expect(() => validate({ type: 'string', pattern: '^a' } as JsonSchema, 'b')).toThrow(/unsupported keyword "pattern"/);
    expect(() => checkSchema({ properties: { x: { maxLength: 3 } } } as unknown as JsonSchema)).toThrow(/properties\/x: unsupported keyword "maxLength"/);
    expect(() => checkSchema({ $ref: 'https://example.com/x' })).toThrow(/unresolved \$ref/);
    expect(() => checkSchema({ $ref: '#/$defs/Nope', $defs: {} })).toThrow(/unresolved \$ref/);
    expect(() => checkSchema({ type: 'float' as 'number' })).toThrow(/unknown type/);
  });

  it('is bounded: error count, nesting depth, and $ref cycles', () => {
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
    expect(validate({ type: 'object', additionalProperties: false }, many)).toHaveLength(20);
    expect(validate({ type: 'object', additionalProperties: false }, many, { maxErrors: 3 })).toHaveLength(3);

    let deep: unknown = 0;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    const nested: JsonSchema = { $defs: { N: { type: ['array', 'integer'], items: { $ref: '#/$defs/N' } } }, $ref: '#/$defs/N' };
    expect(validate(nested, deep)).toEqual([expect.objectContaining({ message: 'nesting deeper than 64' })]);

    const cycle: JsonSchema = { $defs: { A: { $ref: '#/$defs/B' }, B: { $ref: '#/$defs/A' } }, $ref: '#/$defs/A' };
    expect(validate(cycle, 1)[0]?.message).toMatch(/\$ref chain longer than 32/);
  });

  it('never throws on any JSON value, and the empty schema accepts all (fast-check seed 20250102)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(validate({}, v)).toEqual([]);
        expect(Array.isArray(validate(person, v))).toBe(true);
      }),
      { seed, numRuns: 300 },
    );
  });

  it('formats errors on one line', () => {
    const errors = [
      { path: '/a', message: 'x' },
      { path: '/b', message: 'y' },
      { path: '/c', message: 'z' },
      { path: '/d', message: 'w' },
    ];
    expect(formatSchemaErrors(errors, 2)).toBe('/a x; /b y; and 2 more');
  });
});

describe('report.schema.json', () => {
  it('uses only the keywords the validator implements', () => {
    expect(() => checkSchema(reportSchema())).not.toThrow();
    expect(reportSchema().$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it('accepts the fixture report as the JSON writer renders it', () => {
    const json = JSON.parse(writeJson(fixtureReport()));
    expect(validateReport(json)).toEqual([]);
  });

  it('accepts a report with a bench section', () => {
    const bench = {
      requests: 1000,
      durationMs: 500,
      requestsPerSecond: 2000,
      bytesSentPerSecond: 1e6,
      bytesReceivedPerSecond: 2e6,
      latencyMs: { p50: 0.2, p90: 0.5, p99: 1, 'p99.9': 2, max: 3 },
      errors: { ECONNRESET: 1 },
      protocolStatus: { FCGI_REQUEST_COMPLETE: 999 },
      violations: {},
    };
    expect(validateReport({ ...JSON.parse(writeJson(fixtureReport())), bench })).toEqual([]);
  });

  // Parsed JSON, mutated freely to break it.
  type Loose = any; // eslint-disable-line @typescript-eslint/no-explicit-any
  it.each<[string, (r: Loose) => unknown, string]>([
    ['an unknown verdict', (r) => (r.results[0].verdict = 'maybe'), '/results/0/verdict'],
    ['a missing summary count', (r) => delete r.summary.warn, '/summary'],
    ['a field the model does not have', (r) => (r.results[1].transcript.lines[0].color = 'red'), '/results/1/transcript/lines/0/color'],
    ['a negative duration', (r) => (r.durationMs = -1), '/durationMs'],
    ['a wrong tool name', (r) => (r.tool.name = 'other'), '/tool/name'],
    ['an unknown rollup verdict', (r) => (r.requirements[0].verdict = 'partial'), '/requirements/0/verdict'],
    ['a non-string param', (r) => (r.target.params.X = 1), '/target/params/X'],
  ])('rejects %s', (_what, mutate, path) => {
    const r = JSON.parse(writeJson(fixtureReport()));
    mutate(r);
    expect(validateReport(r).map((e) => e.path)).toContain(path);
  });

  it('parseReport gives one line for bad input and the report for good', () => {
    expect(parseReport('{"schemaVersion": 1,')).toEqual({ ok: false, message: expect.stringMatching(/^not JSON: /) });
    expect(parseReport('{"schemaVersion": 2}')).toEqual({ ok: false, message: expect.stringMatching(/schemaVersion 2 is not supported/) });
    expect(parseReport('[]')).toEqual({ ok: false, message: 'not a fcgispec report: / must be object, got array' });
    const good = parseReport(writeJson(fixtureReport()));
    expect(good.ok && good.report.target.name).toBe('example-app');
    for (const r of [parseReport('{'), parseReport('{"schemaVersion":1}')]) expect(r.ok || r.message.includes('\n')).toBe(false);
  });
});
