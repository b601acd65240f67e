/**
 * Observability (issue 3): `set_debuglevel(1)` prints what CPython 2.7.18 prints, byte
 * for byte; `NODE_DEBUG=httplib` logs through `util.debuglog`; the `diagnostics_channel`
 * channels fire with the fields src/client/debug.ts documents.
 *
 * The oracle is test/integration/fixtures/debug_session.py run by
 * `PYENV_VERSION=2.7.18 python`, against the same raw server (the Host header carries its
 * port) answering with the same fixed bytes; the same session is then played with
 * httplib-ts, its debug output captured through `debugOutput`. Without Python 2.7 the
 * comparison is skipped, loudly.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import diagnostics_channel from 'node:diagnostics_channel';
import * as net from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  HTTPConnection,
  HTTPResponse,
  IncompleteRead,
  RemoteDisconnected,
} from '../../src/index.ts';
import { PY_ENV, pythonMissing } from './python.ts';
import { closedPort, httpServer, nextTurn, type RawServer, scriptedServer } from './servers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./fixtures/debug_session.py', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/idle-keepalive.ts', import.meta.url));

/** Why the Python comparison cannot run, or null when `python` is 2.7. */
const NO_PYTHON = pythonMissing('2.7', 'debug-output.test.ts', 'the comparison with Python 2.7');

/** The server's answers, in the order of the session's requests. */
const REPLIES = [
  // GET with a header
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello',
  // POST with a string body
  'HTTP/1.1 302 Found\r\nLocation: /done\r\nContent-Length: 0\r\n\r\n',
  // a folded header, duplicates
  'HTTP/1.1 200 OK\r\nX-Dup: one\r\nX-Folded: first\r\n second\r\n\tthird\r\nX-Dup: two\r\n' +
    'Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 2\r\n\r\nok',
  // 100 Continue (with a header of its own) before the response
  'HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n',
  // chunked, with an extension and a trailer
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
    '5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n',
  // step by step, answered in HTTP/1.0
  'HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nend',
];

/** The session of debug_session.py, with httplib-ts; returns everything printed. */
async function tsSession(port: number): Promise<[string, string[]]> {
  let out = '';
  const bodies: string[] = [];
  const step = (name: string): void => {
    out += `--- ${name}\n`;
  };
  const conn = new HTTPConnection('127.0.0.1', port, {
    debugOutput: (text) => {
      out += text;
    },
  });
  conn.set_debuglevel(1);
  const finish = async (): Promise<void> => {
    const r = await conn.getresponse();
    const body = await r.read();
    bodies.push(`${r.status} ${r.reason} ${body.toString('latin1')}`);
  };

  step('GET with a header');
  await conn.request('GET', '/get?q=1', null, { 'X-Test': 'yes' });
  await finish();

  step('POST with a string body');
  await conn.request('POST', '/form', 'a=1&b=2%20c', [
    ['Content-Type', 'application/x-www-form-urlencoded'],
    ['Accept', 'text/plain'],
  ]);
  await finish();

  step('folded header and duplicates');
  await conn.request('GET', '/folded');
  await finish();

  step('100 Continue before the response');
  await conn.request('PUT', '/put', 'data');
  await finish();

  step('chunked response');
  await conn.request('GET', '/chunked');
  await finish();

  step('step by step');
  conn.putrequest('GET', '/steps', { skip_accept_encoding: true });
  conn.putheader('X-Multi', 'one', 'two');
  await conn.endheaders();
  await finish();

  conn.close();
  step('end');
  return [out, bodies];
}

