/**
 * The declarations of `httplib-ts/sync` are the main entry's, turned blocking: values
 * where the main entry returns promises, `Iterable` where it has `AsyncIterable`, the
 * blocking classes where it names its own, no `signal` options, no `@internal` hooks.
 * Checked by compiling modules that use them (with the project's compiler options).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import ts from 'typescript';
import { type TempDir, tempDir } from '../cli/cli-harness.ts';
import { typecheckModules } from '../docs/typecheck.ts';
import { MAIN_ENTRY, SYNC_ENTRY } from './peer.ts';

const tmp: TempDir = tempDir();
after(() => tmp.remove());

const HEADER = `import * as httplib from ${JSON.stringify(SYNC_ENTRY)};
import * as main from ${JSON.stringify(MAIN_ENTRY)};
declare const conn: httplib.HTTPConnection;
declare const r: httplib.HTTPResponse;
declare const h: httplib.HTTP;
`;

function diagnostics(body: string): string[] {
  return typecheckModules(tmp.dir, [`${HEADER}${body}\nexport {};\n`]).map((d) =>
    ts.flattenDiagnosticMessageText(d.messageText, '\n'),
  );
}

describe('the blocking declarations', () => {
  it('type blocking use as Python code reads', () => {
    const found = diagnostics(`
const sent: void = conn.request('GET', '/', 'body', { Accept: '*/*' }, { encode_chunked: false });
const response: httplib.HTTPResponse = conn.getresponse();
const whole: Buffer = response.read();
const some: Buffer = r.read(10);
const n: number = r.readinto(Buffer.alloc(8));
const one: Buffer = r.read1();
const line: Buffer = r.readline();
const text: string = r.text();
const parsed: unknown = r.json();
for (const chunk of r) { const b: Buffer = chunk; void b; }
const header: string | null = r.getheader('x');
const orDefault: string | number = r.getheader('x', 0);
const msg: main.HTTPMessage = r.msg;
const length: number | null = r.length;
const file: httplib.HTTPResponse | null = h.getfile();
const reply: [number, string, main.HTTPMessage | null] = h.getreply();
const inner: httplib.HTTPConnection = h._conn;
const sock: httplib.SocketInfo | null = conn.sock;
const tls = new httplib.HTTPSConnection('h', 443, { context: httplib.ssl.create_default_context(), timeout: 3 });
const port: number = httplib.HTTPSConnection.default_port;
const ctx: main.ssl.SSLContext = tls._context;
const err: main.IncompleteRead = new httplib.IncompleteRead(Buffer.alloc(0));
const body: httplib.RequestBody = 3;
conn.request('PUT', '/', 3);
conn.request('PUT', '/', (function* () { yield 'x'; })());
conn.request('PUT', '/', null as unknown as import('node:fs').ReadStream);
void [sent, whole, some, n, one, line, text, parsed, header, orDefault, msg, length, file, reply, inner, sock, port, ctx, err, body];
`);
    assert.deepEqual(found, []);
  });

  for (const [what, body, message] of [
    [
      'signal options',
      "conn.request('GET', '/', null, null, { signal: AbortSignal.timeout(1) });",
      /signal/,
    ],
    [
      'a signal in the constructor',
      "new httplib.HTTPConnection('h', 80, { signal: AbortSignal.timeout(1) });",
      /signal/,
    ],
    [
      'createConnection',
      "new httplib.HTTPConnection('h', 80, { createConnection: () => { throw 0; } });",
      /createConnection/,
    ],
    ['a promise where there is none', 'const p: Promise<Buffer> = r.read();', /Promise/],
    ['async iteration of a response', 'r[Symbol.asyncIterator]();', /asyncIterator/],
    ['the internal hooks', 'r.takeOwnership();', /takeOwnership/],
    [
      'an async iterable body',
      "conn.request('PUT', '/', (async function* () { yield 'x'; })());",
      /AsyncGenerator|RequestBody/,
    ],
    [
      'a Readable body',
      "conn.request('PUT', '/', null as unknown as import('node:stream').Readable);",
      /Readable|RequestBody/,
    ],
    [
      "the main entry's response where the blocking one is",
      'const x: main.HTTPResponse = conn.getresponse();',
      /HTTPResponse/,
    ],
  ] as const) {
    it(`refuse ${what}`, () => {
      const found = diagnostics(body);
      assert.ok(found.length > 0, `no error for: ${body}`);
      assert.match(found.join('\n'), message);
    });
  }
});
