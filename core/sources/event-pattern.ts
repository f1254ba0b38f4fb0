/**
 * Amazon EventBridge event pattern matching (content filtering), so that local mode routes an event
 * exactly when the `events.Rule` deployed by the CDK app would. Semantics follow the EventBridge user
 * guide ("Event patterns", "Comparison operators", "Arrays", "Null values and empty strings") and,
 * where the guide is silent, aws/event-ruler, the open-source matcher EventBridge documents as its
 * engine.
 *
 * A pattern is compiled once into predicates; compiling is also validation, so an operator this
 * module does not understand is refused with its JSON path instead of silently never matching.
 */
import { EventPatternError } from './errors';

export type MatchValue = string | number | boolean | null;

export type NumericComparison = '=' | '<' | '<=' | '>' | '>=';

type StringOrStrings = string | readonly string[];

export type AnythingButOperand =
  | string
  | number
  | readonly string[]
  | readonly number[]
  | { readonly prefix: StringOrStrings }
  | { readonly suffix: StringOrStrings }
  | { readonly 'equals-ignore-case': StringOrStrings }
  | { readonly wildcard: StringOrStrings };

export type MatchOperator =
  | { readonly prefix: string | { readonly 'equals-ignore-case': string } }
  | { readonly suffix: string | { readonly 'equals-ignore-case': string } }
  | { readonly 'equals-ignore-case': string }
  | { readonly wildcard: string }
  | { readonly 'anything-but': AnythingButOperand }
  | { readonly numeric: readonly (NumericComparison | number)[] }
  | { readonly exists: boolean }
  | { readonly cidr: string };

/** The value of a leaf field: the field matches if any entry matches. */
export type PatternLeaf = readonly (MatchValue | MatchOperator)[];

/** Fields are ANDed; `$or` holds alternative sub-patterns for the same level of the event. */
export interface EventPattern {
  readonly $or?: readonly EventPattern[];
  readonly [field: string]: PatternLeaf | EventPattern | readonly EventPattern[] | undefined;
}

/** Throws an EventPatternError for anything EventBridge would refuse or this module cannot evaluate. */
export function validatePattern(pattern: unknown): void {
  compilePattern(pattern);
}

export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return compilePattern(pattern)(event);
}

type JsonObject = Readonly<Record<string, unknown>>;
/** Decides whether the value found at one place in the event satisfies the pattern compiled for it. */
type Condition = (eventValue: unknown) => boolean;
/** Decides whether one entry of a leaf array is satisfied by the leaf values found in the event. */
type LeafMatcher = (leafValues: readonly MatchValue[]) => boolean;
type ValueTest = (value: MatchValue) => boolean;
type StringTest = (value: string) => boolean;
type StringTestBuilder = (expected: string, path: string) => StringTest;

const ROOT_PATH = '$';
const OR_KEY = '$or';
const NO_FIELDS: JsonObject = {};

function compilePattern(pattern: unknown): Condition {
  if (!isJsonObject(pattern)) {
    throw new EventPatternError(ROOT_PATH, `an event pattern must be a JSON object, got ${describeValue(pattern)}`);
  }
  return compileObject(pattern, ROOT_PATH);
}

function compileObject(pattern: JsonObject, path: string): Condition {
  const entries = Object.entries(pattern);
  if (entries.length === 0) {
    throw new EventPatternError(path, 'empty objects are not allowed in an event pattern');
  }
  const fieldConditions = entries.map(([key, value]): ((record: JsonObject) => boolean) => {
    const fieldPath = childPath(path, key);
    if (key === OR_KEY) {
      const alternatives = compileAlternatives(value, fieldPath);
      return (record) => alternatives.some((alternative) => alternative(record));
    }
    const condition = compileField(value, fieldPath);
    return (record) => condition(Object.hasOwn(record, key) ? record[key] : undefined);
  });
  // A nested pattern matches an event array when it matches one element as a whole: fields taken
  // from different elements never combine (event-ruler's array-consistent matching).
  return (eventValue) => objectsIn(eventValue).some((record) => fieldConditions.every((matches) => matches(record)));
}

function compileField(value: unknown, path: string): Condition {
  if (Array.isArray(value)) {
    return compileLeaf(value, path);
  }
  if (isJsonObject(value)) {
    return compileObject(value, path);
  }
  throw new EventPatternError(
    path,
    `a field must hold an array of match values or a nested pattern object, got ${describeValue(value)}`,
  );
}

