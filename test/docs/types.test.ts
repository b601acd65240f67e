/**
 * The public types guide (issue 16): request bodies are `RequestBody`, header values are
 * `HeaderValue` (strings, numbers, bigints, bytes), in every signature that takes them:
 * `request`, `send`, `endheaders`, `putheader`, `set_tunnel`, `request()`'s headers as an
 * object (one typed by an interface too), a `Map` or pairs, and the legacy `HTTP`/`HTTPS`
 * classes. Numbers the run time always refuses do not compile either: `verify_mode`,
 * `minimum_version`/`maximum_version` and `SSLContext`'s protocol take their constants'
 * values; `readinto()` takes what the run time does (any ArrayBuffer view).
 *
 * Each wrong call is compiled twice with the project's compiler options: as written it
 * must fail on its own line (so a case cannot pass by a typo elsewhere), and under
 * `// @ts-expect-error` it must compile (so the directive is not hiding another error).
 * If the types loosen (`unknown` again), the first compile finds no error and the test
 * fails. The right calls must compile with no error at all.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import ts from 'typescript';
import { type TempDir, tempDir } from '../cli/cli-harness.ts';
import { INDEX, SYNC, typecheckModules } from './typecheck.ts';

const PRELUDE = `import * as httplib from ${JSON.stringify(INDEX)};
import * as blocking from ${JSON.stringify(SYNC)};
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
declare const conn: httplib.HTTPConnection;
declare const secure: httplib.HTTPSConnection;
declare const legacy: httplib.HTTP;
declare const blockingConn: blocking.HTTPConnection;
declare const signal: AbortSignal;
declare const maybeToken: string | undefined;
declare const anything: unknown;
declare const response: httplib.HTTPResponse;
declare const blockingResponse: blocking.HTTPResponse;
declare const context: httplib.ssl.SSLContext;
interface FormHeaders { 'Content-Type': string; Accept?: string }
interface BadHeaders { 'Content-Type': string; Retry: boolean }
declare const formHeaders: FormHeaders;
declare const badHeaders: BadHeaders;
export {};
`;

/** Calls that must not compile: each is one line. */
const WRONG: readonly string[] = [
  "await conn.request('POST', '/x', { name: 'Obj' });",
  "await conn.request('POST', '/x', 42);",
  "await conn.request('POST', '/x', anything);",
  "await conn.request('POST', '/x', [{ name: 'Obj' }]);",
  "conn.putheader('X', undefined);",
  "conn.putheader('X', null);",
  "conn.putheader('X', { a: 1 });",
  "conn.putheader('X', 'first', undefined);",
  "conn.putheader('X', ['a', 'b']);",
  "conn.putheader('X', anything);",
  "await conn.request('GET', '/', null, { Authorization: maybeToken });",
  "await conn.request('GET', '/', null, { X: {} });",
  "await conn.request('GET', '/', null, { X: null });",
  "await conn.request('GET', '/', null, new Map([['X', undefined]]));",
  "await conn.request('GET', '/', null, [['X', { a: 1 }]]);",
  "await conn.send({ name: 'Obj' });",
  'await conn.send(42);',
  'await conn.send(null);',
  'await conn.send(undefined);',
  'await legacy.send(null);',
  'blockingConn.send(null);',
  "blockingConn.send((async function* () { yield 'x'; })());",
  "blockingConn.send(Readable.from(['a']));",
  "new blocking.HTTP('h').send((async function* () { yield 'x'; })());",
  "await conn.endheaders({ name: 'Obj' });",
  'await conn.endheaders(42);',
  "secure.set_tunnel('origin.test', 443, { 'Proxy-Authorization': maybeToken });",
  "await secure.request('PUT', '/x', { name: 'Obj' });",
  "legacy.putheader('X', undefined);",
  'await legacy.send(42);',
  'await legacy.endheaders({});',
  "const status: httplib.HTTPStatusName = 'NOPE';",
  'blockingConn.getresponse({ signal });',
  "blockingConn.request('GET', '/', null, {}, { signal });",
  'blockingConn.getresponse().read(1, { signal });',
  "await conn.request('GET', '/', null, badHeaders);",
  "await conn.request('GET', '/', null, 'X: 1');",
  "secure.set_tunnel('origin.test', 443, badHeaders);",
  "blockingConn.request('GET', '/', null, badHeaders);",
  "blockingConn.request('GET', '/', null, { X: {} });",
  "blockingConn.set_tunnel('origin.test', 443, { X: null });",
  'context.verify_mode = 5;',
  'context.minimum_version = 5;',
  'context.maximum_version = 0x0305;',
  'new httplib.ssl.SSLContext(99);',
  "new httplib.HTTP('h', 80, null, conn);",
  "new blocking.HTTP('h', 80, null, blockingConn);",
  'await response.readinto(new ArrayBuffer(4));',
  'blockingResponse.readinto([0, 0]);',
];

