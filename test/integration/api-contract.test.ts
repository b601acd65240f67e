/**
 * shared/API.md, statement by statement: the statements that no other test pinned down
 * (found by an audit of test/ and test/conformance/scenarios against API.md). Each test
 * names the statement it holds, runs against real peers on 127.0.0.1, and asserts exact
 * values, classes and the bytes on the wire.
 *
 * Where the implementation disagrees with API.md, the test is written as API.md says and
 * marked `todo` (it runs, and its failure is reported, without failing CI).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as net from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import * as tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  getdefaulttimeout,
  HTTP,
  HTTP_PORT,
  HTTPConnection,
  HTTPException,
  HTTPMessage,
  HTTPResponse,
  HTTPS,
  HTTPS_PORT,
  HTTPSConnection,
  setdefaulttimeout,
  ssl,
  TimeoutError,
} from '../../src/index.ts';
import { type RawServer, rawServer, scriptedServer } from './servers.ts';
import { httpsServer, makePki, type Pki } from './tls-peers.ts';

const HOST = '127.0.0.1';
const INDEX = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
const EMPTY_OK = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

/** `request(...)` heads as this package writes them to `srv`. */
function head(srv: RawServer, line: string, extra = ''): string {
  return `${line}\r\nHost: ${HOST}:${srv.port}\r\nAccept-Encoding: identity\r\n${extra}\r\n`;
}

/** Wait (up to 5 s) until connection `index` received `expected.length` bytes, then compare. */
async function receivedExactly(srv: RawServer, index: number, expected: string): Promise<void> {
  const want = Buffer.byteLength(expected, 'latin1');
  const deadline = Date.now() + 5000;
  while ((srv.received[index]?.length ?? 0) < want && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  // A little longer: anything sent beyond the expected bytes must show up too.
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal((srv.received[index] ?? Buffer.alloc(0)).toString('latin1'), expected);
}

function isThenable(v: unknown): boolean {
  return (
    typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function'
  );
}

/** A port nobody listens on right now (on `host`). */
async function freePort(host = HOST): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Run `script` (an ES module; `INDEX` is the package) in a child Node with tsx. */
async function runChild(script: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const child = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    { env: { ...process.env, ...env }, encoding: 'latin1', timeout: 30_000 },
  );
  return child.stdout;
}

describe('API.md: the module', () => {
  it('HTTP_PORT is 80 and HTTPS_PORT is 443, and they are the classes’ default ports', () => {
    assert.equal(HTTP_PORT, 80);
    assert.equal(HTTPS_PORT, 443);
    assert.equal(HTTPConnection.default_port, HTTP_PORT);
    assert.equal(HTTPSConnection.default_port, HTTPS_PORT);
    assert.equal(new HTTPConnection('example.invalid').port, HTTP_PORT);
  });
});