function compileAlternatives(value: unknown, path: string): Condition[] {
  if (!Array.isArray(value) || value.length < 2) {
    throw new EventPatternError(path, `${OR_KEY} must be an array of at least two pattern objects`);
  }
  return value.map((alternative, index) => {
    const alternativePath = `${path}[${index}]`;
    if (!isJsonObject(alternative)) {
      throw new EventPatternError(alternativePath, `each ${OR_KEY} alternative must be a pattern object`);
    }
    return compileObject(alternative, alternativePath);
  });
}

function compileLeaf(entries: readonly unknown[], path: string): Condition {
  if (entries.length === 0) {
    throw new EventPatternError(path, 'empty arrays are not allowed: an empty array would never match');
  }
  const matchers = entries.map((entry, index) => compileLeafEntry(entry, `${path}[${index}]`));
  return (eventValue) => {
    const leafValues = leafValuesIn(eventValue);
    return matchers.some((matches) => matches(leafValues));
  };
}

function compileLeafEntry(entry: unknown, path: string): LeafMatcher {
  if (isMatchValue(entry)) {
    // Strict equality compares numbers numerically (3.018e2 is 301.8) and keeps null apart from "".
    return anyValue((value) => value === entry);
  }
  if (isJsonObject(entry)) {
    const [operator, operand] = soleEntry(entry, path, 'an operator object');
    const compileOperator = OPERATORS.get(operator);
    if (!compileOperator) {
      throw new EventPatternError(
        childPath(path, operator),
        `unknown operator "${operator}"; supported operators: ${[...OPERATORS.keys()].join(', ')}`,
      );
    }
    return compileOperator(operand, childPath(path, operator));
  }
  throw new EventPatternError(
    path,
    `a match value must be a string, number, boolean, null or an operator object, got ${describeValue(entry)}`,
  );
}

const OPERATORS = new Map<string, (operand: unknown, path: string) => LeafMatcher>([
  ['prefix', (operand, path) => anyString(caseSensitiveOrIgnoringCase(startsWith, operand, path))],
  ['suffix', (operand, path) => anyString(caseSensitiveOrIgnoringCase(endsWith, operand, path))],
  ['equals-ignore-case', (operand, path) => anyString(ignoringCase(equals)(requireString(operand, path), path))],
  ['wildcard', (operand, path) => anyString(wildcard(requireString(operand, path), path))],
  ['anything-but', (operand, path) => anyValue(anythingBut(operand, path))],
  ['numeric', (operand, path) => anyValue(numeric(operand, path))],
  ['cidr', (operand, path) => anyString(cidr(requireString(operand, path), path))],
  ['exists', (operand, path) => exists(operand, path)],
]);

/** String operators that `anything-but` can negate. */
const NEGATABLE_STRING_OPERATORS = new Map<string, StringTestBuilder>([
  ['prefix', nonEmpty(startsWith)],
  ['suffix', nonEmpty(endsWith)],
  ['equals-ignore-case', ignoringCase(equals)],
  ['wildcard', wildcard],
]);

function anyValue(test: ValueTest): LeafMatcher {
  return (leafValues) => leafValues.some(test);
}

/** String operators only ever match string values: `{"prefix": "1"}` does not match the number 12. */
function anyString(test: StringTest): LeafMatcher {
  return anyValue((value) => typeof value === 'string' && test(value));
}

function startsWith(expected: string): StringTest {
  return (value) => value.startsWith(expected);
}

function endsWith(expected: string): StringTest {
  return (value) => value.endsWith(expected);
}

function equals(expected: string): StringTest {
  return (value) => value === expected;
}

function ignoringCase(build: StringTestBuilder): StringTestBuilder {
  return (expected, path) => {
    const test = build(expected.toLowerCase(), path);
    return (value) => test(value.toLowerCase());
  };
}

function nonEmpty(build: StringTestBuilder): StringTestBuilder {
  return (expected, path) => {
    if (expected === '') {
      throw new EventPatternError(path, 'an empty prefix or suffix is not allowed in anything-but');
    }
    return build(expected, path);
  };
}

