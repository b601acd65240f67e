/**
 * Header lines: the one implementation of reading a field line (name, value), of
 * obs-fold (a continuation line), and of joining the values of repeated fields.
 *
 * The response parser decides the framing (Content-Length, Transfer-Encoding,
 * Connection…) from these functions, and `HTTPMessage` (`response.msg`) builds every
 * lookup from them, so the two can never read a head differently: `Content-Length: 5`
 * followed by a blank continuation line is 5 for both (the parser used to read `'5 '`).
 *
 * The rules are Python 2.7's (`rfc822.Message.readheaders`, `str.strip()`), except that
 * an obs-fold is replaced by one space (RFC 9112 §5.2; 2.7 joins with `"\n "`) and a
 * blank continuation line adds nothing. Whitespace is Python's (`pytext.ts`). This file
 * must not do I/O.
 */

import { pystrip } from './pytext.ts';

const SP = 0x20;
const HTAB = 0x09;

/** Whether `line` continues the field before it (obs-fold: it starts with SP or HTAB). */
export function isContinuationLine(line: string): boolean {
  const first = line.charCodeAt(0);
  return first === SP || first === HTAB;
}

/**
 * The value of the field line `line` whose first colon is at `colon`: the rest of the
 * line, stripped (which also drops the line's own `\r\n` or `\n`).
 */
export function fieldValue(line: string, colon: number): string {
  return pystrip(line, colon + 1);
}

/**
 * Splits one header line into `[name, value]`.
 *
 * Python 2.7 (`rfc822.Message.isheader` and `readheaders`): the name is the text before
 * the first `:` (whitespace kept, so `A : 1` has the name `A `), the value is the text
 * after it with `str.strip()` applied (SP, HTAB, CR, LF, VT, FF removed at both ends,
 * which also drops the line's own terminator).
 *
 * Differences: the name is returned as received; Python 2.7 lower-cases it here (and
 * `HTTPMessage` folds case only when it compares names). A line without a colon gives
 * the name `''` and the whole stripped line as value; Python 2.7 skips such a line, and
 * `HTTPMessage` likewise makes no field of an empty name. The response parser rejects
 * both kinds of line before they get here.
 */
export function splitHeaderLine(line: string): [name: string, value: string] {
  const colon = line.indexOf(':');
  if (colon === -1) return ['', pystrip(line, 0)];
  return [line.slice(0, colon), fieldValue(line, colon)];
}

/**
 * `value` extended by the continuation line `line` (RFC 9112 §5.2: the obs-fold is
 * replaced by one SP). A blank continuation line adds nothing, so the value never
 * gains a leading, trailing or doubled space from one. Python 2.7 joins with `"\n "`
 * and Python 3 keeps the raw CRLF; both are deliberately not copied.
 */
export function unfold(value: string, line: string): string {
  const more = pystrip(line, 0);
  if (more === '') return value;
  return value === '' ? more : `${value} ${more}`;
}

/**
 * `joined` (the values of the earlier fields of one name, joined; null for none) with the
 * value of one more field of that name: Python 2.7's dict joins repeats with `', '`.
 */
export function appendFieldValue(joined: string | null, value: string): string {
  return joined === null ? value : `${joined}, ${value}`;
}

/** The values of repeated fields as one value (`appendFieldValue` over them). */
export function joinFieldValues(values: readonly string[]): string {
  let joined = values[0] as string;
  for (let i = 1; i < values.length; i++) joined = appendFieldValue(joined, values[i] as string);
  return joined;
}

/**
 * `joined` values whose last field's value starts at `lastStart`, that last value
 * extended by the continuation line `line` (`unfold`): what joining the fields' values
 * gives once the last one is unfolded.
 */
export function unfoldLast(joined: string, lastStart: number, line: string): string {
  const last = joined.slice(lastStart);
  const longer = unfold(last, line);
  return longer === last ? joined : joined.slice(0, lastStart) + longer;
}