/** Calls that must compile: every body kind, every header value kind and shape. */
const RIGHT = `
const body: httplib.RequestBody = 'text';
const value: httplib.HeaderValue = 42n;
await conn.request('GET', '/');
await conn.request('GET', '/', null);
await conn.request('GET', '/', undefined, { Accept: 'text/plain' });
await conn.request('POST', '/', body);
await conn.request('POST', '/', Buffer.from('bytes'));
await conn.request('POST', '/', new Uint8Array(2));
await conn.request('POST', '/', new ArrayBuffer(2));
await conn.request('POST', '/', new DataView(new ArrayBuffer(2)));
await conn.request('POST', '/', new Blob(['blob']));
await conn.request('POST', '/', createReadStream('file'));
await conn.request('POST', '/', await open('file'));
await conn.request('POST', '/', Readable.from(['a']));
await conn.request('POST', '/', ['a', Buffer.from('b')]);
await conn.request('POST', '/', (function* () { yield 'a'; })());
await conn.request('POST', '/', (async function* () { yield Buffer.from('a'); })());
await conn.request('POST', '/', 'x', {
  'Content-Type': 'text/plain',
  'Content-Length': 1,
  'X-Big': 2n ** 64n,
  'X-Bytes': Buffer.from('b'),
  'X-Value': value,
});
const record: Record<string, string> = { A: 'a' };
await conn.request('GET', '/', null, record);
await conn.request('GET', '/', null, new Map([['A', 'a']]));
await conn.request('GET', '/', null, new Map<string, httplib.HeaderValue>([['A', 1]]));
await conn.request('GET', '/', null, [['A', 'a'], ['B', 2]]);
await conn.request('GET', '/', null, [['A', 'a']] as const);
await conn.request('GET', '/', null, null, { encode_chunked: false });
conn.putrequest('PUT', '/file');
conn.putheader('Content-Length', 18);
conn.putheader('X-Folded', 'first', 2, 3n, Buffer.from('four'));
conn.putheader('X-Empty');
await conn.endheaders('***filecontents***');
await conn.endheaders();
await conn.send(Buffer.from('more'));
secure.set_tunnel('origin.test', 443, { 'Proxy-Authorization': 'Basic dXNlcjpwYXNz' });
secure.set_tunnel('origin.test', 443, new Map([['X-Hop', 1]]));
secure.set_tunnel('origin.test');
legacy.putheader('X', 1, 'two');
await legacy.endheaders('body');
await legacy.send(new Uint8Array(1));
conn.sock?.setNoDelay(true);
console.log(conn.sock?.remoteAddress, secure.sock?.localPort);
httplib.setdefaulttimeout(undefined);
blockingConn.getresponse({});
blockingConn.getresponse({ signal: undefined });
const status: httplib.HTTPStatusName = 'NOT_FOUND';
const code: number = httplib.HTTPStatus[status];
console.log(code === httplib.NOT_FOUND);
await conn.request('POST', '/', 'a=1', formHeaders);
secure.set_tunnel('origin.test', 443, formHeaders);
blockingConn.request('POST', '/', 'a=1', formHeaders);
blockingConn.request('GET', '/', null, { Accept: 'text/plain', 'X-N': 1 });
blockingConn.set_tunnel('origin.test', 443, formHeaders);
const someHeaders = [{}, { Accept: 'text/plain' }] as const;
await conn.request('GET', '/', null, someHeaders[1]);
const maybeHeaders: {} | { Accept: string } = {};
await conn.request('GET', '/', null, maybeHeaders);
const anyHeaders: httplib.HeadersInput = { Accept: 'text/plain' };
await conn.request('GET', '/', null, anyHeaders);
context.verify_mode = httplib.ssl.CERT_OPTIONAL;
context.minimum_version = httplib.ssl.TLSVersion.TLSv1_2;
context.maximum_version = httplib.ssl.TLSVersion.MAXIMUM_SUPPORTED;
const mode: number = context.verify_mode;
const version: httplib.ssl.TLSVersion = context.minimum_version;
const protocol: httplib.ssl.SSLMethod = new httplib.ssl.SSLContext(httplib.ssl.PROTOCOL_TLS).protocol;
console.log(mode, version, protocol, new httplib.ssl.SSLContext().protocol);
new httplib.HTTP('h', 80, true);
new blocking.HTTP('h', 80, null);
await response.readinto(new DataView(new ArrayBuffer(4)));
await response.readinto1(new Uint16Array(2));
blockingResponse.readinto(new DataView(new ArrayBuffer(4)));
blockingResponse.readinto1(Buffer.alloc(4));
blockingConn.send(3);
blockingConn.send(createReadStream('file'));
blockingConn.send((function* () { yield 'a'; })());
new blocking.HTTP('h').send(await open('file'));
`;