/** `prefix` and `suffix` take a string, or `{"equals-ignore-case": string}` to ignore case. */
function caseSensitiveOrIgnoringCase(build: StringTestBuilder, operand: unknown, path: string): StringTest {
  if (!isJsonObject(operand)) {
    return build(requireString(operand, path), path);
  }
  const [modifier, expected] = soleEntry(operand, path, 'a prefix or suffix object');
  const modifierPath = childPath(path, modifier);
  if (modifier !== 'equals-ignore-case') {
    throw new EventPatternError(modifierPath, `unsupported modifier "${modifier}"; only equals-ignore-case is allowed`);
  }
  return ignoringCase(build)(requireString(expected, modifierPath), modifierPath);
}

/**
 * `*` matches any run of characters; `\*` is a literal asterisk and `\\` a literal backslash. The docs
 * refuse consecutive wildcards and a backslash before anything else.
 */
function wildcard(expression: string, path: string): StringTest {
  let source = '';
  for (let index = 0; index < expression.length; index++) {
    const character = expression[index]!;
    const next = expression[index + 1];
    if (character === '*') {
      if (next === '*') {
        throw new EventPatternError(path, `consecutive wildcard characters at position ${index} of "${expression}"`);
      }
      source += '[\\s\\S]*';
    } else if (character === '\\') {
      if (next !== '*' && next !== '\\') {
        throw new EventPatternError(
          path,
          `invalid escape at position ${index} of "${expression}": a backslash may only escape * or \\`,
        );
      }
      source += escapeRegExp(next);
      index++;
    } else {
      source += escapeRegExp(character);
    }
  }
  const regExp = new RegExp(`^${source}$`);
  return (value) => regExp.test(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A plain anything-but excludes strings or numbers and lets every other value through; its string
 * forms exclude the strings matching prefix, suffix, equals-ignore-case or wildcard and let every
 * non-string through. Either way the field has to be present.
 */
function anythingBut(operand: unknown, path: string): ValueTest {
  if (isJsonObject(operand)) {
    const [operator, expected] = soleEntry(operand, path, 'an anything-but object');
    const operatorPath = childPath(path, operator);
    const build = NEGATABLE_STRING_OPERATORS.get(operator);
    if (!build) {
      throw new EventPatternError(
        operatorPath,
        `unsupported anything-but operator "${operator}"; supported: ${[...NEGATABLE_STRING_OPERATORS.keys()].join(', ')}`,
      );
    }
    const excluded = stringList(expected, operatorPath).map((value) => build(value, operatorPath));
    return (value) => typeof value !== 'string' || !excluded.some((matches) => matches(value));
  }
  const excluded: readonly unknown[] = Array.isArray(operand) ? operand : [operand];
  const allStrings = excluded.every((value) => typeof value === 'string');
  const allNumbers = excluded.every((value) => typeof value === 'number' && Number.isFinite(value));
  if (excluded.length === 0 || !(allStrings || allNumbers)) {
    throw new EventPatternError(
      path,
      'anything-but takes a string, a number, a non-empty list of only strings or only numbers, ' +
        `or an object with one of ${[...NEGATABLE_STRING_OPERATORS.keys()].join(', ')}`,
    );
  }
  return (value) => !excluded.includes(value);
}

const COMPARISONS: Readonly<Record<NumericComparison, (value: number, limit: number) => boolean>> = {
  '=': (value, limit) => value === limit,
  '<': (value, limit) => value < limit,
  '<=': (value, limit) => value <= limit,
  '>': (value, limit) => value > limit,
  '>=': (value, limit) => value >= limit,
};
const LOWER_BOUNDS: readonly string[] = ['>', '>='];
const UPPER_BOUNDS: readonly string[] = ['<', '<='];

/** `[op, n]`, or a range `[">" | ">=", low, "<" | "<=", high]`; only JSON numbers match. */
function numeric(operand: unknown, path: string): ValueTest {
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) {
    throw new EventPatternError(
      path,
      'numeric takes [comparison, number] or a range [">" or ">=", number, "<" or "<=", number]',
    );
  }
  const conditions: ValueTest[] = [];
  for (let index = 0; index < operand.length; index += 2) {
    const comparison: unknown = operand[index];
    const limit: unknown = operand[index + 1];
    if (typeof comparison !== 'string' || !Object.hasOwn(COMPARISONS, comparison)) {
      throw new EventPatternError(
        `${path}[${index}]`,
        `unknown numeric comparison ${JSON.stringify(comparison)}; use one of ${Object.keys(COMPARISONS).join(' ')}`,
      );
    }
    if (typeof limit !== 'number' || !Number.isFinite(limit)) {
      throw new EventPatternError(`${path}[${index + 1}]`, `the value compared with must be a number`);
    }
    const compare = COMPARISONS[comparison as NumericComparison];
    conditions.push((value) => typeof value === 'number' && compare(value, limit));
  }
  if (operand.length === 4) {
    const [lowerComparison, low, upperComparison, high] = operand as [string, number, string, number];
    if (!LOWER_BOUNDS.includes(lowerComparison) || !UPPER_BOUNDS.includes(upperComparison)) {
      throw new EventPatternError(
        path,
        'a numeric range is a lower bound (> or >=) followed by an upper bound (< or <=)',
      );
    }
    if (low >= high) {
      throw new EventPatternError(path, `the lower bound ${low} must be below the upper bound ${high}`);
    }
  }
  return (value) => conditions.every((condition) => condition(value));
}

const IPV4_BITS = 32;

/** IPv4 only: an IPv6 block is refused rather than never matched. */
function cidr(block: string, path: string): StringTest {
  const [address, maskText, ...rest] = block.split('/');
  const network = parseIpv4(address ?? '');
  const maskBits = Number(maskText);
  if (network === undefined || rest.length > 0 || !/^\d{1,2}$/.test(maskText ?? '') || maskBits > IPV4_BITS) {
    const problem = block.includes(':')
      ? 'IPv6 CIDR blocks are not supported by local mode'
      : `"${block}" is not an IPv4 CIDR block such as 10.0.0.0/24`;
    throw new EventPatternError(path, problem);
  }
  // The shift count is taken mod 32 in JavaScript, so /0 needs its own mask.
  const mask = maskBits === 0 ? 0 : (~0 << (IPV4_BITS - maskBits)) >>> 0;
  const networkBits = (network & mask) >>> 0;
  return (value) => {
    const ip = parseIpv4(value);
    return ip !== undefined && (ip & mask) >>> 0 === networkBits;
  };
}

function parseIpv4(text: string): number | undefined {
  const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text)?.slice(1).map(Number);
  if (!octets || octets.some((octet) => octet > 255)) {
    return undefined;
  }
  return octets.reduce((ip, octet) => ip * 256 + octet, 0);
}

