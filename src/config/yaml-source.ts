/**
 * The one place where YAML text becomes validated data with line-numbered errors. Every loader (connections,
 * profiles, user lists, stands.yml, bot.yml) goes through here, so every error reads the same way:
 * `file:line: key.path: message`, and unknown keys are always reported with their path.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { z } from 'zod';
import { ConfigError, type InputIssue } from '../errors.js';
import { readTextFile } from './text-input.js';

/** YAML alias uses allowed while converting a document (a "billion laughs" file stops here). */
export const DEFAULT_MAX_ALIAS_COUNT = 100;

export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

export interface ParsedYaml {
  source: YamlSource;
  /** The document as plain data; unsafe integers (Discord snowflakes) stay bigint so no digit is lost. */
  value: unknown;
  /** Syntax errors, duplicate keys, alias bombs. When not empty, `value` must not be trusted. */
  issues: InputIssue[];
}

/** `machines[1].networks[0]` */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const s = String(seg);
      out += /^[A-Za-z_][A-Za-z0-9_-]*$/.test(s) ? (out ? `.${s}` : s) : `[${JSON.stringify(s)}]`;
    }
  }
  return out;
}

function lineAt(source: YamlSource, offset: number | undefined): number | undefined {
  if (offset === undefined) return undefined;
  return source.lineCounter.linePos(offset).line;
}

function resolve(source: YamlSource, node: unknown): unknown {
  return isAlias(node) ? node.resolve(source.doc) : node;
}

/**
 * The line of the key (for map entries) or item (for sequence items) at `path`. When the path does not exist
 * (a missing required key), the line of the deepest existing ancestor.
 */
export function lineOf(source: YamlSource, path: readonly PropertyKey[]): number | undefined {
  let node: unknown = source.doc.contents;
  let line = lineAt(source, (node as Node | null)?.range?.[0]);
  for (const seg of path) {
    node = resolve(source, node);
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(seg));
      if (!pair) break;
      line = lineAt(source, (pair.key as Node | null)?.range?.[0]) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) break;
      line = lineAt(source, item.range?.[0]) ?? line;
      node = item;
    } else break;
  }
  return line;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  if (key === null || key === undefined) return undefined;
  return String(key);
}

/** A key named `__proto__` in a file stays an ordinary (unknown, hence reported) key. */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function unbigint(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }
  if (Array.isArray(value)) return value.map(unbigint);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, unbigint(v));
    return out;
  }
  return value;
}

export interface ParseYamlOptions {
  maxAliasCount?: number;
}

/** Parse YAML text (already decoded). Never throws: problems come back as issues. */
export function parseYaml(text: string, file: string, options: ParseYamlOptions = {}): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    intAsBigInt: true,
    // YAML 1.2 core schema: `no`/`on` stay strings, `0x1F` is not a number surprise for a VLAN.
    version: '1.2',
    // `<<: *defaults` is common in hand-written profiles; YAML 1.2 leaves merge keys out unless asked.
    merge: true,
  });
  const source: YamlSource = { file, doc, lineCounter };
  const issues: InputIssue[] = [];
  for (const err of doc.errors) {
    const message = err.message.replace(/ at line \d+, column \d+.*$/s, '');
    issues.push({ file, line: lineAt(source, err.pos[0]), message: `YAML: ${message}` });
  }
  if (issues.length > 0) return { source, value: undefined, issues };
  const maxAliasCount = options.maxAliasCount ?? DEFAULT_MAX_ALIAS_COUNT;
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount });
  } catch (err) {
    if (err instanceof ReferenceError && /alias/i.test(err.message)) {
      return {
        source,
        value: undefined,
        issues: [
          {
            file,
            line: firstAliasLine(source),
            message: `YAML aliases expand too much (more than ${maxAliasCount} alias uses); refusing the file`,
          },
        ],
      };
    }
    return { source, value: undefined, issues: [{ file, message: `YAML: ${(err as Error).message}` }] };
  }
  return { source, value: unbigint(value), issues };
}

function firstAliasLine(source: YamlSource): number | undefined {
  let found: number | undefined;
  const visit = (node: unknown): void => {
    if (found !== undefined || !node) return;
    if (isAlias(node)) {
      found = lineAt(source, node.range?.[0]);
    } else if (isMap(node) || isSeq(node)) {
      for (const item of node.items) {
        if (isPair(item)) {
          visit(item.key);
          visit(item.value);
        } else visit(item);
      }
    }
  };
  visit(source.doc.contents);
  return found;
}

