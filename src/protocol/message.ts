/**
 * `HTTPMessage`: the headers of one response, as an ordered, case-preserving multimap
 * over the raw header lines. Lines are split, unfolded and joined by `headers.ts`, the
 * same code the response parser takes its framing decisions from.
 *
 * The response parser validates the head and hands over the raw lines; everything else
 * is derived lazily, on the first lookup, because most responses are never inspected and
 * construction sits on the hot path of every response.
 *
 * This file must not do I/O: no imports of node:net, node:tls, timers or process, no
 * promises. It must never key a plain object by header text (names come from the peer:
 * `__proto__`, `constructor`… are ordinary header names here), so it uses `Map` only.
 */

import { isContinuationLine, joinFieldValues, splitHeaderLine, unfold } from './headers.ts';
import { asciiLower } from './pytext.ts';

/**
 * The default of a lookup: `null` when none was passed, else exactly what was passed,
 * `undefined` included (a `= null` parameter default would turn an explicit `undefined`
 * into `null`, which the `T` overloads would then misdescribe).
 */
function fallback(args: readonly [] | readonly [unknown]): unknown {
  return args.length === 0 ? null : args[0];
}

/** Everything derived from the raw lines, built once by the first lookup. */
interface HeaderIndex {
  /** Field names as received, in order. */
  readonly names: string[];
  /** Field values (continuation lines folded in), parallel to `names`. */
  readonly values: string[];
  /** Index in the raw lines of each field's first line. */
  readonly starts: number[];
  /** One past the index of each field's last line (its last continuation line). */
  readonly ends: number[];
  /** ASCII-lower-cased name → the field numbers with that name, in order. */
  readonly byKey: Map<string, number[]>;
}

function buildIndex(lines: readonly string[]): HeaderIndex {
  const names: string[] = [];
  const values: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const byKey = new Map<string, number[]>();
  // Field number that a continuation line would extend, or -1 after a line that is no
  // field (Python 2.7's falsy `headerseen`): then a whitespace-led line is read as a
  // header line of its own, as 2.7 does (name `' x'`, leading space kept).
  let open = -1;
  let value = '';
  const count = lines.length;
  for (let i = 0; i < count; i++) {
    const line = lines[i] as string;
    if (open !== -1 && isContinuationLine(line)) {
      value = unfold(value, line);
      values[open] = value;
      ends[open] = i + 1;
      continue;
    }
    const [name, fieldValue] = splitHeaderLine(line);
    if (name === '') {
      // Python 2.7 ignores an empty name (`: x`) and a line with no colon.
      open = -1;
      continue;
    }
    open = names.length;
    value = fieldValue;
    names.push(name);
    values.push(fieldValue);
    starts.push(i);
    ends.push(i + 1);
    const key = asciiLower(name);
    const same = byKey.get(key);
    if (same === undefined) byKey.set(key, [open]);
    else same.push(open);
  }
  return { names, values, starts, ends, byKey };
}

/**
 * The headers of a response (`response.msg`, also `response.headers`): a
 * case-insensitive view that keeps the received order, duplicates and name spelling.
 *
 * Python 2.7: `httplib.HTTPMessage` (a `mimetools.Message` / `rfc822.Message`) reads the
 * lines itself and stores a dict of lower-cased names to values joined by `", "`.
 * Python 3: `http.client.HTTPMessage` (an `email.message.Message`) keeps a list of
 * `(name, value)` pairs.
 *
 * Differences: the parser reads and validates the lines; this class only indexes them,
 * lazily, on the first lookup. It is read-only (no `__setitem__`, `__delitem__`,
 * `setdefault`) and has none of the MIME or address helpers (`gettype`, `getaddr`,
 * `getdate`…). Folded values are joined with one space (RFC 9112 §5.2). Names compare
 * with ASCII case folding only, as Python 2.7 does. The per-name lookups follow Python
 * 2.7, the whole-message views (`keys`, `values`, `items`, `size`, iteration) follow
 * Python 3 (every field, duplicates and original case kept).
 *
 * @example
 * ```ts
 * const msg = response.msg;
 * msg.getheader('content-type'); // 'text/html' (any case)
 * msg.get_all('Set-Cookie'); // ['a=1', 'b=2'], or null when absent
 * for (const [name, value] of msg) console.log(`${name}: ${value}`);
 * ```
 */
export class HTTPMessage {
  readonly #lines: readonly string[];
  #index: HeaderIndex | undefined;

  /**
   * Python 2.7: `HTTPMessage(fp)` reads the head from a file. Here the parser passes the
   * raw header lines, latin1-decoded, each with its own terminator (`\r\n` or `\n`; the
   * last may have none), without the status line or the blank line ending the head.
   * A line starting with SP or HTAB continues the field before it.
   *
   * The array is adopted, not copied, and nothing in it is read until the first lookup
   * (construction is O(1)); the caller must not change it afterwards.
   */
  constructor(lines: readonly string[]) {
    if (!Array.isArray(lines)) {
      throw new TypeError('HTTPMessage takes the header lines (an array of strings)');
    }
    this.#lines = lines;
    this.#index = undefined;
  }

  #ix(): HeaderIndex {
    if (this.#index === undefined) this.#index = buildIndex(this.#lines);
    return this.#index;
  }

