/**
 * Mutations of valid responses, for the robustness property and the fuzz target: the
 * byte-level damage (flipped bytes and bits, cuts, deletions, inserted CR/LF/NUL and
 * separators), line-level damage (duplicated, removed, swapped lines), numbers replaced
 * by huge, signed, hex, padded or listed ones (the Content-Length and chunk-size traps
 * of security.md §1), long runs that cross MAXLINE, MAXHEADERS and the interim and
 * trailer caps, and appended garbage or a second response.
 */
import fc from 'fast-check';
import { MAXHEADERS, MAXINTERIM, MAXLINE, MAXTRAILERS } from '../../src/protocol/limits.ts';

export type Mutation =
  | { readonly op: 'flip'; readonly at: number; readonly byte: number }
  | { readonly op: 'bit'; readonly at: number; readonly bit: number }
  | { readonly op: 'cut'; readonly at: number }
  | { readonly op: 'delete'; readonly at: number; readonly len: number }
  | { readonly op: 'insert'; readonly at: number; readonly text: string }
  | { readonly op: 'dup-line'; readonly line: number }
  | { readonly op: 'drop-line'; readonly line: number }
  | { readonly op: 'swap-lines'; readonly a: number; readonly b: number }
  | { readonly op: 'number'; readonly which: number; readonly text: string }
  | { readonly op: 'run'; readonly at: number; readonly unit: string; readonly count: number }
  | { readonly op: 'append'; readonly text: string };

/** Short insertions: line-ending and separator damage, and framing-changing fragments. */
export const INSERTS: readonly string[] = [
  '\r',
  '\n',
  '\0',
  '\r\n',
  '\n\r',
  '\r\r\n',
  '\r\n\r\n',
  ' ',
  '\t',
  ':',
  ';',
  '"',
  '\x0b',
  '\x7f',
  '\xff',
  '\r\n ',
  '\r\n\t',
  ' :',
  'HTTP/1.1 ',
  'HTTP/1.1 200 OK\r\n',
  'HTTP/1.1 100 Continue\r\n\r\n',
  'HTTP/1.1 101 Switching Protocols\r\n\r\n',
  'Content-Length: 5\r\n',
  'Content-Length: 0\r\n',
  'Content-Length: 7\r\n',
  'Transfer-Encoding: chunked\r\n',
  'Transfer-Encoding: chunked, identity\r\n',
  'Transfer-Encoding: identity\r\n',
  'Connection: close\r\n',
  'Connection: keep-alive\r\n',
  '0\r\n\r\n',
  'ffffffffffffffff\r\n',
  '5;\r\n',
  ' 5\r\n',
];

/** Replacements for a run of digits (a status code, a Content-Length, a chunk size). */
export const NUMBERS: readonly string[] = [
  '',
  '0',
  '-1',
  '+5',
  '-5',
  ' 5 ',
  '5 5',
  '5, 7',
  '5,5',
  '0x10',
  '1e3',
  '1_0',
  '1.5',
  '\xb2',
  '9007199254740991',
  '9007199254740992',
  '18446744073709551616',
  '36893488147419103232',
  '99999999999999999999999999999999999999999999',
  'fffffffffffff',
  'ffffffffffffffffffff',
  '1X',
  '999',
  '1000',
  '99',
  '2',
];

/** Units of long runs; `count` copies cross the limits named beside them. */
export const RUNS: ReadonlyArray<readonly [string, number]> = [
  ['a', MAXLINE + 1], // one line over MAXLINE
  [' ', MAXLINE + 1],
  ['\t', MAXLINE],
  ['\r', 2000],
  ['\n', 2000],
  ['\r\n', 2000],
  ['X: y\r\n', MAXHEADERS + 1], // header count
  [' folded\r\n', MAXHEADERS + 1], // continuation lines count too
  ['HTTP/1.1 100 Continue\r\n\r\n', MAXINTERIM + 1], // interim responses
  ['HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n', MAXINTERIM + 1],
  ['T: v\r\n', MAXTRAILERS + 1], // trailers (when inserted after the last chunk)
  [';e=x', MAXLINE / 4 + 1], // a chunk extension over MAXLINE
  ['1\r\nx\r\n', 5000], // many tiny chunks
  ['0', MAXLINE + 1], // leading zeros of a size or length
  ['\0', 5000],
];

