/**
 * The legacy `HTTP` and `HTTPS` classes (issue 4) against real Python 2.7.18: each
 * scenario runs the same calls through `httplib.HTTP`/`httplib.HTTPS` in
 * test/integration/fixtures/legacy_session.py (`PYENV_VERSION=2.7.18 python`) and
 * through httplib-ts, against one server of this test, and compares what the calls
 * returned and the bytes the server received, byte for byte: HTTP/1.0 requests, no
 * automatic `Host` or `Accept-Encoding`, `getreply()` → `[errcode, errmsg, headers]`
 * (`[-1, line, null]` on a bad status line), `getfile()`, `connect(host, port)`.
 *
 * Without Python 2.7.18 the comparisons are skipped, loudly (a message on stderr and
 * the skip reason in the report); the checks that need no Python still run.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { HTTP, HTTPConnection, HTTPS, HTTPSConnection, ssl } from '../../src/index.ts';
import { PY_ENV, pythonMissing } from './python.ts';
import { peerClosed, type Reply, scriptedServer } from './servers.ts';
import { makePki, type Pki, rawTlsServer } from './tls-peers.ts';

const SCRIPT = fileURLToPath(new URL('./fixtures/legacy_session.py', import.meta.url));

/** Why the Python comparisons cannot run, or null when `python` is 2.7.18. */
const NO_PYTHON = pythonMissing('2.7.18', 'legacy.test.ts', 'the Python 2.7 comparisons');

/** Run one scenario of the Python script; resolves with what it printed, parsed. */
async function python(scenario: string, port: number, ...extra: string[]): Promise<unknown> {
  const { stdout } = await promisify(execFile)(
    'python',
    [SCRIPT, scenario, String(port), ...extra],
    {
      env: PY_ENV,
      encoding: 'utf8',
      timeout: 20_000,
    },
  );
  return JSON.parse(stdout);
}

/** The TypeScript twin of the script's `reply(h)`. */
async function reply(h: HTTP): Promise<unknown> {
  const [errcode, errmsg, headers] = await h.getreply();
  const file = h.getfile();
  const body = file === null ? null : (await file.read()).toString('latin1');
  return [errcode, errmsg, headers === null ? null : [...headers.headers], body];
}

/** A reply written in full, after which the server closes (what a 1.0 server does). */
const closing =
  (bytes: string): Reply =>
  (socket: net.Socket) => {
    socket.end(Buffer.from(bytes, 'latin1'));
  };

const OK =
  'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nX-Multi: 1\r\nX-Multi: 2\r\n' +
  'Content-Length: 5\r\n\r\nhello';

/**
 * Serve `replies` (one list per connection) first to Python's session, then to ours,
 * and compare what the calls returned and the bytes received on every connection.
 */
async function compare(
  scenario: string,
  replies: Reply[],
  ours: (port: number) => Promise<unknown>,
): Promise<{ py: unknown; received: string[] }> {
  const perSession = replies.length;
  const server = await scriptedServer([...replies, ...replies].map((r) => [r]));
  try {
    const py = await python(scenario, server.port);
    await server.connections(perSession);
    const ts = await ours(server.port);
    await server.connections(2 * perSession);
    assert.deepEqual(ts, py, `${scenario}: what the calls returned`);
    const received = server.received.map((b) => b.toString('latin1'));
    assert.equal(received.length, 2 * perSession);
    for (let i = 0; i < perSession; i++) {
      assert.equal(
        received[perSession + i],
        received[i],
        `${scenario}: request bytes, connection ${i}`,
      );
    }
    return { py, received: received.slice(0, perSession) };
  } finally {
    await server.close();
  }
}

