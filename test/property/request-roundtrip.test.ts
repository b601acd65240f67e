/**
 * Property (issue 6, item 2c): request heads written by this package parse back, in
 * `node:http`'s strict server (llhttp with no lenient flag), to the same method, target,
 * headers and body. Random methods (every method llhttp knows but CONNECT and PRI),
 * targets (origin form with every printable ASCII char, `*`, absolute form), header
 * names in odd case and duplicated (`__proto__` too), values with inner and padding
 * whitespace, obs-text and coerced non-strings (numbers, bigints, bytes, objects with
 * `toString`), headers given as an object, a Map or pairs, the caller's own `Host` or
 * `Accept-Encoding`, and bodies of every kind (string, bytes, ArrayBuffer, Blob, Readable,
 * (async) iterables, fs.ReadStream, FileHandle), through
 * `request()` or `putrequest`/`putheader`/`endheaders` over a real socket.
 *
 * Folded values (`putheader(name, v1, v2)`, or a value holding CRLF + SP/HTAB) are
 * legal for us but refused by llhttp's strict mode (obs-fold is off since
 * CVE-2024-27982), so heads with a fold go to a second server with `insecureHTTPParser`,
 * which joins a fold by dropping its CRLF.
 */
import assert from 'node:assert/strict';
import { Blob } from 'node:buffer';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { HTTPConnection, type RequestBody } from '../../src/client/http-connection.ts';
import { checkAsync } from './config.ts';
import { oddCase, tokenArb, VCHAR } from './response-model.ts';

const FILE = 'test/property/request-roundtrip.test.ts';

interface Received {
  method: string;
  url: string;
  rawHeaders: string[];
  body: string;
}

interface Server {
  port: number;
  received: Received[];
  errors: string[];
  close(): Promise<void>;
}

async function server(insecureHTTPParser: boolean): Promise<Server> {
  const received: Received[] = [];
  const errors: string[] = [];
  const srv = http.createServer({ insecureHTTPParser }, (req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(parts).toString('latin1'),
      });
      res.writeHead(200, { 'Content-Length': '0' });
      res.end();
    });
  });
  srv.on('clientError', (err: Error & { code?: string; reason?: string }, socket) => {
    errors.push(`${err.code}: ${err.reason ?? err.message}`);
    socket.destroy();
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as AddressInfo).port,
    received,
    errors,
    close: () =>
      new Promise<void>((resolve) => {
        srv.closeAllConnections();
        srv.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------
// generators

/** Names node:http treats specially (framing, upgrade, expectations): not generated. */
const RESERVED = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'upgrade',
  'expect',
  'host',
  'accept-encoding',
]);

const methodArb = fc.constantFrom(...http.METHODS.filter((m) => m !== 'CONNECT' && m !== 'PRI'));

const printable = fc.constantFrom(...VCHAR.split(''));

const targetArb = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: printable, maxLength: 40 }).map((p) => `/${p}`) },
  fc.constant(''),
  fc.constant('*'),
  fc
    .tuple(
      fc.constantFrom('example.com', 'h', '[::1]', '127.0.0.1:8080'),
      fc.string({ unit: printable, maxLength: 20 }),
    )
    .map(([host, p]) => `http://${host}/${p}`),
);

const nameArb = fc
  .oneof(tokenArb, fc.constantFrom('__proto__', 'constructor', 'toString', 'X-Forwarded-For'))
  .chain(oddCase)
  .filter((n) => !RESERVED.has(n.toLowerCase()));

/** A field value as RFC 9110 allows it: VCHAR / obs-text, inner SP/HTAB, padding. */
const VALUE_CHARS = `${VCHAR}  \t\x80\xa0\xe9\xff`;
const valueTextArb = fc.string({ unit: fc.constantFrom(...VALUE_CHARS.split('')), maxLength: 30 });
const foldedArb = fc
  .tuple(valueTextArb, fc.constantFrom('\r\n ', '\r\n\t', '\r\n  '), valueTextArb)
  .map(([a, f, b]) => `${a}${f}${b.trim() === '' ? 'x' : b}`);

/** A header value as given (maybe not a string) and the text it becomes. */
interface Value {
  readonly given: unknown;
  readonly text: string;
}

const valueArb: fc.Arbitrary<Value> = fc.oneof(
  { weight: 8, arbitrary: valueTextArb.map((t) => ({ given: t, text: t })) },
  { weight: 1, arbitrary: foldedArb.map((t) => ({ given: t, text: t })) },
  fc.integer({ min: -1e6, max: 1e6 }).map((n) => ({ given: n, text: String(n) })),
  fc.bigInt({ min: 0n, max: 2n ** 70n }).map((n) => ({ given: n, text: n.toString() })),
  valueTextArb.map((t) => ({ given: Buffer.from(t, 'latin1'), text: t })),
  valueTextArb.map((t) => ({ given: { toString: () => t }, text: t })),
);

