/**
 * Hostile call patterns through the blocking entry: calls in the wrong order, `close()`
 * between calls, calls after `close()`, reads of closed responses: whatever the main
 * entry does, the blocking entry does (the outcomes of both are compared). Plus what
 * only the blocking entry has: `signal` and `createConnection` refused, `timeout`
 * bounding every wait, and a call made from inside another one refused.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type * as main from '../../src/index.ts';
import { directTransport } from '../../src/sync/direct.ts';
import * as httplib from '../../src/sync.ts';
import { connectionOn, noUncaught, type Peer, sameAsMain, startPeer, thrown } from './peer.ts';

noUncaught();
let peer: Peer;
before(async () => {
  peer = await startPeer();
  httplib.setdefaulttimeout(10);
});
after(async () => {
  httplib.setdefaulttimeout(null);
  await peer.close();
});

const get = (path: string) => (c: main.HTTPConnection) => c.request('GET', path);
const response = (c: main.HTTPConnection) => c.getresponse();
const read =
  (i = -1, amt?: number) =>
  (_c: main.HTTPConnection, r: main.HTTPResponse[]) =>
    r.at(i)?.read(amt);
const close = (c: main.HTTPConnection) => c.close();

describe('call orders, compared with the main entry', () => {
  const cases: Array<[string, Array<(c: main.HTTPConnection, r: main.HTTPResponse[]) => unknown>]> =
    [
      [
        'close() between request and getresponse, then again',
        [get('/hello'), close, response, get('/hello'), response, read()],
      ],
      [
        'close() of the connection while its response is unread',
        [get('/bytes?n=5000'), response, close, read(), read(), get('/hello'), response, read()],
      ],
      [
        'close() of the response before its end',
        [
          get('/bytes?n=5000'),
          response,
          read(-1, 10),
          (_c, r) => r.at(-1)?.close(),
          read(),
          (_c, r) => r.at(-1)?.isclosed(),
          get('/hello'),
          response,
          read(),
        ],
      ],
      ['calls after close()', [close, close, get('/hello'), response, read(), close, response]],
      ['getresponse() twice', [get('/hello'), response, response, read(0)]],
      [
        'getresponse() before the previous response was read',
        [get('/hello'), response, get('/hello'), response, read(0), response],
      ],
      [
        'putrequest() twice, putheader() outside a request',
        [
          (c) => c.putheader('X', 'y'),
          (c) => c.putrequest('GET', '/'),
          (c) => c.putrequest('GET', '/'),
          close,
          get('/hello'),
          response,
          read(),
        ],
      ],
      ['endheaders() with no request', [(c) => c.endheaders(), get('/hello'), response, read()]],
      [
        'a response that will close: the next request opens a new connection',
        [get('/close'), response, read(), get('/hello'), response, read()],
      ],
      [
        'reads after the end',
        [
          get('/hello'),
          response,
          read(),
          read(),
          read(-1, 5),
          (_c, r) => r.at(-1)?.readinto(Buffer.alloc(4)),
          (_c, r) => r.at(-1)?.read1(),
          (_c, r) => r.at(-1)?.readline(),
          (_c, r) => r.at(-1)?.peek(),
        ],
      ],
      [
        'read(amt) with an amount that is not an integer',
        [get('/hello'), response, read(-1, 1.5), read()],
      ],
      [
        'size arguments that are not integers, readinto() of other views and of a string',
        [
          get('/hello'),
          response,
          (_c, r) => r.at(-1)?.read1(Number.NaN),
          (_c, r) => r.at(-1)?.readline(2.5),
          (_c, r) => r.at(-1)?.peek('5' as unknown as number),
          (_c, r) => r.at(-1)?.readinto('abc' as unknown as Uint8Array),
          (_c, r) => r.at(-1)?.readinto(new DataView(new ArrayBuffer(3)) as unknown as Uint8Array),
          read(),
        ],
      ],
      [
        'a server that closes before answering, then the next request',
        [
          (c) => {
            c.port = peer.raw;
          },
          get('/nothing'),
          response,
          get('/nothing'),
          response,
        ],
      ],
      [
        'a body cut short',
        [
          (c) => {
            c.port = peer.raw;
          },
          get('/cut'),
          response,
          read(-1, 3),
          read(),
          read(),
        ],
      ],
    ];
  for (const [name, steps] of cases) {
    it(name, async () => {
      await sameAsMain(peer.http, steps);
    });
  }
});

describe("a response's state as CPython's, compared with the main entry", () => {
  const raw = (c: main.HTTPConnection) => {
    c.port = peer.raw;
  };
  const on =
    (f: (r: main.HTTPResponse) => unknown) => (_c: main.HTTPConnection, r: main.HTTPResponse[]) =>
      f(r.at(-1) as main.HTTPResponse);
  const cases: Array<
    [string, Array<(c: main.HTTPConnection, r: main.HTTPResponse[]) => unknown>, string[]]
  > = [
    [
      "read(0), read1(0), readinto(empty) at the last chunk end the body (Python's _get_chunk_left)",
      [
        raw,
        ...[
          (r: main.HTTPResponse) => r.read(0),
          (r: main.HTTPResponse) => r.read1(0),
          (r: main.HTTPResponse) => r.readinto(Buffer.alloc(0)),
        ].flatMap((zero) => [get('/chunked-empty'), response, on(zero), on((r) => r.isclosed())]),
        get('/chunked-abc'),
        response,
        read(),
      ],
      [
        'ok',
        ...['ok ', 'ok ', 'ok 0'].flatMap((z) => ['ok', 'ok response 200', z, 'ok true']),
        'ok',
        'ok response 200',
        'ok abc',
      ],
    ],
    [
      'read1() that takes the last data chunk takes the last chunk received with it',
      [
        raw,
        get('/chunked-abc'),
        response,
        on((r) => r.read1()),
        on((r) => r.isclosed()),
        get('/chunked-abc'),
        response,
        read(),
      ],
      ['ok', 'ok', 'ok response 200', 'ok abc', 'ok true', 'ok', 'ok response 200', 'ok abc'],
    ],
    [
      'length after IncompleteRead: as before the read that failed; a later read raises again',
      [
        raw,
        get('/cut'),
        response,
        read(-1, 2),
        on((r) => r.length),
        read(),
        on((r) => r.length),
        read(),
        on((r) => r.length),
      ],
      [
        'ok',
        'ok',
        'ok response 200',
        'ok he',
        'ok 8',
        'IncompleteRead: IncompleteRead(3 bytes read, 5 more expected)',
        'ok 8',
        // The body stays cut short: the next read raises again, never b''.
        'IncompleteRead: IncompleteRead(0 bytes read, 5 more expected)',
        'ok 8',
      ],
    ],
    [
      'fileno() once the body is over (read to its end, or closed): TypeError (Python: AttributeError)',
      [
        get('/hello'),
        response,
        on((r) => typeof r.fileno()),
        read(),
        on((r) => r.fileno()),
        get('/bytes?n=10'),
        response,
        read(-1, 2),
        (_c, r) => r.at(-1)?.close(),
        on((r) => r.fileno()),
      ],
      [
        'ok',
        'ok response 200',
        'ok number',
        'ok hello\n',
        'TypeError: fileno of a closed response',
        'ok',
        'ok response 200',
        'ok \x00\x01',
        'ok',
        'TypeError: fileno of a closed response',
      ],
    ],
  ];
  for (const [name, steps, expected] of cases) {
    it(name, async () => {
      assert.deepEqual(await sameAsMain(peer.http, steps), expected);
    });
  }
});

describe("a call failed by the caller's own code, compared with the main entry", () => {
  const mine = new Error('mine');
  const throwing = {
    get encode_chunked(): boolean {
      throw mine;
    },
  };
  const cases: Array<
    [string, Array<(c: main.HTTPConnection, r: main.HTTPResponse[]) => unknown>, string[]]
  > = [
    [
      'request() whose options getter throws: nothing sent, the next request works',
      [(c) => c.request('GET', '/hello', null, null, throwing), get('/hello'), response, read()],
      // Before (direct transport): CannotSendRequest('Request-started') from then on.
      ['Error: mine', 'ok', 'ok response 200', 'ok hello\n'],
    ],
    [
      'endheaders() whose options getter throws: the request stays started, the next endheaders() sends it whole',
      [
        (c) => c.putrequest('GET', '/hello'),
        (c) => c.endheaders(null, throwing),
        (c) => c.endheaders(),
        response,
        read(),
      ],
      // Before (direct transport): the head was taken, the second endheaders() sent a
      // bare CRLF and getresponse() waited for ever.
      ['ok', 'Error: mine', 'ok', 'ok response 200', 'ok hello\n'],
    ],
    [
      'endheaders(body) whose Symbol.iterator throws: the head went, the connection is closed, a second endheaders() is CannotSendHeader',
      [
        (c) => c.putrequest('POST', '/echo'),
        (c) =>
          c.endheaders({
            [Symbol.iterator]() {
              throw mine;
            },
          }),
        (c) => c.endheaders('x'),
        response,
        (c) => c.sock === null,
        get('/hello'),
        response,
        read(),
      ],
      // Before (both transports): the iterator was taken before the state moved, the
      // request stayed started, and endheaders('x') sent it.
      [
        'ok',
        'Error: mine',
        'CannotSendHeader: ',
        'ResponseNotReady: Idle',
        'ok true',
        'ok',
        'ok response 200',
        'ok hello\n',
      ],
    ],
    [
      "a body iterator whose next() gives what is not an object: the language's TypeError",
      [
        ...[5, null].map(
          (result) => (c: main.HTTPConnection) =>
            c.request('POST', '/echo', {
              [Symbol.iterator]: () => ({ next: () => result as never }),
            }),
        ),
        get('/hello'),
        response,
        read(),
      ],
      // Before: 5 was an item `undefined` ('message_body items should be ...'), null a
      // crash ("Cannot read properties of null (reading 'done')").
      [
        'TypeError: Iterator result 5 is not an object',
        'TypeError: Iterator result null is not an object',
        'ok',
        'ok response 200',
        'ok hello\n',
      ],
    ],
  ];
  for (const [name, steps, expected] of cases) {
    it(name, async () => {
      assert.deepEqual(await sameAsMain(peer.http, steps), expected);
    });
  }
});

describe('what only the blocking entry has', () => {
  const signal = AbortSignal.timeout(60_000);

  it('refuses signal options with a TypeError, before anything is done', () => {
    let err = thrown(() => new httplib.HTTPConnection('127.0.0.1', peer.http, { signal } as never));
    assert.ok(err instanceof TypeError);
    assert.match((err as Error).message, /signal/);
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    for (const call of [
      () => conn.request('GET', '/hello', null, null, { signal } as never),
      () => conn.endheaders(null, { signal } as never),
      () => conn.send('x', { signal } as never),
      () => conn.getresponse({ signal } as never),
    ]) {
      err = thrown(call);
      assert.ok(err instanceof TypeError, String(err));
      assert.match((err as Error).message, /takes no signal/);
    }
    assert.equal(conn.sock, null, 'nothing was sent');
    conn.request('GET', '/hello');
    const r = conn.getresponse();
    for (const call of [
      () => r.read(null, { signal } as never),
      () => r.readinto(Buffer.alloc(1), { signal } as never),
      () => r.read1(1, { signal } as never),
      () => r.peek(1, { signal } as never),
      () => r.readline(-1, { signal } as never),
    ]) {
      assert.ok(thrown(call) instanceof TypeError);
    }
    assert.equal(r.read().toString(), 'hello\n', 'the refused reads read nothing');
    conn.close();
    // A null signal is no signal (API.md: null options are no options), as on the main entry.
    const none = new httplib.HTTPConnection('127.0.0.1', peer.http, { signal: null } as never);
    none.request('GET', '/hello', null, null, { signal: null } as never);
    assert.equal(
      none
        .getresponse({ signal: null } as never)
        .read(null, { signal: null } as never)
        .toString(),
      'hello\n',
    );
    none.close();
  });

  it('refuses createConnection (a function cannot run in the worker)', () => {
    const err = thrown(
      () => new httplib.HTTPConnection('h', 80, { createConnection: () => null } as never),
    );
    assert.ok(err instanceof TypeError);
    assert.match((err as Error).message, /createConnection/);
  });

  for (const direct of [true, false]) {
    it(`a declared length is not an allocation (${direct ? 'direct' : 'worker'} transport): read() of 2^53-1 with 4 bytes, of 2 GiB with 3 MiB, is IncompleteRead with them`, () => {
      const saved = directTransport.enabled;
      directTransport.enabled = direct && saved;
      try {
        for (const [path, sent, expected] of [
          ['/huge-tiny', Buffer.from('tiny'), 2 ** 53 - 1 - 4],
          [
            '/huge-3mib',
            Buffer.from(Array.from({ length: 3 * 1024 * 1024 }, (_, i) => i % 251)),
            2 ** 31 - 3 * 1024 * 1024,
          ],
        ] as const) {
          for (const read of [
            (r: httplib.HTTPResponse) => r.read(),
            (r: httplib.HTTPResponse) => r.read(2 ** 40),
          ]) {
            const conn = new httplib.HTTPConnection('127.0.0.1', peer.raw);
            conn.request('GET', path);
            const r = conn.getresponse();
            const before = process.memoryUsage().arrayBuffers;
            const err = thrown(() => read(r));
            const grew = (process.memoryUsage().arrayBuffers - before) / 2 ** 20;
            assert.ok(err instanceof httplib.IncompleteRead, `${path}: ${String(err)}`);
            assert.ok(err.partial.equals(sent), `${path}: ${err.partial.length} bytes`);
            assert.equal(err.expected, expected);
            // The rule: at most max(1 MiB, 4 × what arrived) at a time, and the buffers it
            // replaced until they are collected; a buffer sized from the length is GiBs.
            assert.ok(grew < 64, `${path}: array buffers grew by ${grew.toFixed(1)} MiB`);
            conn.close();
          }
        }
      } finally {
        directTransport.enabled = saved;
      }
    });
  }

  for (const direct of [true, false]) {
    it(`a body cut short, read in pieces (${direct ? 'direct' : 'worker'} transport): every byte sent, in order, then IncompleteRead with the last piece's share`, () => {
      const saved = directTransport.enabled;
      directTransport.enabled = direct && saved;
      const sent = Buffer.from(Array.from({ length: 3 * 1024 * 1024 }, (_, i) => i % 251));
      try {
        // Sizes that do not divide 3 MiB, so the cut falls inside a piece.
        for (const [name, piece] of [
          ['read(65529)', (r: httplib.HTTPResponse) => r.read(65529)],
          [
            'readinto(100000)',
            (r: httplib.HTTPResponse) => {
              const b = Buffer.alloc(100_000);
              return b.subarray(0, r.readinto(b));
            },
          ],
          ['read1(65536)', (r: httplib.HTTPResponse) => r.read1(65536)],
        ] as const) {
          const conn = new httplib.HTTPConnection('127.0.0.1', peer.raw);
          conn.request('GET', '/huge-3mib');
          const r = conn.getresponse();
          const got: Buffer[] = [];
          const err = thrown(() => {
            for (;;) {
              const b = piece(r);
              if (b.length === 0) return;
              got.push(b);
            }
          });
          assert.ok(err instanceof httplib.IncompleteRead, `${name}: ${String(err)}`);
          got.push(err.partial);
          assert.ok(Buffer.concat(got).equals(sent), `${name}: ${Buffer.concat(got).length} bytes`);
          assert.equal(err.expected, 2 ** 31 - sent.length, name);
          assert.equal(r.isclosed(), true, name);
          // The body stays cut short: the next read raises again, never b''.
          const again = thrown(() => r.read());
          assert.ok(again instanceof httplib.IncompleteRead, `${name}: ${String(again)}`);
          assert.deepEqual([again.partial.length, again.expected], [0, err.expected], name);
          conn.close();
        }
      } finally {
        directTransport.enabled = saved;
      }
    });
  }

  /**
   * Every read method once more, on a body cut short: each throws `IncompleteRead` with
   * `partial` empty and `expected`, its `cause` checked by `cause`.
   */
  function assertStaysCut(
    r: httplib.HTTPResponse,
    what: string,
    expected: number,
    cause: (c: unknown) => void,
  ): void {
    const b = new Uint8Array(4);
    for (const [name, later] of [
      ['read()', () => r.read()],
      ['read(5)', () => r.read(5)],
      ['readinto', () => r.readinto(b)],
      ['read1', () => r.read1()],
      ['readline', () => r.readline()],
      ['peek', () => r.peek()],
      ['text', () => r.text()],
      ['iteration', () => [...r]],
    ] as const) {
      const err = thrown(later);
      assert.ok(err instanceof httplib.IncompleteRead, `${what} ${name}: ${String(err)}`);
      assert.deepEqual([err.partial.length, err.expected], [0, expected], `${what} ${name}`);
      cause(err.cause);
    }
  }

  for (const direct of [true, false]) {
    it(`a body cut short by a failed read stays cut short (${direct ? 'direct' : 'worker'} transport): after a timeout or a reset, every later read throws IncompleteRead (cause: that failure), never b''`, () => {
      for (const [path, failure] of [
        ['/partial-stall', (err: unknown) => err instanceof httplib.TimeoutError],
        ['/partial-reset', (err: unknown) => (err as NodeJS.ErrnoException).code === 'ECONNRESET'],
      ] as const) {
        const conn = connectionOn(direct, peer.raw);
        conn.timeout = 0.5;
        try {
          conn.request('GET', path);
          const r = conn.getresponse();
          assert.deepEqual(r.read(2), Buffer.from('ab'));
          const first = thrown(() => r.read());
          assert.ok(failure(first), `${path}: ${String(first)}`);
          assertStaysCut(r, path, 98, (cause) =>
            assert.equal((cause as Error).message, (first as Error).message, path),
          );
          // Still so after the connection's next responses were read (the worker forgets
          // a response then: it threw a plain Error); the caller's close() ends it: b''.
          // Kept-alive answers the server never closes (`/echo-head`): the second request
          // goes on the first one's socket, with no close of the server's to cross.
          for (let i = 0; i < 2; i++) {
            conn.request('GET', '/echo-head');
            const text = conn.getresponse().read().toString('latin1');
            assert.ok(text.startsWith('GET /echo-head HTTP/1.1\r\n'), `${path}: ${text}`);
          }
          assert.ok(thrown(() => r.read()) instanceof httplib.IncompleteRead, path);
          r.close();
          assert.deepEqual(r.read(), Buffer.alloc(0), `${path}: after close()`);
        } finally {
          conn.close();
        }
      }
      // A refused argument loses nothing: the body reads on, then b'' even once the worker
      // forgot the response.
      const conn = connectionOn(direct, peer.http);
      try {
        conn.request('GET', '/hello');
        const r = conn.getresponse();
        assert.ok(thrown(() => r.read1('x' as never)) instanceof TypeError);
        assert.equal(r.read().toString(), 'hello\n');
        for (let i = 0; i < 2; i++) {
          conn.request('GET', '/hello');
          conn.getresponse().read();
        }
        assert.deepEqual(r.read(), Buffer.alloc(0));
      } finally {
        conn.close();
      }
    });
  }

  for (const direct of [true, false]) {
    it(`a body the server's end cut short stays cut short (${direct ? 'direct' : 'worker'} transport): short of its Content-Length or inside a chunk, every later read throws IncompleteRead again, as the first (Python 2.7 and 3 for a chunk), never b''`, () => {
      for (const [path, head, partial, expected] of [
        ['/cut', 2, 'llo', 5],
        ['/chunked-cut', 7, '', 4],
      ] as const) {
        const conn = connectionOn(direct, peer.raw);
        try {
          conn.request('GET', path);
          const r = conn.getresponse();
          assert.equal(r.read(head).length, head, path);
          const first = thrown(() => r.read(7));
          assert.ok(first instanceof httplib.IncompleteRead, `${path}: ${String(first)}`);
          assert.deepEqual([first.partial.toString(), first.expected], [partial, expected], path);
          assertStaysCut(r, path, expected, (cause) => assert.equal(cause, undefined, path));
          // Still so after the connection's next response was read (the worker forgets a
          // response then); the caller's close() ends it: b''.
          conn.request('GET', '/echo-head');
          assert.ok(conn.getresponse().read().toString('latin1').startsWith('GET /echo-head'));
          assert.ok(thrown(() => r.read()) instanceof httplib.IncompleteRead, path);
          r.close();
          assert.deepEqual(r.read(), Buffer.alloc(0), `${path}: after close()`);
        } finally {
          conn.close();
        }
      }
    });
  }

  for (const direct of [true, false]) {
    it(`a send() after part of the body, whose file is missing (${direct ? 'direct' : 'worker'} transport): the socket whose head promised more is never reused`, async () => {
      const conn = connectionOn(direct, peer.http);
      conn.timeout = 5;
      try {
        conn.request('GET', '/hello');
        conn.getresponse().read();
        conn.putrequest('POST', '/echo');
        conn.putheader('Content-Length', 6);
        conn.endheaders();
        conn.send('aa');
        const err = thrown(() => conn.send(fs.createReadStream('/nonexistent/httplib-ts-body')));
        assert.equal((err as NodeJS.ErrnoException).code, 'ENOENT', String(err));
        assert.ok(thrown(() => conn.getresponse()) instanceof httplib.ResponseNotReady);
        conn.request('GET', '/echo?next');
        const echoed = JSON.parse(conn.getresponse().read().toString());
        assert.equal(echoed.url, '/echo?next');
        // The next request went alone, on a new socket: not as the POST's missing bytes.
        const records = await peer.records();
        assert.equal(records.at(-1)?.url, '/echo?next');
        assert.ok(!records.some((r) => r.method === 'POST' && r.body.startsWith('aa')));
      } finally {
        conn.close();
      }
    });
  }

  for (const direct of [true, false]) {
    it(`a request body transferred by the debug output, at the send: line (${direct ? 'direct' : 'worker'} transport): a TypeError, no body bytes sent (the worker sends its copy), the connection carries on`, () => {
      const ab = new ArrayBuffer(16);
      const body = new Uint8Array(ab).fill(0x41);
      let armed = true;
      const conn = connectionOn(direct, peer.http);
      conn.debugOutput = (text: string) => {
        if (!armed || !text.startsWith('send:')) return;
        armed = false;
        structuredClone(ab, { transfer: [ab] });
      };
      conn.set_debuglevel(1);
      try {
        // (HTTPLIB_SYNC_DIRECT=0 runs every connection on the worker.)
        if (direct && directTransport.enabled) {
          const err = thrown(() => conn.request('POST', '/echo', body));
          assert.ok(err instanceof TypeError, String(err));
          assert.equal((err as NodeJS.ErrnoException).code, 'ERR_HTTPLIB_DETACHED_BUFFER');
        } else {
          // The worker was given a copy before the call: that copy goes out whole.
          conn.request('POST', '/echo', body);
          assert.equal(JSON.parse(conn.getresponse().read().toString()).body, 'A'.repeat(16));
        }
        conn.set_debuglevel(0);
        conn.request('POST', '/echo', 'next');
        assert.equal(JSON.parse(conn.getresponse().read().toString()).body, 'next');
      } finally {
        conn.close();
      }
    });
  }

  for (const direct of [true, false]) {
    it(`connect() after a request, before its getresponse() (${direct ? 'direct' : 'worker'} transport): the request is given up (ResponseNotReady Idle), as on the main entry`, () => {
      const saved = directTransport.enabled;
      directTransport.enabled = direct && saved;
      let conn: httplib.HTTPConnection;
      try {
        conn = new httplib.HTTPConnection('127.0.0.1', peer.http, { timeout: 5 });
      } finally {
        directTransport.enabled = saved;
      }
      conn.request('GET', '/slow?ms=200');
      conn.connect();
      const err = thrown(() => conn.getresponse());
      assert.ok(err instanceof httplib.ResponseNotReady, String(err));
      assert.equal(err.message, 'Idle');
      conn.request('GET', '/hello');
      assert.equal(conn.getresponse().read().toString(), 'hello\n');
      conn.close();
    });
  }

  it('timeout bounds each wait: a silent server is a TimeoutError after about that long', () => {
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.raw, { timeout: 0.3 });
    conn.request('GET', '/hang');
    const start = performance.now();
    const err = thrown(() => conn.getresponse()) as httplib.TimeoutError;
    const took = performance.now() - start;
    assert.ok(err instanceof httplib.TimeoutError, String(err));
    assert.equal(err.code, 'ETIMEDOUT');
    assert.ok(took >= 250 && took < 3000, `${took} ms`);
    conn.close();
  });

  for (const direct of [true, false]) {
    it(`timeout bounds each wait for the socket, not a whole send: a server reading slowly gets a body that outlasts it (${direct ? 'direct' : 'worker'} transport)`, () => {
      const size = 48 * 1024 * 1024;
      const conn = connectionOn(direct, peer.raw);
      conn.timeout = 0.25;
      try {
        const start = performance.now();
        conn.request('PUT', '/throttled', Buffer.alloc(size, 0x61));
        const took = performance.now() - start;
        // The peer still drains the socket buffers (MiBs at 1 MiB a tick) before it
        // answers: the wait for the head is not what this tests.
        conn.timeout = 10;
        assert.equal(conn.getresponse().read().toString(), `got ${size}`);
        // Else the test shows nothing: the send must have outlasted the timeout.
        assert.ok(took > 500, `sent in ${took.toFixed(0)} ms`);
      } finally {
        conn.close();
      }
    });
  }

  it('timeout bounds a slow body too, from setdefaulttimeout', () => {
    httplib.setdefaulttimeout(0.2);
    try {
      const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
      assert.equal(conn.timeout, 0.2);
      conn.request('GET', '/slow?ms=3000');
      assert.ok(thrown(() => conn.getresponse()) instanceof httplib.TimeoutError);
      conn.close();
    } finally {
      httplib.setdefaulttimeout(10);
    }
  });

  for (const direct of [true, false]) {
    it(`a call made from inside another (a debugOutput function, a body iterable) is an Error with its code, not a deadlock (${direct ? 'direct' : 'worker'} transport)`, () => {
      const conn = connectionOn(direct, peer.http);
      const other = connectionOn(direct, peer.http);
      let inner: unknown = null;
      conn.debugOutput = () => {
        if (inner === null) inner = thrown(() => conn.close());
      };
      conn.set_debuglevel(1);
      conn.request('GET', '/hello');
      conn.getresponse().read();
      assert.ok(inner instanceof Error);
      assert.match((inner as Error).message, /while another one was running/);
      // Before: no code (API.md: every error of the package has one).
      assert.equal((inner as NodeJS.ErrnoException).code, 'ERR_HTTPLIB_SYNC_NESTED_CALL');
      conn.set_debuglevel(0);
      const err = thrown(() =>
        conn.request(
          'POST',
          '/echo',
          (function* () {
            yield 'x';
            other.request('GET', '/hello');
          })(),
        ),
      );
      assert.match((err as Error).message, /while another one was running/);
      assert.equal((err as NodeJS.ErrnoException).code, 'ERR_HTTPLIB_SYNC_NESTED_CALL');
      conn.close();
      other.close();
    });
  }

  for (const [outerDirect, innerDirect] of [
    [false, true],
    [true, false],
  ]) {
    it(`a call made from inside another is refused across the transports: ${innerDirect ? 'direct' : 'worker'} inside ${outerDirect ? 'direct' : 'worker'}`, () => {
      const outer = connectionOn(outerDirect as boolean, peer.http);
      const inner = connectionOn(innerDirect as boolean, peer.http);
      // The inner connection has a socket: a request on it needs nothing of the worker.
      inner.request('GET', '/hello');
      assert.equal(inner.getresponse().read().toString(), 'hello\n');
      const attempt = (): unknown => {
        try {
          inner.request('GET', '/hello');
          return 'sent';
        } catch (err) {
          return err;
        }
      };
      const refused = (what: unknown): void => {
        // Before: the inner request went out (its response then waited for bytes the
        // blocked worker could not deliver), or a worker call ran whole.
        assert.ok(what instanceof Error, String(what));
        assert.equal((what as NodeJS.ErrnoException).code, 'ERR_HTTPLIB_SYNC_NESTED_CALL');
      };
      let fromBody: unknown = null;
      outer.request(
        'POST',
        '/echo',
        (function* () {
          yield 'a';
          fromBody = attempt();
          yield 'b';
        })(),
      );
      assert.match(outer.getresponse().read().toString(), /"body":"ab"/);
      refused(fromBody);
      let fromDebug: unknown = null;
      outer.debugOutput = (text) => {
        if (fromDebug === null && text.startsWith('reply:')) fromDebug = attempt();
      };
      outer.set_debuglevel(1);
      outer.request('GET', '/hello');
      assert.equal(outer.getresponse().read().toString(), 'hello\n');
      refused(fromDebug);
      // Nothing of the refused requests was sent: the inner connection carries on.
      inner.request('GET', '/hello');
      assert.equal(inner.getresponse().read().toString(), 'hello\n');
      outer.close();
      inner.close();
    });
  }
});