describe('API.md mapping rules', () => {
  it('None is null, and undefined is accepted wherever null is', async () => {
    assert.equal(getdefaulttimeout(), null);
    // Constructor: port and options.
    const a = new HTTPConnection('example.invalid', undefined, {
      timeout: undefined,
      source_address: undefined,
    });
    const b = new HTTPConnection('example.invalid', null, { timeout: null, source_address: null });
    for (const c of [a, b]) {
      assert.equal(c.port, 80);
      assert.equal(c.timeout, null);
      assert.equal(c.source_address, null);
    }
    // setdefaulttimeout(None).
    setdefaulttimeout(1.5);
    try {
      assert.equal(getdefaulttimeout(), 1.5);
      setdefaulttimeout(undefined as unknown as null);
      assert.equal(getdefaulttimeout(), null);
    } finally {
      setdefaulttimeout(null);
    }
    // request(body = undefined, headers = undefined), putrequest/endheaders options,
    // set_tunnel(port = undefined, headers = undefined): the same bytes as with null.
    const srv = await scriptedServer([[EMPTY_OK, EMPTY_OK, EMPTY_OK, EMPTY_OK]]);
    const conn = new HTTPConnection(HOST, srv.port);
    try {
      for (const nothing of [null, undefined]) {
        await conn.request('GET', '/r', nothing, nothing);
        assert.deepEqual(await (await conn.getresponse()).read(), Buffer.alloc(0));
        conn.putrequest('GET', '/p', nothing);
        await conn.endheaders(nothing);
        assert.deepEqual(await (await conn.getresponse()).read(), Buffer.alloc(0));
      }
      const once = head(srv, 'GET /r HTTP/1.1') + head(srv, 'GET /p HTTP/1.1');
      await receivedExactly(srv, 0, once + once);
    } finally {
      conn.close();
      await srv.close();
    }
    const proxy = await scriptedServer([['HTTP/1.0 200 Connection established\r\n\r\n', OK]]);
    const tunnelled = new HTTPConnection(HOST, proxy.port);
    try {
      tunnelled.set_tunnel('origin.invalid', undefined, undefined);
      await tunnelled.request('GET', '/t');
      assert.equal((await (await tunnelled.getresponse()).read()).toString(), 'ok');
      await receivedExactly(
        proxy,
        0,
        'CONNECT origin.invalid:80 HTTP/1.0\r\n\r\n' +
          'GET /t HTTP/1.1\r\nHost: origin.invalid\r\nAccept-Encoding: identity\r\n\r\n',
      );
    } finally {
      tunnelled.close();
      await proxy.close();
    }
  });

  it('socket I/O calls return a Promise; calls that only buffer or inspect state do not', async () => {
    const body = 'line one\nline two\nxyz';
    const srv = await scriptedServer([
      [
        `HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        'HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{"a":1}',
        OK,
      ],
    ]);
    const conn = new HTTPConnection(HOST, srv.port, { debugOutput: () => {} });
    try {
      const connected = conn.connect();
      assert.ok(connected instanceof Promise, 'connect()');
      await connected;
      assert.equal(conn.set_debuglevel(0), undefined);
      const started = conn.putrequest('GET', '/one');
      assert.equal(started, undefined, 'putrequest()');
      assert.equal(conn.putheader('X-Req', '1'), undefined, 'putheader()');
      const ended = conn.endheaders();
      assert.ok(ended instanceof Promise, 'endheaders()');
      await ended;
      const pending = conn.getresponse();
      assert.ok(pending instanceof Promise, 'getresponse()');
      const r = await pending;
      assert.ok(r instanceof HTTPResponse);
      // Synchronous inspection.
      for (const [what, v] of [
        ['getheader', r.getheader('x-a')],
        ['getheaders', r.getheaders()],
        ['fileno', r.fileno()],
        ['isclosed', r.isclosed()],
        ['getcode', r.getcode()],
        ['info', r.info()],
      ] as const) {
        assert.ok(!isThenable(v), `${what}() must not return a promise`);
      }
      assert.equal(r.getheader('x-a'), '1');
      assert.equal(r.isclosed(), false);
      assert.ok(r.info() instanceof HTTPMessage);
      // Every read* is a promise, and together they give the body, in order.
      const peeked = r.peek(1);
      assert.ok(peeked instanceof Promise, 'peek()');
      assert.ok(Buffer.isBuffer(await peeked));
      const got: Buffer[] = [];
      const p1 = r.read1(4);
      assert.ok(p1 instanceof Promise, 'read1()');
      got.push(await p1);
      const into = Buffer.alloc(3);
      const p2 = r.readinto(into);
      assert.ok(p2 instanceof Promise, 'readinto()');
      const n = await p2;
      assert.equal(typeof n, 'number');
      got.push(into.subarray(0, n));
      const p3 = r.readline();
      assert.ok(p3 instanceof Promise, 'readline()');
      got.push(await p3);
      const p4 = r.read(2);
      assert.ok(p4 instanceof Promise, 'read(amt)');
      got.push(await p4);
      const p5 = r.read();
      assert.ok(p5 instanceof Promise, 'read()');
      got.push(await p5);
      for (const piece of got) assert.ok(Buffer.isBuffer(piece));
      assert.equal(Buffer.concat(got).toString(), body);

      const requested = conn.request('POST', '/two', 'x');
      assert.ok(requested instanceof Promise, 'request()');
      await requested;
      const r2 = await conn.getresponse();
      const decoded = r2.json();
      assert.ok(decoded instanceof Promise, 'json()');
      assert.deepEqual(await decoded, { a: 1 });

      conn.putrequest('POST', '/three');
      conn.putheader('Content-Length', 2);
      await conn.endheaders();
      const sent = conn.send('ok');
      assert.ok(sent instanceof Promise, 'send()');
      await sent;
      const r3 = await conn.getresponse();
      assert.equal((await r3.read()).toString(), 'ok');
      assert.equal(r3.close(), undefined, 'HTTPResponse.close()');

      assert.equal(conn.close(), undefined, 'close()');
      const other = new HTTPConnection(HOST, srv.port);
      assert.equal(other.set_tunnel('example.invalid', 80), undefined, 'set_tunnel()');
      await receivedExactly(
        srv,
        0,
        head(srv, 'GET /one HTTP/1.1', 'X-Req: 1\r\n') +
          head(srv, 'POST /two HTTP/1.1', 'Content-Length: 1\r\n') +
          'x' +
          head(srv, 'POST /three HTTP/1.1', 'Content-Length: 2\r\n') +
          'ok',
      );
    } finally {
      conn.close();
      await srv.close();
    }
  });

  it('an OS error (socket.error) is Node’s system error, passed through unchanged', async () => {
    const port = await freePort();
    const raw = await new Promise<Error>((resolve) => {
      net.connect(port, HOST).once('error', resolve);
    });
    const conn = new HTTPConnection(HOST, port, { timeout: 5 });
    try {
      await assert.rejects(conn.request('GET', '/'), (err: unknown) => {
        assert.ok(err instanceof Error);
        assert.ok(!(err instanceof HTTPException), 'not wrapped in an HTTPException');
        assert.ok(!(err instanceof TimeoutError));
        // The very kind of error a bare net.connect() to the port gives.
        assert.equal(
          Object.getPrototypeOf(err),
          Object.getPrototypeOf(raw),
          'the prototype of Node’s own error',
        );
        assert.equal(err.message, raw.message);
        const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
        assert.equal(e.code, 'ECONNREFUSED');
        assert.equal(e.syscall, 'connect');
        assert.equal(e.address, HOST);
        assert.equal(e.port, port);
        assert.equal(typeof e.errno, 'number');
        return true;
      });
      assert.equal(conn.sock, null);
    } finally {
      conn.close();
    }
  });
});

describe('API.md: HTTPConnection options and attributes', () => {
  it('attributes: host, port, timeout, source_address, strict (default false), debuglevel, sock', async () => {
    const plain = new HTTPConnection(HOST, 8080);
    assert.equal(plain.host, HOST);
    assert.equal(plain.port, 8080);
    assert.equal(plain.timeout, null);
    assert.equal(plain.source_address, null);
    assert.equal(plain.strict, false);
    assert.equal(plain.debuglevel, 0);
    assert.equal(plain.sock, null);
    plain.set_debuglevel(2);
    assert.equal(plain.debuglevel, 2);
    const given = new HTTPConnection('[::1]:81', null, {
      strict: true,
      timeout: 0.25,
      source_address: ['127.0.0.1', 0],
    });
    assert.equal(given.host, '::1');
    assert.equal(given.port, 81);
    assert.equal(given.strict, true);
    assert.equal(given.timeout, 0.25);
    assert.deepEqual(given.source_address, ['127.0.0.1', 0]);

    // sock: null, then the connected net.Socket (not TLS), then null after close().
    const srv = await rawServer(() => {});
    const conn = new HTTPConnection(HOST, srv.port);
    try {
      assert.equal(conn.sock, null);
      await conn.connect();
      const sock: unknown = conn.sock;
      assert.ok(sock instanceof net.Socket);
      assert.ok(!(sock instanceof tls.TLSSocket));
      await srv.connections(1);
      assert.equal(sock.localPort, (srv.sockets[0] as net.Socket).remotePort);
      conn.close();
      assert.equal(conn.sock, null);
      conn.close(); // idempotent
      assert.equal(conn.sock, null);
    } finally {
      conn.close();
      await srv.close();
    }
  });

  it('source_address binds the local end of the connection to [host, port]', async () => {
    // All of 127.0.0.0/8 is loopback on Linux: bind to another address than the server's.
    const localPort = await freePort('127.0.0.2');
    const srv = await scriptedServer([OK]);
    const conn = new HTTPConnection(HOST, srv.port, { source_address: ['127.0.0.2', localPort] });
    try {
      await conn.request('GET', '/');
      assert.equal((await (await conn.getresponse()).read()).toString(), 'ok');
      const peer = srv.sockets[0] as net.Socket;
      assert.equal(peer.remoteAddress, '127.0.0.2');
      assert.equal(peer.remotePort, localPort);
    } finally {
      conn.close();
      await srv.close();
    }
  });

  it('blocksize: bytes per read of a body, 8192 by default (a Blob read in slices)', async () => {
    /** A Blob that records the size of every slice the library reads from it. */
    class SpyBlob extends Blob {
      readonly sizes: number[] = [];
      override slice(start?: number, end?: number, contentType?: string): Blob {
        const piece = super.slice(start, end, contentType);
        this.sizes.push(piece.size);
        return piece;
      }
    }
    const bytes = Buffer.alloc(20000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) & 0xff;
    const cases: Array<[number | undefined, number[]]> = [
      [undefined, [8192, 8192, 3616]],
      [5000, [5000, 5000, 5000, 5000]],
    ];
    for (const [blocksize, sizes] of cases) {
      const srv = await scriptedServer([EMPTY_OK]);
      const conn = new HTTPConnection(HOST, srv.port, blocksize === undefined ? {} : { blocksize });
      try {
        const blob = new SpyBlob([bytes]);
        await conn.request('PUT', '/blob', blob);
        await (await conn.getresponse()).read();
        assert.deepEqual(blob.sizes, sizes, `blocksize ${blocksize}`);
        await receivedExactly(
          srv,
          0,
          head(srv, 'PUT /blob HTTP/1.1', 'Content-Length: 20000\r\n') + bytes.toString('latin1'),
        );
      } finally {
        conn.close();
        await srv.close();
      }
    }
    for (const bad of [0, -1, 1.5]) {
      assert.throws(() => new HTTPConnection(HOST, 80, { blocksize: bad }), TypeError);
    }
  });

  it('request() headers may be any iterable of [name, value] pairs, order and duplicates kept', async () => {
    const srv = await scriptedServer([EMPTY_OK]);
    const conn = new HTTPConnection(HOST, srv.port);
    try {
      const pairs = (function* (): Generator<[string, string]> {
        yield ['X-B', '2'];
        yield ['X-A', '1'];
        yield ['x-b', '3'];
      })();
      await conn.request('GET', '/g', null, pairs);
      await (await conn.getresponse()).read();
      await receivedExactly(srv, 0, head(srv, 'GET /g HTTP/1.1', 'X-B: 2\r\nX-A: 1\r\nx-b: 3\r\n'));
    } finally {
      conn.close();
      await srv.close();
    }
  });
});

describe('API.md: encode_chunked and framing the caller chose', () => {
  /** One request on its own connection; returns what the server received. */
  async function oneRequest(
    send: (conn: HTTPConnection) => Promise<void>,
    expected: (srv: RawServer) => string,
  ): Promise<void> {
    const srv = await scriptedServer([EMPTY_OK]);
    const conn = new HTTPConnection(HOST, srv.port);
    try {
      await send(conn);
      const r = await conn.getresponse();
      assert.equal(r.status, 200);
      await r.read();
      await receivedExactly(srv, 0, expected(srv));
    } finally {
      conn.close();
      await srv.close();
    }
  }

  it('request(…, { encode_chunked: true }) with the caller’s Transfer-Encoding: the library frames the body', async () => {
    await oneRequest(
      (conn) =>
        conn.request(
          'POST',
          '/c',
          ['ab', Buffer.from('cdefghijklmnopq')],
          { 'Transfer-Encoding': 'chunked' },
          { encode_chunked: true },
        ),
      (srv) =>
        head(srv, 'POST /c HTTP/1.1', 'Transfer-Encoding: chunked\r\n') +
        '2\r\nab\r\nF\r\ncdefghijklmnopq\r\n0\r\n\r\n',
    );
  });

  it('the caller’s Transfer-Encoding without encode_chunked: the body goes as given, unframed', async () => {
    await oneRequest(
      (conn) =>
        conn.request('POST', '/raw', ['2\r\nab\r\n', '0\r\n\r\n'], {
          'Transfer-Encoding': 'chunked',
        }),
      (srv) =>
        `${head(srv, 'POST /raw HTTP/1.1', 'Transfer-Encoding: chunked\r\n')}2\r\nab\r\n0\r\n\r\n`,
    );
  });

  it('the caller’s Content-Length with a body of unknown length: no chunking, the bytes as they come', async () => {
    await oneRequest(
      (conn) =>
        conn.request(
          'POST',
          '/len',
          (async function* () {
            yield 'abc';
            yield Buffer.from('de');
          })(),
          { 'Content-Length': '5' },
        ),
      (srv) => `${head(srv, 'POST /len HTTP/1.1', 'Content-Length: 5\r\n')}abcde`,
    );
  });

  it('endheaders(body, { encode_chunked: true }) frames the body; without it the body is raw', async () => {
    await oneRequest(
      async (conn) => {
        conn.putrequest('PUT', '/e');
        conn.putheader('Transfer-Encoding', 'chunked');
        await conn.endheaders('héllo', { encode_chunked: true });
      },
      (srv) =>
        head(srv, 'PUT /e HTTP/1.1', 'Transfer-Encoding: chunked\r\n') +
        `6\r\n${Buffer.from('héllo').toString('latin1')}\r\n0\r\n\r\n`,
    );
    await oneRequest(
      async (conn) => {
        conn.putrequest('PUT', '/e');
        conn.putheader('Content-Length', 5);
        await conn.endheaders(Buffer.from('hello'));
      },
      (srv) => `${head(srv, 'PUT /e HTTP/1.1', 'Content-Length: 5\r\n')}hello`,
    );
  });
});

describe('API.md: endheaders(message_body) sends the head and the body in the same write', () => {
  for (const [kind, body] of [
    ['a string', 'hello wörld'],
    ['bytes', Buffer.from([0, 1, 2, 0xff, 0x0d, 0x0a])],
  ] as const) {
    it(`${kind}: one socket write holding head and body`, async () => {
      const srv = await scriptedServer([EMPTY_OK]);
      const conn = new HTTPConnection(HOST, srv.port);
      try {
        await conn.connect();
        const sock = conn.sock as net.Socket;
        const writes: Buffer[] = [];
        const original = sock.write;
        sock.write = function (this: net.Socket, chunk: unknown, ...rest: unknown[]): boolean {
          const encoding = typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : 'utf8';
          writes.push(
            typeof chunk === 'string'
              ? Buffer.from(chunk, encoding)
              : Buffer.from(chunk as Uint8Array),
          );
          return (original as (...args: unknown[]) => boolean).apply(this, [chunk, ...rest]);
        } as typeof sock.write;
        const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
        conn.putrequest('POST', '/w');
        conn.putheader('Content-Length', bytes.length);
        await conn.endheaders(body);
        const expected =
          head(srv, 'POST /w HTTP/1.1', `Content-Length: ${bytes.length}\r\n`) +
          bytes.toString('latin1');
        assert.equal(
          writes.length,
          1,
          `writes: ${writes.map((w) => JSON.stringify(w.toString('latin1')))}`,
        );
        assert.equal((writes[0] as Buffer).toString('latin1'), expected);
        await (await conn.getresponse()).read();
        await receivedExactly(srv, 0, expected);
      } finally {
        conn.close();
        await srv.close();
      }
    });
  }
});

describe('API.md: set_debuglevel output goes to process.stdout or to debugOutput', () => {
  const REPLY = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello';
  const expected = (port: number): string =>
    `send: 'GET /x HTTP/1.1\\r\\nHost: ${HOST}:${port}\\r\\nAccept-Encoding: identity\\r\\n\\r\\n'\n` +
    `reply: 'HTTP/1.1 200 OK\\r\\n'\n` +
    'header: Content-Type: text/plain\r\nheader: Content-Length: 5\r\n';

  it('to process.stdout when no debugOutput is set', async () => {
    const srv = await scriptedServer([REPLY]);
    try {
      const stdout = await runChild(`
        import { HTTPConnection } from ${JSON.stringify(INDEX)};
        const conn = new HTTPConnection('${HOST}', ${srv.port}, { timeout: 10 });
        conn.set_debuglevel(1);
        await conn.request('GET', '/x');
        const r = await conn.getresponse();
        const body = await r.read();
        conn.close();
        process.stdout.write('BODY ' + body.toString());`);
      assert.equal(stdout, `${expected(srv.port)}BODY hello`);
    } finally {
      await srv.close();
    }
  });

  it('to a Writable given as debugOutput', async () => {
    const srv = await scriptedServer([REPLY]);
    const parts: Buffer[] = [];
    const out = new Writable({
      write(chunk: Buffer | string, _encoding, callback) {
        parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, 'latin1'));
        callback();
      },
    });
    const conn = new HTTPConnection(HOST, srv.port, { debugOutput: out });
    try {
      conn.set_debuglevel(1);
      await conn.request('GET', '/x');
      const r = await conn.getresponse();
      assert.equal((await r.read()).toString(), 'hello');
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(Buffer.concat(parts).toString('latin1'), expected(srv.port));
    } finally {
      conn.close();
      await srv.close();
    }
  });
});

describe('API.md: ssl and HTTPSConnection', { timeout: 60_000 }, () => {
  let pki: Pki;
  before(async () => {
    pki = await makePki();
  });
  after(() => pki?.remove());

  /** An HTTPS server whose body is the cipher the handshake chose. */
  async function cipherServer(name = 'server') {
    return await httpsServer(pki.pair(name), (req, res) => {
      res.end((req.socket as tls.TLSSocket).getCipher().name);
    });
  }

  async function get(port: number, context: ssl.SSLContext): Promise<string> {
    const conn = new HTTPSConnection('localhost', port, { context, timeout: 10 });
    try {
      await conn.request('GET', '/');
      const r = await conn.getresponse();
      return `${r.status} ${(await r.read()).toString()}`;
    } finally {
      conn.close();
    }
  }

  it('context must be an ssl.SSLContext: anything else is a TypeError from the constructor', async () => {
    const server = await httpsServer(pki.pair('server'), (_req, res) => res.end('x'));
    try {
      // A Node SecureContext (the likely mistake), a tls options object, a string.
      const bad: unknown[] = [tls.createSecureContext({}), { ca: 'x' }, 'ctx'];
      const names = ['SecureContext', 'Object', 'string'];
      for (const [i, context] of bad.entries()) {
        assert.throws(
          () =>
            new HTTPSConnection('localhost', server.port, { context: context as ssl.SSLContext }),
          (err: unknown) =>
            err instanceof TypeError &&
            err.message ===
              `context must be an ssl.SSLContext (ssl.create_default_context()), got ${names[i]}`,
        );
        assert.throws(
          () => new HTTPS('localhost', server.port, { context: context as ssl.SSLContext }),
          TypeError,
        );
      }
      assert.equal(server.connectionCount(), 0, 'nothing was connected');
      // null and undefined are "not given": the default context.
      for (const context of [null, undefined]) {
        const conn = new HTTPSConnection('localhost', server.port, { context });
        assert.equal(conn._context.verify_mode, ssl.CERT_REQUIRED);
      }
    } finally {
      await server.close();
    }
  });

  it('constants have Python’s values: CERT_NONE 0, CERT_OPTIONAL 1, CERT_REQUIRED 2, PROTOCOL_TLS_CLIENT 16, TLSVersion', () => {
    assert.equal(ssl.CERT_NONE, 0);
    assert.equal(ssl.CERT_OPTIONAL, 1);
    assert.equal(ssl.CERT_REQUIRED, 2);
    assert.equal(ssl.PROTOCOL_TLS_CLIENT, 16);
    assert.equal(ssl.TLSVersion.TLSv1_2, 771);
    assert.equal(ssl.TLSVersion.TLSv1_3, 772);
    assert.ok(
      new ssl.SSLCertVerificationError(18, 'self-signed certificate') instanceof ssl.SSLError,
    );
  });

  it('create_default_context(): a client context with both checks on; purpose is taken', () => {
    for (const context of [
      ssl.create_default_context(),
      ssl.create_default_context({ purpose: ssl.Purpose.SERVER_AUTH }),
    ]) {
      assert.equal(context.protocol, ssl.PROTOCOL_TLS_CLIENT);
      assert.equal(context.verify_mode, ssl.CERT_REQUIRED);
      assert.equal(context.check_hostname, true);
    }
    // Python: Purpose.CLIENT_AUTH makes a server-side context, which checks nothing.
    const server = ssl.create_default_context({ purpose: ssl.Purpose.CLIENT_AUTH });
    assert.equal(server.verify_mode, ssl.CERT_NONE);
    assert.equal(server.check_hostname, false);
  });

  it('verify_mode = CERT_OPTIONAL still verifies the server certificate', async () => {
    const good = await cipherServer('server');
    const self = await cipherServer('selfsigned');
    try {
      const context = ssl.create_default_context({ cafile: pki.file('ca.pem') });
      context.verify_mode = ssl.CERT_OPTIONAL;
      assert.equal(context.verify_mode, ssl.CERT_OPTIONAL);
      assert.match(await get(good.port, context), /^200 /);
      await assert.rejects(get(self.port, context), ssl.SSLCertVerificationError);
    } finally {
      await good.close();
      await self.close();
    }
  });

  it('set_ciphers() picks the cipher the handshake uses; an unknown list is SSLError', async () => {
    const srv = await cipherServer();
    try {
      for (const cipher of ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384']) {
        const context = ssl.create_default_context({ cafile: pki.file('ca.pem') });
        context.maximum_version = ssl.TLSVersion.TLSv1_2;
        context.set_ciphers(cipher);
        assert.equal(await get(srv.port, context), `200 ${cipher}`);
      }
      const context = ssl.create_default_context();
      assert.throws(
        () => context.set_ciphers('NO-SUCH-CIPHER'),
        (err: unknown) => {
          assert.ok(err instanceof ssl.SSLError);
          assert.ok(!(err instanceof ssl.SSLCertVerificationError));
          assert.equal(err.name, 'SSLError');
          return true;
        },
      );
    } finally {
      await srv.close();
    }
  });

  it('load_default_certs() makes a bare context trust the default store (NODE_EXTRA_CA_CERTS)', async () => {
    const srv = await cipherServer();
    try {
      const stdout = await runChild(
        `
        import { HTTPSConnection, ssl } from ${JSON.stringify(INDEX)};
        const out = [];
        for (const load of [false, true]) {
          const context = new ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT);
          if (load) context.load_default_certs();
          const conn = new HTTPSConnection('localhost', ${srv.port}, { context, timeout: 10 });
          try {
            await conn.request('GET', '/');
            const r = await conn.getresponse();
            await r.read();
            out.push(String(r.status));
          } catch (err) {
            out.push(err.name);
          }
          conn.close();
        }
        process.stdout.write(out.join(' '));`,
        { NODE_EXTRA_CA_CERTS: pki.file('ca.pem') },
      );
      assert.equal(stdout, 'SSLCertVerificationError 200');
    } finally {
      await srv.close();
    }
  });

  it('HTTPSConnection.sock is a tls.TLSSocket once connected', async () => {
    const srv = await cipherServer();
    const conn = new HTTPSConnection('localhost', srv.port, {
      context: ssl.create_default_context({ cafile: pki.file('ca.pem') }),
      timeout: 10,
    });
    try {
      assert.equal(conn.sock, null);
      await conn.connect();
      const sock: unknown = conn.sock;
      assert.ok(sock instanceof tls.TLSSocket);
      assert.equal(sock.authorized, true);
      conn.close();
      assert.equal(conn.sock, null);
    } finally {
      conn.close();
      await srv.close();
    }
  });
});

describe('API.md: legacy HTTP', () => {
  it('new HTTP() has host "" by default; connect(host, port) targets the server', async () => {
    const srv = await scriptedServer([
      'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello',
    ]);
    const h = new HTTP();
    try {
      assert.equal(h._conn.host, '');
      assert.equal(h._conn.port, 80);
      await h.connect(HOST, srv.port);
      h.putrequest('GET', '/legacy');
      await h.endheaders();
      const [code, message, headers] = await h.getreply();
      assert.equal(code, 200);
      assert.equal(message, 'OK');
      assert.ok(headers instanceof HTTPMessage);
      assert.equal(headers.getheader('content-type'), 'text/plain');
      assert.equal((await (h.getfile() as HTTPResponse).read()).toString(), 'hello');
      await receivedExactly(srv, 0, 'GET /legacy HTTP/1.0\r\n\r\n');
    } finally {
      h.close();
      await srv.close();
    }
  });
});