type BodyKind =
  | 'string'
  | 'buffer'
  | 'uint8array'
  | 'arraybuffer'
  | 'blob'
  | 'readable'
  | 'async-iterable'
  | 'iterable'
  | 'read-stream'
  | 'file-handle';

interface BodySpec {
  readonly kind: BodyKind;
  /** The body's pieces (strings are sent as UTF-8). */
  readonly pieces: readonly (string | Buffer)[];
}

const bodyArb: fc.Arbitrary<BodySpec | null> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  fc
    .string({ unit: 'binary', maxLength: 100 })
    .map((s) => ({ kind: 'string' as const, pieces: [s] })),
  fc
    .tuple(
      fc.constantFrom<BodyKind>(
        'buffer',
        'uint8array',
        'arraybuffer',
        'blob',
        'read-stream',
        'file-handle',
      ),
      fc.uint8Array({ maxLength: 300 }),
    )
    .map(([kind, u]) => ({ kind, pieces: [Buffer.from(u)] })),
  fc
    .tuple(
      fc.constantFrom<BodyKind>('readable', 'async-iterable', 'iterable'),
      fc.array(fc.uint8Array({ minLength: 0, maxLength: 80 }), { maxLength: 4 }),
    )
    .map(([kind, us]) => ({ kind, pieces: us.map((u) => Buffer.from(u)) })),
);