describe('set_debuglevel(1) output', () => {
  let server: RawServer;
  before(async () => {
    // One connection for Python, then one for httplib-ts: the same answers on each.
    server = await scriptedServer([REPLIES, REPLIES]);
  });
  after(() => server.close());

  it('is what CPython 2.7 prints for the same session, byte for byte', {
    skip: NO_PYTHON ?? false,
  }, async () => {
    const py = await promisify(execFile)('python', [SCRIPT, String(server.port)], {
      env: PY_ENV,
      encoding: 'latin1',
      timeout: 20_000,
    });
    const [ts, bodies] = await tsSession(server.port);
    assert.equal(server.sockets.length, 2);
    // Both sent the same bytes: the comparison is of the same requests.
    assert.equal(
      (server.received[1] as Buffer).toString('latin1'),
      (server.received[0] as Buffer).toString('latin1'),
    );
    assert.equal(ts, py.stdout);
    assert.deepEqual(bodies, [
      '200 OK hello',
      '302 Found ',
      '200 OK ok',
      '201 Created ',
      '200 OK hello world',
      '200 OK end',
    ]);
    // What Python read, as its stderr shows it, is what httplib-ts read.
    assert.equal(py.stderr.trim().split('\n').length, 6);
  });

  it('header bytes beyond ASCII reach a stream as they came, as CPython 2.7 prints them (not re-encoded as UTF-8)', {
    skip: NO_PYTHON ?? false,
  }, async () => {
    // 0xE9 alone (latin-1 é) and c3 a9 (UTF-8 é): each written as its own bytes.
    const reply = Buffer.from(
      'HTTP/1.1 200 OK\r\nX-Latin: caf\xe9\r\nX-Utf8: caf\xc3\xa9\r\nContent-Length: 2\r\n\r\nok',
      'latin1',
    );
    const srv = await scriptedServer([reply, reply]);
    try {
      const script =
        'import httplib, sys\n' +
        'c = httplib.HTTPConnection("127.0.0.1", int(sys.argv[1]))\n' +
        'c.set_debuglevel(1)\n' +
        'c.request("GET", "/x")\n' +
        'c.getresponse().read()\n';
      const py = await promisify(execFile)('python', ['-c', script, String(srv.port)], {
        env: PY_ENV,
        encoding: 'buffer',
        timeout: 20_000,
      });
      const chunks: Buffer[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          chunks.push(chunk);
          done();
        },
      });
      const conn = new HTTPConnection('127.0.0.1', srv.port, { debugOutput: sink });
      conn.set_debuglevel(1);
      await conn.request('GET', '/x');
      await (await conn.getresponse()).read();
      conn.close();
      const ours = Buffer.concat(chunks);
      assert.ok(
        ours.includes(Buffer.from('X-Latin: caf\xe9\r\n', 'latin1')),
        ours.toString('latin1'),
      );
      assert.equal(ours.toString('hex'), py.stdout.toString('hex'));
    } finally {
      await srv.close();
    }
  });

  it('a getresponse() that waits for its request to be sent prints at the level of its call, not the level when the head comes', async () => {
    const srv = await scriptedServer([
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    ]);
    try {
      for (const [at, after] of [
        [1, 0],
        [0, 1],
      ] as const) {
        const out: string[] = [];
        const conn = new HTTPConnection('127.0.0.1', srv.port, {
          debugOutput: (text) => {
            out.push(text);
          },
        });
        conn.set_debuglevel(at);
        conn.putrequest('POST', '/');
        conn.putheader('Content-Length', 2);
        const body = (async function* (): AsyncGenerator<string> {
          yield 'a';
          await new Promise((resolve) => setTimeout(resolve, 20));
          yield 'b';
        })();
        const sent = conn.endheaders(body);
        const pending = conn.getresponse();
        conn.set_debuglevel(after);
        await sent;
        const r = await pending;
        await r.read();
        conn.close();
        const replies = out.filter((l) => l.startsWith('reply:') || l.startsWith('header:'));
        assert.equal(replies.length > 0, at > 0, `level ${at} at the call, ${after} after`);
        assert.equal(r.debuglevel, at);
      }
    } finally {
      await srv.close();
    }
  });

  it('a request() made while getresponse() reads the previous head prints its send: line at the level of its call', async () => {
    const srv = await scriptedServer([
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    ]);
    const out: string[] = [];
    const conn = new HTTPConnection('127.0.0.1', srv.port, {
      debugOutput: (text) => {
        out.push(text);
      },
    });
    try {
      for (const [at, after, path] of [
        [0, 1, '/b'],
        [1, 0, '/d'],
      ] as const) {
        conn.set_debuglevel(0);
        await conn.request('GET', '/a');
        const first = conn.getresponse();
        conn.set_debuglevel(at);
        const second = conn.request('GET', path);
        conn.set_debuglevel(after);
        await (await first).read();
        await second;
        await (await conn.getresponse()).read();
        const printed = out.some((l) => l.startsWith(`send: 'GET ${path} `));
        assert.equal(printed, at > 0, `level ${at} at the call, ${after} after`);
      }
    } finally {
      conn.close();
      await srv.close();
    }
  });

  it('shows the sent head and body, the reply line and the headers', async () => {
    // Independent of Python: the shape of the lines, on a third connection.
    const srv = await scriptedServer([REPLIES[0] as string]);
    try {
      let out = '';
      const conn = new HTTPConnection('127.0.0.1', srv.port, {
        debugOutput: (text) => {
          out += text;
        },
      });
      conn.set_debuglevel(1);
      await conn.request('GET', '/x', null, { 'X-Test': 'yes' });
      const r = await conn.getresponse();
      await r.read();
      conn.close();
      assert.equal(
        out,
        `send: 'GET /x HTTP/1.1\\r\\nHost: 127.0.0.1:${srv.port}\\r\\n` +
          `Accept-Encoding: identity\\r\\nX-Test: yes\\r\\n\\r\\n'\n` +
          `reply: 'HTTP/1.1 200 OK\\r\\n'\n` +
          'header: Content-Type: text/plain\r\nheader: Content-Length: 5\r\n',
      );
    } finally {
      await srv.close();
    }
  });

  it('a request prints at the level of its call, whether or not the socket was open yet (a forgotten await)', async () => {
    // Before: set_debuglevel(0) right after a request() not awaited silenced it, but only
    // on a new connection (the level was read when the bytes went out).
    const srv = await scriptedServer([REPLIES[0] as string, REPLIES[0] as string]);
    try {
      let out = '';
      const conn = new HTTPConnection('127.0.0.1', srv.port, {
        debugOutput: (text) => {
          out += text;
        },
      });
      const printed: boolean[] = [];
      for (const url of ['/fresh', '/open']) {
        out = '';
        conn.set_debuglevel(1);
        const sending = conn.request('GET', url);
        conn.set_debuglevel(0);
        await sending;
        await (await conn.getresponse()).read();
        printed.push(out.startsWith(`send: 'GET ${url} HTTP/1.1`));
      }
      conn.close();
      assert.deepEqual(printed, [true, true]);
    } finally {
      await srv.close();
    }
  });
});