  #fields(name: string): readonly number[] | undefined {
    // (Python fails too, with an AttributeError on `name.lower()`.)
    if (typeof name !== 'string') throw new TypeError('a header name must be a string');
    return this.#ix().byKey.get(asciiLower(name));
  }

  /**
   * Python 2.7: `getheader(name, default=None)`, every value of `name` joined by `', '`
   * (the 2.7 dict holds them joined), or `default` returned as is.
   *
   * Same here; a folded value uses one space where 2.7 has `"\n "`.
   */
  getheader(name: string): string | null;
  getheader<T>(name: string, defaultValue: T): string | T;
  getheader(name: string, ...defaultValue: [] | [unknown]): unknown {
    return this.#joined(name) ?? fallback(defaultValue);
  }

  /**
   * Python 2.7: `get(name, failobj=None)`, the same as `getheader`.
   *
   * Python 3's `email` `get` returns only the first value; this keeps 2.7's join (use
   * `first` for the first value).
   */
  get(name: string): string | null;
  get<T>(name: string, failobj: T): string | T;
  get(name: string, ...failobj: [] | [unknown]): unknown {
    return this.#joined(name) ?? fallback(failobj);
  }

  #joined(name: string): string | undefined {
    const fields = this.#fields(name);
    if (fields === undefined) return undefined;
    const values = this.#ix().values;
    if (fields.length === 1) return values[fields[0] as number];
    return joinFieldValues(fields.map((f) => values[f] as string));
  }

  /**
   * Python 2.7 (`rfc822.Message.getheaders`): a list of every value of `name`, each
   * stripped like `getheader`'s; an empty list if there is none.
   *
   * Same here, with folded values joined by one space instead of `"\n "`. A new array on
   * every call.
   */
  getheaders(name: string): string[] {
    const fields = this.#fields(name);
    if (fields === undefined) return [];
    const values = this.#ix().values;
    return fields.map((f) => values[f] as string);
  }

  /**
   * Python 3 (`email.message.Message.get_all(name, failobj=None)`): every value of
   * `name`, or `failobj` when there is none.
   *
   * Values are stripped and unfolded (Python 3 keeps trailing whitespace and the raw
   * CRLF of a fold). A new array on every call.
   */
  get_all(name: string): string[] | null;
  get_all<T>(name: string, failobj: T): string[] | T;
  get_all(name: string, ...failobj: [] | [unknown]): unknown {
    return this.#fields(name) === undefined ? fallback(failobj) : this.getheaders(name);
  }

  /**
   * Python 2.7 (`rfc822.Message.getallmatchingheaders`): the raw lines, terminators
   * included, of every field named `name`, each followed by its continuation lines.
   *
   * Same result; fields are matched by their parsed name, where 2.7 compares each raw
   * line's prefix with `name + ':'`. (Python 3's version of this method is broken and
   * returns nothing useful.)
   */
  getallmatchingheaders(name: string): string[] {
    const fields = this.#fields(name);
    if (fields === undefined) return [];
    const { starts, ends } = this.#ix();
    const out: string[] = [];
    for (const f of fields) {
      const end = ends[f] as number;
      for (let i = starts[f] as number; i < end; i++) out.push(this.#lines[i] as string);
    }
    return out;
  }

  /**
   * The first value of `name`, or `null`. Not in Python: for the client layer's framing
   * decisions (Python 3's `email` `get` also returns the first value).
   */
  first(name: string): string | null {
    const fields = this.#fields(name);
    if (fields === undefined) return null;
    return this.#ix().values[fields[0] as number] ?? null;
  }

  /**
   * Python 2.7 `has_key(name)`: whether a field named `name` exists (case-insensitive).
   */
  has_key(name: string): boolean {
    return this.#fields(name) !== undefined;
  }

  /** Python `name in msg`: the same as `has_key`. */
  has(name: string): boolean {
    return this.#fields(name) !== undefined;
  }

  /**
   * Python 3 (`email` `keys()`): every field's name in received order, duplicates and
   * original case kept. Python 2.7 returns the distinct lower-cased names of its dict, in
   * no particular order. A new array on every call.
   */
  keys(): string[] {
    return this.#ix().names.slice();
  }

  /**
   * Python 3 (`email` `values()`): every field's value in received order, duplicates
   * kept, stripped and unfolded. Python 2.7 returns the joined values of its dict. A new
   * array on every call.
   */
  values(): string[] {
    return this.#ix().values.slice();
  }

  /**
   * Python 3 (`email` `items()`): every field as `[name, value]` in received order,
   * names as received. Python 2.7 returns its dict's lower-cased, merged pairs. A new
   * array on every call.
   */
  items(): Array<[string, string]> {
    const { names, values } = this.#ix();
    return names.map((n, i) => [n, values[i] as string]);
  }

  /**
   * Python `headers` attribute: the raw header lines, terminators included, exactly as
   * given to the constructor (the same array, read-only). Continuation lines are entries
   * of their own. No index is built to return it.
   */
  get headers(): readonly string[] {
    return this.#lines;
  }

  /**
   * Python 3 `len(msg)`: the number of fields, duplicates counted, continuation lines
   * not (they belong to their field). Python 2.7 counts distinct names.
   */
  get size(): number {
    return this.#ix().names.length;
  }

  /**
   * Iterates over `[name, value]` for every field in received order, like `items()`.
   * (Python iterates over names only; a pair is what `for…of` over a `Map` gives.)
   */
  *[Symbol.iterator](): Generator<[string, string], void, undefined> {
    const { names, values } = this.#ix();
    for (let i = 0; i < names.length; i++) yield [names[i] as string, values[i] as string];
  }

  /**
   * Python 2.7 `str(msg)`: the raw header block, the lines joined exactly as received.
   * (Python 3 re-renders the fields with `\n` line endings.)
   */
  toString(): string {
    return this.#lines.join('');
  }
}