describe('legacy HTTP and HTTPS (issue 4)', { timeout: 120_000 }, () => {
  let pki: Pki;
  before(async () => {
    pki = await makePki();
  });
  after(() => pki?.remove());

  describe('against Python 2.7.18, byte for byte', { skip: NO_PYTHON ?? false }, () => {
    it('GET: HTTP/1.0, no Host, no Accept-Encoding, getreply() and getfile()', async () => {
      const { py, received } = await compare('get', [closing(OK)], async (port) => {
        const h = new HTTP('127.0.0.1', port);
        h.putrequest('GET', '/');
        h.putheader('Accept', 'text/html');
        h.putheader('X-Multi', 'a', 'b');
        await h.endheaders();
        return reply(h);
      });
      assert.equal(received[0], 'GET / HTTP/1.0\r\nAccept: text/html\r\nX-Multi: a\r\n\tb\r\n\r\n');
      assert.deepEqual(py, [
        200,
        'OK',
        [
          'Content-Type: text/plain\r\n',
          'X-Multi: 1\r\n',
          'X-Multi: 2\r\n',
          'Content-Length: 5\r\n',
        ],
        'hello',
      ]);
    });

    it('POST with send() after endheaders()', async () => {
      const { received } = await compare('post-send', [closing(OK)], async (port) => {
        const h = new HTTP('127.0.0.1', port);
        h.putrequest('POST', '/form?x=1');
        h.putheader('Content-Type', 'application/x-www-form-urlencoded');
        h.putheader('Content-Length', '9');
        await h.endheaders();
        await h.send('spam=eggs');
        return reply(h);
      });
      assert.match(received[0] ?? '', /^POST \/form\?x=1 HTTP\/1\.0\r\n[\s\S]*\r\n\r\nspam=eggs$/);
    });

    it('POST with the body given to endheaders()', async () => {
      await compare('post-body', [closing(OK)], async (port) => {
        const h = new HTTP('127.0.0.1', port);
        h.putrequest('POST', '/form');
        h.putheader('Content-Length', '9');
        await h.endheaders('spam=eggs');
        return reply(h);
      });
    });

    it('skip_host and skip_accept_encoding change nothing; a given Host is sent', async () => {
      const head = 'HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n';
      const { received } = await compare('skip-host', [closing(head)], async (port) => {
        const h = new HTTP('127.0.0.1', port);
        h.putrequest('HEAD', '/x', { skip_host: true, skip_accept_encoding: true });
        h.putheader('Host', 'example.invalid');
        await h.endheaders();
        const [errcode, errmsg, headers] = await h.getreply();
        return [errcode, errmsg, headers === null ? null : [...headers.headers]];
      });
      assert.equal(received[0], 'HEAD /x HTTP/1.0\r\nHost: example.invalid\r\n\r\n');
    });

    it('connect(host, port) and connect("host:port") re-target the connection', async () => {
      const { py } = await compare('connect', [closing(OK), closing(OK)], async (port) => {
        const h = new HTTP();
        await h.connect('127.0.0.1', port);
        h.putrequest('GET', '/one');
        await h.endheaders();
        const first = await reply(h);
        h.close();
        await h.connect(`127.0.0.1:${port}`);
        h.putrequest('GET', '/two');
        await h.endheaders();
        return [first, await reply(h), h._conn.host, h._conn.port];
      });
      assert.equal((py as unknown[])[2], '127.0.0.1');
    });

    it('a bad status line: getreply() → [-1, line, null], getfile() → null', async () => {
      const { py } = await compare(
        'bad-status',
        [closing('HTTP/1.1 abc\r\n\r\n')],
        async (port) => {
          const h = new HTTP('127.0.0.1', port);
          h.putrequest('GET', '/');
          await h.endheaders();
          const result = await reply(h);
          assert.equal(h.getfile(), null);
          assert.equal(h.headers, null);
          return result;
        },
      );
      assert.deepEqual(py, [-1, 'HTTP/1.1 abc\r\n', null, null]);
    });

    it('a line that is not HTTP: an HTTP/0.9 reply, or with strict a bad status line', async () => {
      const simple = 'hello world\r\nsecond line\r\n';
      const { py } = await compare('http09', [closing(simple)], async (port) => {
        const h = new HTTP('127.0.0.1', port);
        h.putrequest('GET', '/');
        await h.endheaders();
        return reply(h);
      });
      assert.deepEqual(py, [200, '', [], simple]);
      const strict = await compare('http09-strict', [closing(simple)], async (port) => {
        const h = new HTTP('127.0.0.1', port, true);
        h.putrequest('GET', '/');
        await h.endheaders();
        return reply(h);
      });
      assert.deepEqual(strict.py, [-1, 'hello world\r\n', null, null]);
    });

    it('the server closes without a reply: [-1, <2.7’s message>, null]', async () => {
      const { py } = await compare('closed', [(socket) => socket.end()], async (port) => {
        const h = new HTTP('127.0.0.1', port);
        h.putrequest('GET', '/');
        await h.endheaders();
        return reply(h);
      });
      assert.deepEqual(py, [
        -1,
        'No status line received - the server has closed the connection',
        null,
        null,
      ]);
    });

    describe('HTTPS over real TLS', () => {
      it('sends the same bytes as Python inside TLS, trusting the test CA', async () => {
        const server = await rawTlsServer(pki.pair('server'), OK);
        try {
          const py = await python('https', server.port, pki.file('ca.pem'));
          const h = new HTTPS('localhost', server.port, {
            context: ssl.create_default_context({ cafile: pki.file('ca.pem') }),
          });
          h.putrequest('GET', '/secure');
          h.putheader('Accept', '*/*');
          await h.endheaders();
          assert.deepEqual(await reply(h), py);
          h.close();
          const [fromPython, fromUs] = server.received.map((b) => b.toString('latin1'));
          assert.equal(fromUs, fromPython);
          assert.equal(fromUs, 'GET /secure HTTP/1.0\r\nAccept: */*\r\n\r\n');
        } finally {
          await server.close();
        }
      });
    });
  });

  describe('without Python', () => {
    it('port 0 or none means the default port, as in Python', () => {
      // The same list the script's `ports` scenario prints under Python 2.7.
      assert.deepEqual(
        [
          new HTTP('h', 0)._conn.port,
          new HTTP('h')._conn.port,
          new HTTP('h:8080', 0)._conn.port,
          new HTTP('h', 81)._conn.port,
          new HTTPS('h', 0)._conn.port,
          new HTTPS('h')._conn.port,
        ],
        [80, 80, 8080, 81, 443, 443],
      );
    });

    it('HTTP wraps an HTTPConnection speaking HTTP/1.0, HTTPS an HTTPSConnection', () => {
      const h = new HTTP('h');
      assert.ok(h._conn instanceof HTTPConnection);
      assert.equal(h._conn._http_vsn, 10);
      assert.equal(h.getfile(), null);
      const s = new HTTPS('h', null, { strict: true });
      assert.ok(s._conn instanceof HTTPSConnection);
      assert.equal(s._conn._http_vsn, 10);
      assert.equal(s._conn.strict, true);
      assert.equal(s.key_file, null);
    });

    it('a head cut short is a bad reply (STRICTER: 2.7 returns the headers seen so far)', async () => {
      const server = await scriptedServer([
        closing('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n'),
      ]);
      try {
        const h = new HTTP('127.0.0.1', server.port);
        h.putrequest('GET', '/');
        await h.endheaders();
        assert.deepEqual(await reply(h), [
          -1,
          'Remote end closed connection before the end of the response head',
          null,
          null,
        ]);
      } finally {
        await server.close();
      }
    });

    it("close() without reading the reply closes the reply's socket, as Python's dropped file", async () => {
      // Python 2.7's close() drops self.file, whose last reference closes the socket; a
      // reply left unread here kept its socket (one descriptor per loop of getreply()).
      const server = await scriptedServer([OK]);
      try {
        const h = new HTTP('127.0.0.1', server.port);
        h.putrequest('GET', '/');
        await h.endheaders();
        assert.equal((await h.getreply())[0], 200);
        const file = h.getfile();
        h.close();
        assert.equal(h.getfile(), null);
        assert.equal(file?.isclosed(), true);
        await peerClosed(server.sockets[0] as net.Socket);
      } finally {
        await server.close();
      }
    });

    it('HTTPS verifies by default: the test CA is not trusted without a context', async () => {
      const server = await rawTlsServer(pki.pair('server'), OK);
      try {
        const h = new HTTPS('localhost', server.port);
        h.putrequest('GET', '/');
        await assert.rejects(h.endheaders(), ssl.SSLCertVerificationError);
        h.close();
        assert.deepEqual(
          server.received.map((b) => b.length),
          [],
        );
      } finally {
        await server.close();
      }
    });
  });
});