function bodyBytes(b: BodySpec): Buffer {
  return Buffer.concat(b.pieces.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
}

/** Files made for file bodies, removed after the test. */
const TMP = mkdtempSync(join(tmpdir(), 'httplib-roundtrip-'));
let files = 0;

async function makeBody(b: BodySpec): Promise<RequestBody> {
  const bytes = bodyBytes(b);
  switch (b.kind) {
    case 'read-stream':
    case 'file-handle': {
      const path = join(TMP, `body-${files++}`);
      writeFileSync(path, bytes);
      return b.kind === 'read-stream' ? createReadStream(path) : await open(path, 'r');
    }
    case 'string':
      return b.pieces[0];
    case 'buffer':
      return bytes;
    case 'uint8array':
      return new Uint8Array(bytes);
    case 'arraybuffer':
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
    case 'blob':
      return new Blob([bytes]);
    case 'readable':
      return Readable.from(b.pieces.map((p) => Buffer.from(p)));
    case 'async-iterable':
      return (async function* () {
        for (const p of b.pieces) yield p;
      })();
    case 'iterable':
      return [...b.pieces];
  }
}

/** Length known before sending (else the body goes chunked). */
function knownLength(b: BodySpec): boolean {
  return !['readable', 'async-iterable', 'iterable'].includes(b.kind);
}

interface RequestCase {
  readonly api: 'request' | 'putrequest';
  readonly method: string;
  readonly target: string;
  readonly headers: ReadonlyArray<readonly [string, Value]>;
  /** How `request()` is given the headers. */
  readonly form: 'pairs' | 'object' | 'map';
  readonly host: string | null;
  readonly acceptEncoding: string | null;
  readonly body: BodySpec | null;
  /** putrequest only: several values of one header, sent as a folded line. */
  readonly multi: readonly [string, readonly string[]] | null;
}

const caseArb: fc.Arbitrary<RequestCase> = fc.record({
  api: fc.oneof(
    { weight: 3, arbitrary: fc.constant('request' as const) },
    fc.constant('putrequest' as const),
  ),
  method: methodArb,
  target: targetArb,
  headers: fc.array(fc.tuple(nameArb, valueArb), { maxLength: 8 }),
  form: fc.constantFrom('pairs' as const, 'object' as const, 'map' as const),
  host: fc.option(fc.constantFrom('example.com', 'example.com:8080', '[::1]:81'), { nil: null }),
  acceptEncoding: fc.option(fc.constantFrom('gzip', 'identity', 'br, gzip;q=0.5'), { nil: null }),
  body: bodyArb,
  multi: fc.option(
    fc.tuple(
      nameArb,
      fc.array(
        valueTextArb.map((v) => (v.trim() === '' ? 'x' : v)),
        { minLength: 2, maxLength: 3 },
      ),
    ),
    { nil: null, freq: 3 },
  ),
});

// ---------------------------------------------------------------------------------------
// the expected parse

/** The header pairs as `request()` sees them (an object keeps only the last of a name). */
function givenPairs(c: RequestCase): Array<[string, Value]> {
  const pairs: Array<[string, Value]> = [];
  if (c.host !== null) pairs.push(['Host', { given: c.host, text: c.host }]);
  if (c.acceptEncoding !== null) {
    pairs.push(['Accept-Encoding', { given: c.acceptEncoding, text: c.acceptEncoding }]);
  }
  for (const [n, v] of c.headers) pairs.push([n, v]);
  if (c.api !== 'request' || c.form === 'pairs') return pairs;
  // Built the way headersInput builds what request() gets: same key order, last one wins.
  return c.form === 'map' ? [...new Map(pairs)] : Object.entries(Object.fromEntries(pairs));
}

function headersInput(c: RequestCase, pairs: Array<[string, Value]>): unknown {
  const given = pairs.map(([n, v]) => [n, v.given] as [string, unknown]);
  if (c.form === 'map') return new Map(given);
  if (c.form === 'object') return Object.fromEntries(given);
  return given;
}

/** What node reports for a value: obs-fold CRLFs dropped, SP/HTAB padding trimmed. */
function parsedValue(text: string): string {
  return text.replace(/\r\n/g, '').replace(/^[ \t]+|[ \t]+$/g, '');
}

function expectedHead(
  c: RequestCase,
  pairs: Array<[string, Value]>,
  port: number,
): { url: string; headers: string[]; body: string } {
  const url = c.target === '' ? '/' : c.target;
  const names = new Set(pairs.map(([n]) => n.toLowerCase()));
  const out: string[] = [];
  if (!names.has('host')) {
    const netloc = /^http:\/\/([^/?#]*)/.exec(url)?.[1];
    out.push('Host', netloc ?? `127.0.0.1:${port}`);
  }
  if (!names.has('accept-encoding')) out.push('Accept-Encoding', 'identity');
  const body = c.body === null ? null : bodyBytes(c.body);
  if (c.api === 'request') {
    if (c.body === null) {
      if (['POST', 'PUT', 'PATCH'].includes(c.method)) out.push('Content-Length', '0');
    } else if (knownLength(c.body)) {
      out.push('Content-Length', String(body?.length));
    } else {
      out.push('Transfer-Encoding', 'chunked');
    }
  } else if (body !== null) {
    out.push('Content-Length', String(body.length));
  }
  for (const [n, v] of pairs) out.push(n, parsedValue(v.text));
  if (c.api === 'putrequest' && c.multi !== null) {
    out.push(c.multi[0], parsedValue(c.multi[1].join('\r\n\t')));
  }
  return { url, headers: out, body: body === null ? '' : body.toString('latin1') };
}

function hasFold(c: RequestCase, pairs: Array<[string, Value]>): boolean {
  return (
    (c.api === 'putrequest' && c.multi !== null) || pairs.some(([, v]) => v.text.includes('\r\n'))
  );
}

// ---------------------------------------------------------------------------------------

async function send(c: RequestCase, pairs: Array<[string, Value]>, port: number): Promise<void> {
  const conn = new HTTPConnection('127.0.0.1', port, { timeout: 5 });
  try {
    if (c.api === 'request') {
      const body = c.body === null ? null : await makeBody(c.body);
      try {
        await conn.request(c.method, c.target, body, headersInput(c, pairs) as never);
      } finally {
        // httplib never closes a file it was given (Python neither): the caller does.
        if (body !== null && typeof (body as FileHandle).readableWebStream === 'function') {
          await (body as FileHandle).close();
        }
      }
    } else {
      const names = new Set(pairs.map(([n]) => n.toLowerCase()));
      conn.putrequest(c.method, c.target, {
        skip_host: names.has('host'),
        skip_accept_encoding: names.has('accept-encoding'),
      });
      const body = c.body === null ? null : bodyBytes(c.body);
      if (body !== null) conn.putheader('Content-Length', body.length);
      for (const [n, v] of pairs) conn.putheader(n, v.given as never);
      if (c.multi !== null) conn.putheader(c.multi[0], ...c.multi[1]);
      await conn.endheaders(body);
    }
    const response = await conn.getresponse();
    await response.read();
  } finally {
    conn.close();
  }
}

describe('property: request heads we write parse back in node:http', () => {
  let strict: Server;
  let lenient: Server;
  before(async () => {
    strict = await server(false);
    lenient = await server(true);
  });
  after(async () => {
    rmSync(TMP, { recursive: true, force: true });
    await strict.close();
    await lenient.close();
  });

  it('same method, target, headers (in order) and body', async () => {
    await checkAsync(
      FILE,
      fc.asyncProperty(caseArb, async (c) => {
        // An object or Map of the pairs can only keep one of a repeated name.
        const pairs = givenPairs(c);
        const peer = hasFold(c, pairs) ? lenient : strict;
        const before = peer.received.length;
        try {
          await send(c, pairs, peer.port);
        } catch (err) {
          assert.fail(`request failed: ${String(err)}; server said: ${peer.errors.join('; ')}`);
        }
        assert.deepEqual(peer.errors, []);
        assert.equal(peer.received.length, before + 1);
        const got = peer.received[before] as Received;
        const want = expectedHead(c, pairs, peer.port);
        assert.equal(got.method, c.method);
        assert.equal(got.url, want.url);
        assert.deepEqual(got.rawHeaders, want.headers);
        assert.equal(got.body, want.body);
      }),
      3000,
    );
  });
});