/** Closest candidate by edit distance, for "did you mean" on unknown keys. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDist) {
      bestDist = d;
      best = c;
    }
  }
  return best !== undefined && bestDist <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(dp[i - 1]![j]! + 1, dp[i]![j - 1]! + 1, dp[i - 1]![j - 1]! + cost);
      // a swapped pair of letters ("netwroks") counts as one edit
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, dp[i - 2]![j - 2]! + 1);
      dp[i]![j] = v;
    }
  }
  return dp[a.length]![b.length]!;
}

function describeValue(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'bigint') return 'a number';
  if (typeof input === 'object') return 'a mapping';
  if (typeof input === 'string') return `"${input.length > 40 ? `${input.slice(0, 40)}…` : input}"`;
  return String(input);
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  bigint: 'a number',
};

/**
 * Default messages for our schemas, written for people editing YAML (zod's own are written for programmers).
 * A message given in a schema (`.regex(re, 'must look like …')`) wins over these.
 */
export const errorMap: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type': {
      if (iss.input === undefined) return 'required key is missing';
      const expected = TYPE_NAMES[iss.expected] ?? iss.expected;
      return `expected ${expected}, got ${describeValue(iss.input)}`;
    }
    case 'invalid_value':
      if (iss.values.length === 1) return `expected ${JSON.stringify(iss.values[0])}, got ${describeValue(iss.input)}`;
      return `expected one of ${iss.values.map((v) => String(v)).join(', ')}; got ${describeValue(iss.input)}`;
    case 'too_small': {
      const min = String(iss.minimum);
      if (iss.origin === 'string') return `must be at least ${min} characters long`;
      if (iss.origin === 'array' || iss.origin === 'set') return `must have at least ${min} item${min === '1' ? '' : 's'}`;
      return iss.inclusive === false ? `must be greater than ${min}` : `must be at least ${min}`;
    }
    case 'too_big': {
      const max = String(iss.maximum);
      if (iss.origin === 'string') return `must be at most ${max} characters long`;
      if (iss.origin === 'array' || iss.origin === 'set') return `must have at most ${max} items`;
      return iss.inclusive === false ? `must be less than ${max}` : `must be at most ${max}`;
    }
    case 'not_multiple_of':
      return `must be a multiple of ${String(iss.divisor)}`;
    case 'invalid_format':
      return `has an invalid format (${iss.format})`;
    case 'invalid_union':
      return `invalid value ${describeValue(iss.input)}`;
    default:
      return undefined;
  }
};

export type ValidationResult<T> = { ok: true; data: T } | { ok: false; issues: InputIssue[] };

/** Validate data parsed from `source` against a schema; issues carry the YAML line of their key path. */
export function validate<S extends z.ZodType>(
  schema: S,
  value: unknown,
  source: YamlSource,
  options: { pathPrefix?: PropertyKey[] } = {},
): ValidationResult<z.output<S>> {
  const res = schema.safeParse(value, { error: errorMap, reportInput: true });
  if (res.success) return { ok: true, data: res.data };
  return { ok: false, issues: zodIssues(res.error.issues, source, options.pathPrefix ?? []) };
}

/** Turn zod issues into input issues, one per unknown key, with the YAML line of each path. */
export function zodIssues(
  issues: readonly z.core.$ZodIssue[],
  source: YamlSource,
  prefix: readonly PropertyKey[] = [],
): InputIssue[] {
  const out: InputIssue[] = [];
  for (const iss of issues) {
    const path = [...prefix, ...iss.path];
    if (iss.code === 'unrecognized_keys') {
      const known = knownKeysAt(iss);
      for (const key of iss.keys) {
        const keyPath = [...path, key];
        const hint = known ? suggest(key, known) : undefined;
        out.push({
          file: source.file,
          line: lineOf(source, keyPath),
          path: formatPath(keyPath),
          message: hint ? `unknown key (did you mean "${hint}"?)` : 'unknown key',
        });
      }
      continue;
    }
    out.push({ file: source.file, line: lineOf(source, path), path: formatPath(path) || undefined, message: iss.message });
  }
  return sortIssues(out);
}

