/**
 * A fast-check model of valid HTTP responses: what a server may legally send (and what
 * this package accepts on purpose, such as LF-only head lines and HTTP/0.9), serialised
 * to bytes together with the outcome that shared/API.md's "Reading a response" rules
 * predict for it. The property tests feed the bytes split in many ways and compare.
 *
 * Covered: status line versions (1.0, 1.1, 1.x), reason phrases (empty, spaces, tabs,
 * obs-text), interim 1xx responses before the final one, header names in odd case,
 * duplicates, obs-fold continuation lines, Content-Length (repeated with equal values,
 * leading zeros, padding), chunked bodies with extensions, upper/lower-case and
 * zero-padded sizes and trailers, Content-Length beside chunked, bodies until close,
 * HEAD, 204, 304, 101 and CONNECT 2xx (no body whatever the headers say), keep-alive
 * rules of both versions, bytes after the response, HTTP/0.9 simple responses.
 *
 * Serialising a spec and predicting its outcome: response-expect.ts.
 */
import fc from 'fast-check';

/** One header field with its continuation lines (each starts with SP or HTAB). */
export interface Field {
  readonly name: string;
  readonly value: string;
  readonly folds: readonly string[];
}

/** One chunk of a chunked body. */
export interface Chunk {
  readonly size: string;
  readonly ext: string;
  readonly data: Buffer;
}

/** How the message says its body is framed (a no-body status may still say so). */
export type Framing =
  | { readonly kind: 'length'; readonly texts: readonly string[]; readonly data: Buffer }
  | {
      readonly kind: 'chunked';
      readonly teName: string;
      readonly teValue: string;
      /** A Content-Length sent beside chunked (ignored, but the connection is not reused). */
      readonly cl: string | null;
      readonly chunks: readonly Chunk[];
      readonly last: string;
      readonly trailers: readonly string[];
    }
  | { readonly kind: 'eof'; readonly data: Buffer };

export interface Interim {
  readonly status: number;
  readonly reason: string;
  readonly fields: readonly Field[];
}

export interface ResponseSpec {
  readonly kind: 'http';
  readonly method: string;
  readonly lf: boolean;
  readonly interims: readonly Interim[];
  readonly version: string;
  readonly status: number;
  /** Text after the status code, null for none at all (`HTTP/1.1 200\r\n`). */
  readonly reason: string | null;
  readonly fields: readonly Field[];
  /** Connection-management headers, inserted among `fields`. */
  readonly connection: readonly Field[];
  readonly framing: Framing;
  /** Where each framing header goes among the other fields. */
  readonly framingAt: number;
  /** Bytes after the response (another response, or garbage), when it has an end. */
  readonly rest: Buffer;
  readonly eof: boolean;
}

export interface SimpleSpec {
  readonly kind: 'http09';
  readonly method: string;
  readonly strict: boolean;
  readonly body: Buffer;
}

export type Spec = ResponseSpec | SimpleSpec;

const TCHAR = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** The visible ASCII characters (RFC 5234 VCHAR, 0x21-0x7E). */
export const VCHAR = (() => {
  let s = '';
  for (let c = 0x21; c <= 0x7e; c++) s += String.fromCharCode(c);
  return s;
})();
const OBS_TEXT = '\x80\xa0\xe9\xff';

/** true about one time in six. */
const rarely = (): fc.Arbitrary<boolean> =>
  fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, fc.constant(true));

const chars = (set: string): fc.Arbitrary<string> => fc.constantFrom(...set.split(''));

/** The names that decide framing or persistence: generated only on purpose. */
const SPECIAL = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
]);

/** Random upper/lower case of an ASCII word. */
export function oddCase(word: string): fc.Arbitrary<string> {
  return fc.array(fc.boolean(), { minLength: word.length, maxLength: word.length }).map((ups) =>
    word
      .split('')
      .map((c, i) => (ups[i] ? c.toUpperCase() : c.toLowerCase()))
      .join(''),
  );
}

export const tokenArb = fc.string({ unit: chars(TCHAR), minLength: 1, maxLength: 16 });