/**
 * Exists looks only at leaves: a field holding an object or an empty array counts as absent, while a
 * field holding null exists (null is a value, see "null values and empty strings").
 */
function exists(operand: unknown, path: string): LeafMatcher {
  if (typeof operand !== 'boolean') {
    throw new EventPatternError(path, `exists takes true or false, got ${describeValue(operand)}`);
  }
  return (leafValues) => leafValues.length > 0 === operand;
}

function requireString(operand: unknown, path: string): string {
  if (typeof operand !== 'string') {
    throw new EventPatternError(path, `expected a string, got ${describeValue(operand)}`);
  }
  return operand;
}

function stringList(operand: unknown, path: string): readonly string[] {
  const values: readonly unknown[] = Array.isArray(operand) ? operand : [operand];
  if (values.length === 0 || !values.every((value) => typeof value === 'string')) {
    throw new EventPatternError(
      path,
      `expected a string or a non-empty list of strings, got ${describeValue(operand)}`,
    );
  }
  return values as readonly string[];
}

function soleEntry(object: JsonObject, path: string, what: string): [string, unknown] {
  const entries = Object.entries(object);
  if (entries.length !== 1) {
    const keys = entries.map(([key]) => key).join(', ');
    throw new EventPatternError(path, `${what} must have exactly one key, got ${entries.length} (${keys})`);
  }
  return entries[0]!;
}

/** Arrays in the event are flattened to their elements; an absent field contributes nothing. */
function flatten(value: unknown): unknown[] {
  if (Array.isArray(value)) {
    return value.flatMap(flatten);
  }
  return value === undefined ? [] : [value];
}

function leafValuesIn(eventValue: unknown): MatchValue[] {
  return flatten(eventValue).filter(isMatchValue);
}

/** The objects a nested pattern is tried against; with none, the pattern sees no fields at all. */
function objectsIn(eventValue: unknown): JsonObject[] {
  const objects = flatten(eventValue).filter(isJsonObject);
  return objects.length > 0 ? objects : [NO_FIELDS];
}

function isMatchValue(value: unknown): value is MatchValue {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function childPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$-]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function describeValue(value: unknown): string {
  if (value === undefined) {
    return 'nothing';
  }
  if (Array.isArray(value)) {
    return 'an array';
  }
  return value === null ? 'null' : `${typeof value} ${JSON.stringify(value)}`;
}