function knownKeysAt(iss: z.core.$ZodIssueUnrecognizedKeys): string[] | undefined {
  if (!iss.message.startsWith(KNOWN_MARK)) return undefined;
  return JSON.parse(iss.message.slice(KNOWN_MARK.length)) as string[];
}

/** Order by line so a user reads errors top to bottom; stable for equal lines. */
export function sortIssues(issues: InputIssue[]): InputIssue[] {
  return issues
    .map((issue, i) => ({ issue, i }))
    .sort((a, b) => (a.issue.line ?? 0) - (b.issue.line ?? 0) || a.i - b.i)
    .map((x) => x.issue);
}

export function issueAt(source: YamlSource, path: readonly PropertyKey[], message: string): InputIssue {
  return { file: source.file, line: lineOf(source, path), path: formatPath(path) || undefined, message };
}

/** Throw a ConfigError when there is anything to report. */
export function throwIfIssues(issues: InputIssue[]): void {
  if (issues.length > 0) throw new ConfigError(sortIssues(issues));
}

const KNOWN_MARK = '\u0000known:';

/**
 * `z.strictObject` whose unknown-key issues carry the allowed keys, so the message can say "did you mean".
 * zod 4 does not put them on the issue; the object's own error hook is the one place that knows them.
 */
export function strictObject<T extends z.core.$ZodLooseShape>(shape: T) {
  const known = JSON.stringify(Object.keys(shape));
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? KNOWN_MARK + known : undefined),
  });
}

/** Read, decode and parse a YAML file; decoding and syntax problems are thrown as a ConfigError. */
export async function loadYamlFile(
  path: string,
  displayName: string = path,
  options: ParseYamlOptions & { maxBytes?: number } = {},
): Promise<{ source: YamlSource; value: unknown }> {
  const text = await readTextFile(path, displayName, { maxBytes: options.maxBytes });
  const parsed = parseYaml(text, displayName, options);
  throwIfIssues(parsed.issues);
  return { source: parsed.source, value: parsed.value };
}

const ENV_REF = /\$\$\{|\$\{([^}]*)\}/g;

/**
 * Expand `${VAR}` in every string of a parsed document (`$${` writes a literal `${`). An empty variable counts
 * as unset, and an unset one is an error naming the file, line and variable: a silently empty token secret
 * would only fail later, at login, far from its cause.
 */
export function expandEnv(
  value: unknown,
  source: YamlSource,
  env: NodeJS.ProcessEnv = process.env,
): { value: unknown; issues: InputIssue[] } {
  const issues: InputIssue[] = [];
  const walk = (v: unknown, path: PropertyKey[]): unknown => {
    if (typeof v === 'string') {
      if (!v.includes('${')) return v;
      return v.replace(ENV_REF, (whole, name: string | undefined) => {
        if (whole === '$${') return '${';
        const n = (name ?? '').trim();
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(n)) {
          issues.push(issueAt(source, path, `"\${${name ?? ''}}" is not a valid environment variable reference`));
          return '';
        }
        const got = env[n];
        if (got === undefined || got === '') {
          issues.push(issueAt(source, path, `environment variable ${n} is not set`));
          return '';
        }
        return got;
      });
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...path, i]));
    if (v && typeof v === 'object' && typeof v !== 'bigint') {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) setOwn(out, k, walk(item, [...path, k]));
      return out;
    }
    return v;
  };
  const expanded = walk(value, []);
  return { value: expanded, issues };
}

/**
 * A value written either as a string or as a mapping (`"hq"` or `{bridge: "hq"}`; `ivanov` or `{user: …}`).
 * A zod union would report a mistyped key of the mapping as "invalid value"; this picks the branch by the
 * value's type, so the mapping's own errors (an unknown key with its path) come through.
 */
export function stringOrMapping<S extends z.ZodType, M extends z.ZodType>(str: S, map: M, message: string) {
  return z.unknown().transform((v, ctx): z.output<S> | z.output<M> => {
    const isMap = v !== null && typeof v === 'object' && !Array.isArray(v);
    if (typeof v !== 'string' && !isMap) {
      ctx.issues.push({ code: 'custom', message, input: v });
      return z.NEVER;
    }
    const res = (isMap ? map : str).safeParse(v, { error: errorMap, reportInput: true });
    if (res.success) return res.data as z.output<S> | z.output<M>;
    for (const iss of res.error.issues) ctx.issues.push({ ...iss, input: (iss as { input?: unknown }).input } as never);
    return z.NEVER;
  });
}