const pos = fc.nat();

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('flip' as const), at: pos, byte: fc.nat(255) }),
  },
  fc.record({ op: fc.constant('bit' as const), at: pos, bit: fc.nat(7) }),
  fc.record({ op: fc.constant('cut' as const), at: pos }),
  fc.record({ op: fc.constant('delete' as const), at: pos, len: fc.integer({ min: 1, max: 8 }) }),
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('insert' as const),
      at: pos,
      text: fc.constantFrom(...INSERTS),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('dup-line' as const), line: pos }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('drop-line' as const), line: pos }) },
  fc.record({ op: fc.constant('swap-lines' as const), a: pos, b: pos }),
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('number' as const),
      which: pos,
      text: fc.constantFrom(...NUMBERS),
    }),
  },
  fc.constantFrom(...RUNS).chain(([unit, count]) =>
    fc.record({
      op: fc.constant('run' as const),
      at: pos,
      unit: fc.constant(unit),
      count: fc.oneof(fc.constant(count), fc.integer({ min: 1, max: count })),
    }),
  ),
  fc.record({
    op: fc.constant('append' as const),
    text: fc.oneof(
      fc.constantFrom(...INSERTS),
      fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u).toString('latin1')),
    ),
  }),
);

/** One to four mutations. */
export const mutationsArb = fc.array(mutationArb, { minLength: 1, maxLength: 4 });

/** Lines of `s`, each with its `\n` (the last one may have none). */
function lines(s: string): string[] {
  return s.split(/(?<=\n)/);
}

/** Apply one mutation (positions are taken modulo the input's size). */
export function mutate(input: Buffer, m: Mutation): Buffer {
  const s = input.toString('latin1');
  const n = s.length;
  let out: string;
  switch (m.op) {
    case 'flip': {
      if (n === 0) return input;
      const b = Buffer.from(input);
      b[m.at % n] = m.byte;
      return b;
    }
    case 'bit': {
      if (n === 0) return input;
      const b = Buffer.from(input);
      const i = m.at % n;
      b[i] = (b[i] as number) ^ (1 << m.bit);
      return b;
    }
    case 'cut':
      return input.subarray(0, m.at % (n + 1));
    case 'delete': {
      const at = m.at % (n + 1);
      out = s.slice(0, at) + s.slice(at + m.len);
      break;
    }
    case 'insert': {
      const at = m.at % (n + 1);
      out = s.slice(0, at) + m.text + s.slice(at);
      break;
    }
    case 'dup-line': {
      const ls = lines(s);
      if (ls.length === 0) return input;
      const i = m.line % ls.length;
      ls.splice(i, 0, ls[i] as string);
      out = ls.join('');
      break;
    }
    case 'drop-line': {
      const ls = lines(s);
      if (ls.length === 0) return input;
      ls.splice(m.line % ls.length, 1);
      out = ls.join('');
      break;
    }
    case 'swap-lines': {
      const ls = lines(s);
      if (ls.length < 2) return input;
      const a = m.a % ls.length;
      const b = m.b % ls.length;
      [ls[a], ls[b]] = [ls[b] as string, ls[a] as string];
      out = ls.join('');
      break;
    }
    case 'number': {
      const runs = [...s.matchAll(/[0-9]+/g)];
      if (runs.length === 0) return input;
      const r = runs[m.which % runs.length] as RegExpExecArray;
      out = s.slice(0, r.index) + m.text + s.slice(r.index + r[0].length);
      break;
    }
    case 'run': {
      const at = m.at % (n + 1);
      out = s.slice(0, at) + m.unit.repeat(m.count) + s.slice(at);
      break;
    }
    case 'append':
      out = s + m.text;
      break;
  }
  return Buffer.from(out, 'latin1');
}

export function mutateAll(input: Buffer, ms: readonly Mutation[]): Buffer {
  let b = input;
  for (const m of ms) b = mutate(b, m);
  return b;
}