describe('the public types refuse wrong calls at compile time', () => {
  let tmp: TempDir;
  let diagnostics: Map<number, ts.Diagnostic[]>;
  /** The line (0-based) of the case in each wrong module. */
  const caseLine = PRELUDE.split('\n').length - 1;

  before(() => {
    tmp = tempDir();
    const sources = [
      `${PRELUDE}${RIGHT}`,
      ...WRONG.map((line) => `${PRELUDE}${line}\n`),
      ...WRONG.map((line) => `${PRELUDE}// @ts-expect-error\n${line}\n`),
    ];
    diagnostics = new Map(sources.map((_, i) => [i, []]));
    for (const d of typecheckModules(tmp.dir, sources)) {
      const name = d.file === undefined ? '' : path.basename(d.file.fileName);
      const index = /^module-(\d+)\.mts$/.exec(name);
      assert.ok(index, `a diagnostic outside the modules: ${text([d])}`);
      diagnostics.get(Number(index[1]))?.push(d);
    }
  });

  after(() => tmp?.remove());

  it('compiles every right call (bodies, header values and shapes, legacy classes)', () => {
    const found = diagnostics.get(0) ?? [];
    assert.equal(found.length, 0, text(found));
  });

  for (const [i, line] of WRONG.entries()) {
    it(`refuses: ${line}`, () => {
      const found = diagnostics.get(1 + i) ?? [];
      assert.ok(found.length > 0, `compiled without an error: the types accept ${line}`);
      for (const d of found) {
        const at =
          d.file === undefined || d.start === undefined
            ? -1
            : d.file.getLineAndCharacterOfPosition(d.start).line;
        assert.equal(at, caseLine, `an error on another line than the case's:\n${text([d])}`);
      }
      const expected = diagnostics.get(1 + WRONG.length + i) ?? [];
      assert.equal(expected.length, 0, `under @ts-expect-error:\n${text(expected)}`);
    });
  }
});

describe("a Blob body in a project whose lib has the DOM's (TypeScript's default lib)", () => {
  it('compiles: the global Blob, whichever declares it, is a RequestBody in both entries', () => {
    const tmp = tempDir();
    try {
      const source = `import * as httplib from ${JSON.stringify(INDEX)};
import * as sync from ${JSON.stringify(SYNC)};
declare const conn: httplib.HTTPConnection;
declare const blocking: sync.HTTPConnection;
await conn.request('PUT', '/', new Blob(['x']));
blocking.request('PUT', '/', new Blob(['x']));
const body: httplib.RequestBody = new Blob(['x']);
`;
      const found = typecheckModules(tmp.dir, [source], {
        lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
      });
      assert.equal(found.length, 0, text(found));
    } finally {
      tmp.remove();
    }
  });
});

function text(diagnostics: readonly ts.Diagnostic[]): string {
  return ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => process.cwd(),
    getNewLine: () => '\n',
  });
}