const fieldNameArb = fc
  .oneof(
    tokenArb,
    fc.constantFrom('Date', 'Server', 'Set-Cookie', 'Content-Type', 'X-Test', 'Link', 'Vary'),
    fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty'),
  )
  .chain((n) => oddCase(n))
  .filter((n) => !SPECIAL.has(n.toLowerCase()));

/** A field value: VCHAR/obs-text with inner SP/HTAB, maybe padded, maybe empty. */
const valueCoreArb = fc.string({
  unit: fc.oneof(
    { weight: 8, arbitrary: chars(VCHAR) },
    { weight: 2, arbitrary: chars(' \t') },
    { weight: 1, arbitrary: chars(OBS_TEXT) },
  ),
  maxLength: 40,
});
const padArb = fc.constantFrom('', '', ' ', '  ', '\t', ' \t');
const valueArb = fc
  .tuple(padArb, valueCoreArb, padArb)
  .map(([a, v, b]) => `${a}${v}${b}`)
  // A value of whitespace only would make a fold look like a blank line in interims.
  .filter((v) => !/^[ \t]+$/.test(v));

const foldArb = fc
  .tuple(fc.constantFrom(' ', '\t', '  ', ' \t'), valueCoreArb)
  // Not whitespace only: inside an interim response such a line ends the head (Python).
  .map(([ws, v]) => `${ws}${v.trim().length > 0 ? v : 'x'}`);

const fieldArb: fc.Arbitrary<Field> = fc.record({
  name: fieldNameArb,
  value: valueArb,
  folds: fc.oneof({ weight: 5, arbitrary: fc.constant([]) }, fc.array(foldArb, { maxLength: 2 })),
});

/** Fields with some duplicated (the same name, maybe in another case, again). */
const fieldsArb = fc
  .tuple(fc.array(fieldArb, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 3 }))
  .chain(([fields, dups]) => {
    if (fields.length === 0 || dups.length === 0) return fc.constant(fields);
    return fc
      .tuple(...dups.map((d) => oddCase((fields[d % fields.length] as Field).name)), valueArb)
      .map(([...parts]) => {
        const value = parts.pop() as string;
        return [...fields, ...parts.map((name) => ({ name, value, folds: [] }))];
      });
  });

const reasonArb = fc.oneof(
  fc.constantFrom('OK', 'Not Found', 'Continue', 'No Content', ''),
  fc.string({
    unit: fc.oneof(
      { weight: 8, arbitrary: chars(VCHAR) },
      { weight: 2, arbitrary: chars(' \t') },
      chars(OBS_TEXT),
    ),
    maxLength: 30,
  }),
);

const interimArb: fc.Arbitrary<Interim> = fc.record({
  status: fc
    .oneof(fc.constantFrom(100, 102, 103), fc.integer({ min: 100, max: 199 }))
    .filter((s) => s !== 101),
  reason: reasonArb,
  fields: fc.array(fieldArb, { maxLength: 3 }),
});

const bytesArb = (max: number): fc.Arbitrary<Buffer> =>
  fc
    .oneof(
      fc.uint8Array({ maxLength: max }),
      fc.string({ unit: chars('ab\r\n0 HTTP/1.1'), maxLength: max }).map((s) => Buffer.from(s)),
    )
    .map((u) => Buffer.from(u));

/** Decimal text of n, maybe with leading zeros. */
const decimal = (n: number): fc.Arbitrary<string> =>
  fc.nat(2).map((z) => '0'.repeat(z) + String(n));

const hexCase = (n: number): fc.Arbitrary<string> =>
  fc
    .tuple(fc.nat(2), fc.boolean())
    .map(([z, up]) => '0'.repeat(z) + (up ? n.toString(16).toUpperCase() : n.toString(16)));

const quotedArb = fc
  .string({ unit: chars(`${VCHAR.replace(/["\\]/g, '')} \t;`), maxLength: 12 })
  .map((s) => `"${s}"`);
const extArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant('') },
  fc
    .array(
      fc.tuple(
        fc.constantFrom('', ' ', '\t'),
        tokenArb,
        fc.option(fc.oneof(tokenArb, quotedArb), { nil: null }),
      ),
      { minLength: 1, maxLength: 3 },
    )
    .map((exts) => exts.map(([ws, n, v]) => `${ws};${n}${v === null ? '' : `=${v}`}`).join('')),
);