describe('NODE_DEBUG=httplib', () => {
  it('logs through util.debuglog in a child process, and only when asked', async () => {
    const srv = await httpServer((_req, res) => {
      res.end('hello');
    });
    try {
      const run = (env: NodeJS.ProcessEnv): Promise<[number | null, string]> =>
        new Promise((resolve) => {
          const child = spawn(process.execPath, ['--import', 'tsx', CHILD, String(srv.port), '5'], {
            cwd: ROOT,
            env,
            stdio: ['ignore', 'ignore', 'pipe'],
          });
          let stderr = '';
          child.stderr.on('data', (d: Buffer) => {
            stderr += d.toString();
          });
          child.once('close', (code) => resolve([code, stderr]));
        });
      const { NODE_DEBUG: _ignored, ...quiet } = process.env;
      const [code, stderr] = await run({ ...quiet, NODE_DEBUG: 'httplib' });
      assert.equal(code, 0, stderr);
      assert.match(stderr, new RegExp(`^HTTPLIB \\d+: connect 127\\.0\\.0\\.1:${srv.port}$`, 'm'));
      const [code2, stderr2] = await run(quiet);
      assert.equal(code2, 0, stderr2);
      assert.doesNotMatch(stderr2, /HTTPLIB/);
    } finally {
      await srv.close();
    }
  });
});

