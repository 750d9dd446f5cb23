/**
 * A small, bounded JSON Schema validator for the keywords our schemas use: `type`, `properties`, `required`,
 * `additionalProperties`, `items`, `enum`, `const`, `minimum`, and `$ref` to `#/$defs/…`. A schema that uses
 * any other assertion keyword is rejected when compiled, so a schema edit cannot silently stop checking.
 * Bounded: nesting depth, `$ref` chains and the number of errors collected are all capped.
 */

/** The JSON Schema subset this validator understands. */
export interface JsonSchema {
  readonly $schema?: string;
  readonly $id?: string;
  readonly $comment?: string;
  readonly title?: string;
  readonly description?: string;
  readonly $defs?: Readonly<Record<string, JsonSchema>>;
  readonly $ref?: string;
  readonly type?: JsonType | readonly JsonType[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly minimum?: number;
}

export type JsonType = 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null';

/** One failed assertion: a JSON Pointer into the instance and what was wrong. */
export interface SchemaError {
  readonly path: string;
  readonly message: string;
}

export interface ValidateOptions {
  /** Stop after this many errors (default 20). */
  readonly maxErrors?: number;
  /** Deepest instance nesting checked (default 64); deeper is an error, not a stack overflow. */
  readonly maxDepth?: number;
}

const annotations = new Set(['$schema', '$id', '$comment', 'title', 'description', '$defs']);
const assertions = new Set(['$ref', 'type', 'properties', 'required', 'additionalProperties', 'items', 'enum', 'const', 'minimum']);
const jsonTypes = new Set<string>(['object', 'array', 'string', 'number', 'integer', 'boolean', 'null']);

/**
 * Checks that `schema` uses only supported keywords and that every `$ref` resolves; throws an Error naming
 * the first problem. `validate` calls it, so a bad schema never passes an instance.
 */
export function checkSchema(schema: JsonSchema): void {
  const root = schema;
  const seen = new Set<JsonSchema>();
  const walk = (s: unknown, at: string): void => {
    if (typeof s === 'boolean') return;
    if (!isObject(s)) throw new Error(`schema ${at || '/'}: not a schema object`);
    if (seen.has(s as JsonSchema)) return;
    seen.add(s as JsonSchema);
    for (const key of Object.keys(s)) {
      if (!annotations.has(key) && !assertions.has(key)) throw new Error(`schema ${at || '/'}: unsupported keyword "${key}"`);
    }
    const node = s as JsonSchema;
    if (node.$ref !== undefined) resolveRef(root, node.$ref);
    if (node.type !== undefined) {
      for (const t of typeof node.type === 'string' ? [node.type] : node.type) {
        if (!jsonTypes.has(t)) throw new Error(`schema ${at || '/'}: unknown type "${String(t)}"`);
      }
    }
    for (const [name, sub] of Object.entries(node.$defs ?? {})) walk(sub, `${at}/$defs/${name}`);
    for (const [name, sub] of Object.entries(node.properties ?? {})) walk(sub, `${at}/properties/${name}`);
    if (node.items !== undefined) walk(node.items, `${at}/items`);
    if (node.additionalProperties !== undefined) walk(node.additionalProperties, `${at}/additionalProperties`);
  };
  walk(schema, '');
}

/** Validates `instance` against `schema`; returns the errors (empty when valid). */
export function validate(schema: JsonSchema, instance: unknown, options: ValidateOptions = {}): SchemaError[] {
  checkSchema(schema);
  const maxErrors = options.maxErrors ?? 20;
  const maxDepth = options.maxDepth ?? 64;
  const errors: SchemaError[] = [];
  const fail = (path: string, message: string): void => {
    if (errors.length < maxErrors) errors.push({ path: path || '/', message });
  };

  const check = (s: JsonSchema | boolean, value: unknown, path: string, depth: number, refs: number): void => {
    if (errors.length >= maxErrors) return;
    if (s === true) return;
    if (s === false) return fail(path, 'is not allowed here');
    if (depth > maxDepth) return fail(path, `nesting deeper than ${maxDepth}`);
    if (s.$ref !== undefined) {
      // A $ref chain that never reaches a value is a schema cycle; cap it instead of recursing forever.
      if (refs > 32) return fail(path, `$ref chain longer than 32 at ${s.$ref}`);
      check(resolveRef(schema, s.$ref), value, path, depth, refs + 1);
    }
    if (s.type !== undefined) {
      const types = typeof s.type === 'string' ? [s.type] : s.type;
      if (!types.some((t) => hasType(value, t))) return fail(path, `must be ${types.join(' or ')}, got ${typeOf(value)}`);
    }
    if (s.const !== undefined && !deepEqual(s.const, value)) fail(path, `must be ${short(s.const)}`);
    if (s.enum !== undefined && !s.enum.some((e) => deepEqual(e, value))) {
      fail(path, `must be one of ${s.enum.map(short).join(', ')}, got ${short(value)}`);
    }
    if (s.minimum !== undefined && typeof value === 'number' && value < s.minimum) fail(path, `must be ≥ ${s.minimum}, got ${value}`);
    if (Array.isArray(value) && s.items !== undefined) {
      for (let i = 0; i < value.length && errors.length < maxErrors; i++) check(s.items, value[i], `${path}/${i}`, depth + 1, 0);
    }
    if (isObject(value)) {
      for (const name of s.required ?? []) {
        if (!Object.hasOwn(value, name)) fail(path, `is missing required property "${name}"`);
      }
      for (const [name, v] of Object.entries(value)) {
        if (errors.length >= maxErrors) break;
        const at = `${path}/${escapePointer(name)}`;
        const sub = s.properties !== undefined && Object.hasOwn(s.properties, name) ? s.properties[name] : undefined;
        if (sub !== undefined) check(sub, v, at, depth + 1, 0);
        else if (s.additionalProperties === false) fail(at, 'is not an allowed property');
        else if (s.additionalProperties !== undefined && s.additionalProperties !== true) check(s.additionalProperties, v, at, depth + 1, 0);
      }
    }
  };

  check(schema, instance, '', 0, 0);
  return errors;
}

/** Formats errors as one line, e.g. `/results/0/verdict must be one of …; / is missing …`. */
export function formatSchemaErrors(errors: readonly SchemaError[], max = 3): string {
  const shown = errors.slice(0, max).map((e) => `${e.path} ${e.message}`);
  if (errors.length > max) shown.push(`and ${errors.length - max} more`);
  return shown.join('; ');
}

function resolveRef(root: JsonSchema, ref: string): JsonSchema {
  const m = /^#\/\$defs\/([^/]+)$/.exec(ref);
  const target = m ? root.$defs?.[unescapePointer(m[1]!)] : undefined;
  if (target === undefined) throw new Error(`schema: unsupported or unresolved $ref "${ref}" (only #/$defs/Name)`);
  return target;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasType(v: unknown, t: JsonType): boolean {
  switch (t) {
    case 'object':
      return isObject(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'null':
      return v === null;
  }
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number' && Number.isInteger(v)) return 'integer';
  return typeof v;
}

function deepEqual(a: unknown, b: unknown, depth = 0): boolean {
  if (a === b) return true;
  if (depth > 32 || typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], depth + 1));
}

function short(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function escapePointer(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}
function unescapePointer(name: string): string {
  return name.replace(/~1/g, '/').replace(/~0/g, '~');
}