const chunkArb: fc.Arbitrary<Chunk> = fc.uint8Array({ minLength: 1, maxLength: 64 }).chain((data) =>
  fc.record({
    size: hexCase(data.length),
    ext: extArb,
    data: fc.constant(Buffer.from(data)),
  }),
);

const trailerArb = fc
  .tuple(fieldNameArb, valueArb)
  .map(([n, v]) => `${n}:${v.startsWith(' ') ? '' : ' '}${v}`);

const framingArb: fc.Arbitrary<Framing> = fc.oneof(
  bytesArb(300).chain((data) =>
    fc.record({
      kind: fc.constant('length' as const),
      texts: fc.array(decimal(data.length), { minLength: 1, maxLength: 3 }),
      data: fc.constant(data),
    }),
  ),
  fc.record({
    kind: fc.constant('chunked' as const),
    teName: oddCase('transfer-encoding'),
    teValue: oddCase('chunked'),
    cl: fc.option(fc.nat(99).map(String), { nil: null, freq: 4 }),
    chunks: fc.array(chunkArb, { maxLength: 5 }),
    last: fc.constantFrom('0', '00', '000'),
    trailers: fc.oneof(
      { weight: 3, arbitrary: fc.constant([]) },
      fc.array(trailerArb, { maxLength: 3 }),
    ),
  }),
  fc.record({ kind: fc.constant('eof' as const), data: bytesArb(300) }),
);

const connectionArb: fc.Arbitrary<Field[]> = fc
  .array(
    fc.oneof(
      fc
        .tuple(oddCase('connection'), fc.constantFrom('close', 'keep-alive', 'Keep-Alive', 'foo'))
        .map(([name, value]) => ({ name, value, folds: [] })),
      oddCase('keep-alive').map((name) => ({ name, value: 'timeout=5, max=100', folds: [] })),
      oddCase('proxy-connection').map((name) => ({ name, value: 'keep-alive', folds: [] })),
    ),
    { maxLength: 2 },
  )
  .map((fs) => [...fs]);

const responseArb: fc.Arbitrary<ResponseSpec> = fc
  .record({
    kind: fc.constant('http' as const),
    method: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom('GET', 'POST') },
      { weight: 2, arbitrary: fc.constant('HEAD') },
      { weight: 1, arbitrary: fc.constant('CONNECT') },
    ),
    lf: rarely(),
    interims: fc.oneof(
      { weight: 3, arbitrary: fc.constant([]) },
      fc.array(interimArb, { minLength: 1, maxLength: 3 }),
    ),
    version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/1.2', 'HTTP/1.9'),
    status: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(200, 201, 206, 301, 404, 500) },
      { weight: 2, arbitrary: fc.constantFrom(204, 304, 101) },
      { weight: 2, arbitrary: fc.integer({ min: 200, max: 999 }) },
    ),
    reason: fc.oneof({ weight: 6, arbitrary: reasonArb }, fc.constant(null)),
    fields: fieldsArb,
    connection: connectionArb,
    framing: framingArb,
    framingAt: fc.nat(),
    rest: fc.oneof(
      { weight: 2, arbitrary: fc.constant(Buffer.alloc(0)) },
      fc.constant(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')),
      bytesArb(40),
    ),
    eof: fc.boolean(),
  })
  .map((s) => ({ ...s, method: s.method === 'CONNECT' && s.status === 101 ? 'GET' : s.method }));

const simpleArb: fc.Arbitrary<SimpleSpec> = fc.record({
  kind: fc.constant('http09' as const),
  method: fc.constant('GET'),
  strict: rarely(),
  body: fc
    .tuple(chars('<{[0123456789abcxyz'), bytesArb(200))
    .map(([first, rest]) => Buffer.concat([Buffer.from(first), rest])),
});

/** Any valid response (mostly HTTP/1.x, sometimes HTTP/0.9). */
export const specArb: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 15, arbitrary: responseArb },
  { weight: 1, arbitrary: simpleArb },
);