describe('diagnostics_channel', () => {
  const names = [
    'httplib:connect',
    'httplib:request:headers',
    'httplib:response:headers',
    'httplib:error',
  ] as const;
  const seen: Record<string, Array<Record<string, unknown>>> = {};
  const listeners = new Map<string, (message: unknown) => void>();

  before(() => {
    for (const name of names) {
      seen[name] = [];
      const listener = (message: unknown): void => {
        seen[name]?.push(message as Record<string, unknown>);
      };
      listeners.set(name, listener);
      diagnostics_channel.subscribe(name, listener);
    }
  });
  after(() => {
    for (const [name, listener] of listeners) diagnostics_channel.unsubscribe(name, listener);
  });
  const reset = (): void => {
    for (const name of names) (seen[name] as unknown[]).length = 0;
  };

  it('connect, request:headers and response:headers fire with their fields', async () => {
    reset();
    const srv = await scriptedServer([REPLIES[0] as string]);
    try {
      const conn = new HTTPConnection('127.0.0.1', srv.port);
      await conn.request('GET', '/path?x=1', null, { 'X-Test': 'yes' });
      const r = await conn.getresponse();
      await r.read();

      const [connect] = seen['httplib:connect'] as Array<Record<string, unknown>>;
      assert.equal(seen['httplib:connect']?.length, 1);
      assert.equal(connect?.connection, conn);
      assert.equal(connect?.host, '127.0.0.1');
      assert.equal(connect?.port, srv.port);
      assert.ok(connect?.socket instanceof net.Socket);

      assert.equal(seen['httplib:request:headers']?.length, 1);
      const request = seen['httplib:request:headers']?.[0];
      assert.equal(request?.connection, conn);
      assert.equal(request?.method, 'GET');
      assert.equal(request?.url, '/path?x=1');
      assert.equal(
        request?.head,
        `GET /path?x=1 HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\n` +
          'Accept-Encoding: identity\r\nX-Test: yes\r\n\r\n',
      );

      assert.equal(seen['httplib:response:headers']?.length, 1);
      const response = seen['httplib:response:headers']?.[0];
      assert.equal(response?.connection, conn);
      assert.equal(response?.response, r);
      assert.ok(r instanceof HTTPResponse);
      assert.equal(seen['httplib:error']?.length, 0);
      conn.close();
    } finally {
      await srv.close();
    }
  });

  it('error fires when a request, a response head or a body fails', async () => {
    reset();
    // Refused: the request fails before anything is sent.
    const refused = new HTTPConnection('127.0.0.1', await closedPort());
    const refusal = await refused.request('GET', '/').catch((e: unknown) => e);
    assert.equal((refusal as NodeJS.ErrnoException).code, 'ECONNREFUSED');

    const srv = await scriptedServer([
      [(socket) => socket.destroy()],
      [(socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello')],
    ]);
    try {
      const dropped = new HTTPConnection('127.0.0.1', srv.port);
      await dropped.request('GET', '/');
      const drop = await dropped.getresponse().catch((e: unknown) => e);
      assert.ok(drop instanceof RemoteDisconnected);

      const short = new HTTPConnection('127.0.0.1', srv.port);
      await short.request('GET', '/');
      const r = await short.getresponse();
      const cut = await r.read().catch((e: unknown) => e);
      assert.ok(cut instanceof IncompleteRead);

      assert.deepEqual(
        seen['httplib:error']?.map((m) => [m.connection, m.error]),
        [
          [refused, refusal],
          [dropped, drop],
          [short, cut],
        ],
      );
    } finally {
      await srv.close();
    }
  });

  it('a subscriber leaves a forgotten await as it is: no unhandled rejection', async () => {
    // A port of Python's `conn.request(); conn.getresponse()` without the first await:
    // getresponse() reports the refusal, and the request's promise, which the package
    // holds, is not an unhandled rejection, with a subscriber as without one.
    reset();
    const unhandled: unknown[] = [];
    const onRejection = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onRejection);
    try {
      const conn = new HTTPConnection('127.0.0.1', await closedPort());
      void conn.request('GET', '/');
      const failure = await conn.getresponse().catch((e: unknown) => e);
      assert.equal((failure as NodeJS.ErrnoException).code, 'ECONNREFUSED');
      conn.close();
      // Unhandled rejections are told once the microtasks of a turn have run.
      await nextTurn();
      assert.deepEqual(unhandled, []);
      assert.equal(seen['httplib:error']?.[0]?.error, failure);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });
});
