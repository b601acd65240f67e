/**
 * Response framing and the response-reading API through the real client, over real
 * sockets on 127.0.0.1, against raw servers that send exact bytes.
 *
 * Covers shared/API.md "Reading a response" and the response-side rules of "Where this
 * package is deliberately stricter than CPython 2.7": Content-Length, chunked (with
 * extensions and trailers) and until-close bodies; bodiless responses (HEAD, 204, 304,
 * 1xx) whatever they claim; interim responses; every malformed head and body, each of
 * which must also drop the connection so that the next request reconnects. Then every
 * reading method over the three framings, with the response sent whole or one byte per
 * TCP write.
 */
import assert from 'node:assert/strict';
import type * as net from 'node:net';
import { describe } from 'node:test';
import {
  BadStatusLine,
  HTTPException,
  HTTPMessage,
  type HTTPResponse,
  ImproperConnectionState,
  IncompleteRead,
  LineTooLong,
  RemoteDisconnected,
  UnknownProtocol,
} from '../../src/index.ts';
import { peerClosed, type Reply, timeLimited, trickle } from './servers.ts';
import { breaksConnection, expectNext, headFails, NEXT, withSession } from './sessions.ts';

/** Generous: a hang is a failure, but a loaded machine must not make a test fail. */
const { it } = timeLimited(30_000);

/**
 * A session whose first answer begins with `first` and goes on with what `send` writes
 * later (each call made before the bytes it needs are written).
 */
function laterBytes(first: string): {
  replies: Parameters<typeof withSession>[0];
  send: (bytes: string) => void;
} {
  let socket: net.Socket | undefined;
  const replies: Parameters<typeof withSession>[0] = [
    [
      (sock: net.Socket) => {
        socket = sock;
        sock.write(first);
      },
      NEXT,
    ],
  ];
  return { replies, send: (bytes) => void socket?.write(bytes) };
}

/** A reply that writes `bytes` and then closes the connection (FIN). */
function thenClose(bytes: string | Buffer): Reply {
  return (socket) => {
    socket.end(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  };
}

function isIncompleteRead(partial: string, expected: number | null) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof IncompleteRead, `expected IncompleteRead, got ${String(err)}`);
    assert.equal(err.partial.toString('latin1'), partial);
    assert.equal(err.expected, expected);
    return true;
  };
}

function headerBlock(lines: string[]): string {
  return lines.map((l) => `${l}\r\n`).join('');
}

describe('framing: Content-Length', () => {
  it('reads exactly Content-Length bytes and keeps the connection', async () => {
    await withSession([['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello', NEXT]], async (s) => {
      const r = await s.get();
      assert.equal(r.length, 5);
      assert.equal(r.chunked, false);
      assert.equal(r.will_close, false);
      assert.notEqual(s.conn.sock, null);
      assert.equal((await r.read()).toString(), 'hello');
      assert.equal(r.length, 0);
      assert.equal(r.isclosed(), true);
      await expectNext(s, 1);
    });
  });

  it('readlines(hint) as Python 3: every line, or lines until they hold hint bytes; the rest stays', async () => {
    const reply = 'HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\na\nb\nccc\nd';
    await withSession([[reply, NEXT]], async (s) => {
      const r = await s.get();
      await assert.rejects(r.readlines(1.5), TypeError);
      assert.deepEqual((await r.readlines(3)).map(String), ['a\n', 'b\n']);
      assert.deepEqual((await r.readlines(1)).map(String), ['ccc\n']);
      assert.deepEqual((await r.readlines(0)).map(String), ['d']);
      assert.deepEqual(await r.readlines(), []);
      assert.equal(r.isclosed(), true);
      await expectNext(s, 1);
    });
  });

  it('Content-Length: 0 is an empty body on a kept connection', async () => {
    await withSession([['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', NEXT]], async (s) => {
      const r = await s.get();
      assert.equal(r.length, 0);
      assert.equal((await r.read()).length, 0);
      assert.equal(r.isclosed(), true);
      await expectNext(s, 1);
    });
  });

  it('readline(0), peek(), read1() and readline() at the end of a Content-Length body: the read that takes the last byte ends it (as CPython 3.13)', async () => {
    // Python 3.11's read1() and readline() leave the response open at the end of the
    // body, and its peek() then waits on the socket (gh-113199, fixed in 3.12.2): here
    // the body is over as soon as its last byte is read, by whichever method.
    const later = laterBytes('HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nabc\n');
    await withSession(later.replies, async (s) => {
      const r = await s.get();
      assert.equal((await r.readline(0)).length, 0);
      assert.equal((await r.readline()).toString(), 'abc\n');
      const peeked = r.peek();
      later.send('def');
      const shown = (await peeked).toString();
      assert.ok(shown.length > 0 && 'def'.startsWith(shown), `peek() gave ${shown}`);
      assert.equal((await r.readline(2)).toString(), 'de');
      assert.equal((await r.read1()).toString(), 'f');
      assert.equal(r.isclosed(), true, 'read1() took the last byte: the body is over');
      assert.equal((await r.peek()).length, 0);
      assert.equal((await r.readline(0)).length, 0);
      assert.equal((await r.read1(0)).length, 0);
      assert.equal((await r.readline()).length, 0);
      await expectNext(s, 1);
    });
    await withSession(
      [['HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nabc\ndef', NEXT]],
      async (s) => {
        const r = await s.get();
        assert.equal((await r.read(4)).toString(), 'abc\n');
        assert.equal((await r.readline(10)).toString(), 'def');
        assert.equal(r.isclosed(), true, 'readline() took the last byte: the body is over');
        assert.equal((await r.peek(10)).length, 0);
        await expectNext(s, 1);
      },
    );
  });

  it('repeated Content-Length fields that agree are one length', async () => {
    await withSession(
      [['HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc', NEXT]],
      async (s) => {
        const r = await s.get();
        assert.equal(r.length, 3);
        assert.equal((await r.read()).toString(), 'abc');
        await expectNext(s, 1);
      },
    );
  });

  it('bytes after the declared length are never shown and the connection is not reused', async () => {
    const stray = 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil';
    await withSession(
      [[`HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc${stray}`], [NEXT]],
      async (s) => {
        const r = await s.get();
        const peeked = await r.peek();
        assert.ok(peeked.length >= 1 && 'abc'.startsWith(peeked.toString()), String(peeked));
        assert.equal((await r.read(10)).toString(), 'abc');
        assert.equal((await r.read()).length, 0);
        // Whether the stray bytes came with the body or after it, the client drops the
        // connection (wait for that, so the next request cannot race them)...
        await peerClosed(s.srv.sockets[0] as net.Socket);
        // ...and the stray response never answers the next request.
        await expectNext(s, 2);
      },
    );
  });

  it('a body shorter than Content-Length: read() raises IncompleteRead', async () => {
    await breaksConnection(
      [thenClose('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc')],
      async (s) => {
        const r = await s.get();
        await assert.rejects(r.read(), isIncompleteRead('abc', 7));
        assert.equal(r.isclosed(), true);
      },
    );
  });

  it('a read that raises IncompleteRead leaves length as it was before that read, as Python', async () => {
    // Python's read() lowers length only once it has every byte: after
    // IncompleteRead('abc', 7) it is still 10; after read(1) and then that, 9.
    const cut = thenClose('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    await breaksConnection([cut], async (s) => {
      const r = await s.get();
      await assert.rejects(r.read(), isIncompleteRead('abc', 7));
      assert.equal(r.length, 10);
    });
    for (const [what, fail, partial] of [
      ['read()', (r: HTTPResponse) => r.read(), 'bc'],
      ['read(amt)', (r: HTTPResponse) => r.read(5), 'bc'],
      ['readinto', (r: HTTPResponse) => r.readinto(Buffer.alloc(5)), 'bc'],
      ['read1 after the bytes', async (r: HTTPResponse) => [await r.read1(), await r.read1()], ''],
      ['text()', (r: HTTPResponse) => r.text(), 'bc'],
    ] as const) {
      await breaksConnection([cut], async (s) => {
        const r = await s.get();
        assert.equal((await r.read(1)).toString(), 'a');
        assert.equal(r.length, 9);
        await assert.rejects(fail(r), isIncompleteRead(partial, 7), what);
        assert.equal(r.length, what === 'read1 after the bytes' ? 7 : 9, what);
        assert.equal(r.isclosed(), true);
        // The body stays cut short: the next read raises again (never b'').
        await assert.rejects(r.read(), isIncompleteRead('', 7), what);
        assert.equal(r.length, what === 'read1 after the bytes' ? 7 : 9, what);
      });
    }
  });

  it('a body shorter than Content-Length: a read(amt) loop raises IncompleteRead (stricter than Python), and so does every later read', async () => {
    // CPython returns the short data and then b'' without complaint.
    await breaksConnection(
      [thenClose('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc')],
      async (s) => {
        const r = await s.get();
        assert.equal((await r.read(2)).toString(), 'ab');
        assert.equal(r.length, 8);
        await assert.rejects(r.read(2), isIncompleteRead('c', 7));
        assert.equal(r.isclosed(), true);
        await assert.rejects(r.read(2), isIncompleteRead('', 7));
      },
    );
  });

  it('a body shorter than Content-Length: readinto raises IncompleteRead', async () => {
    await breaksConnection(
      [thenClose('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabcd')],
      async (s) => {
        const r = await s.get();
        const b = Buffer.alloc(3);
        assert.equal(await r.readinto(b), 3);
        assert.equal(b.toString(), 'abc');
        await assert.rejects(r.readinto(b), isIncompleteRead('d', 6));
      },
    );
  });
});

describe('framing: chunked', () => {
  it('reads chunks with extensions and drops trailers; the next response is intact', async () => {
    const body =
      '5;name=value\r\nhello\r\n' +
      '6 ; quoted="a;b" ; flag\r\n world\r\n' +
      'A\r\n0123456789\r\n' +
      '0a\r\nabcdefghij\r\n' +
      '0;last=1\r\nExpires: never\r\nX-Trailer: one\r\n\r\n';
    await withSession(
      [[`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${body}`, NEXT]],
      async (s) => {
        const r = await s.get();
        assert.equal(r.chunked, true);
        assert.equal(r.length, null);
        assert.equal(r.will_close, false);
        assert.equal((await r.read()).toString(), 'hello world0123456789abcdefghij');
        assert.equal(r.isclosed(), true);
        assert.equal(r.getheader('X-Trailer'), null, 'trailers are dropped');
        await expectNext(s, 1);
      },
    );
  });

  it('readlines() joins a line split across chunks, and stops at the last chunk', async () => {
    const reply =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\na\nb\r\n4\r\n\nccc\r\n0\r\n\r\n';
    await withSession([[reply, NEXT]], async (s) => {
      const r = await s.get();
      assert.deepEqual((await r.readlines(null)).map(String), ['a\n', 'b\n', 'ccc']);
      assert.equal(r.isclosed(), true);
      await expectNext(s, 1);
    });
  });

  it('Transfer-Encoding is matched case-insensitively', async () => {
    await withSession(
      [['HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n', NEXT]],
      async (s) => {
        const r = await s.get();
        assert.equal(r.chunked, true);
        assert.equal((await r.read()).toString(), 'ok');
        await expectNext(s, 1);
      },
    );
  });

  it('chunked with Content-Length is read as chunked and its connection is not reused', async () => {
    await withSession(
      [
        [
          'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n',
        ],
        [NEXT],
      ],
      async (s) => {
        const r = await s.get();
        assert.equal(r.chunked, true);
        assert.equal(r.will_close, true);
        assert.equal(s.conn.sock, null);
        assert.equal((await r.read()).toString(), 'abcde');
        await peerClosed(s.srv.sockets[0] as net.Socket);
        await expectNext(s, 2);
      },
    );
  });

  it('a chunked body cut short: IncompleteRead with every byte of the call', async () => {
    await breaksConnection(
      [thenClose('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n5\r\nfg')],
      async (s) => {
        const r = await s.get();
        // Python 2.7 would keep only 'fg' (the last chunk's bytes).
        await assert.rejects(r.read(), isIncompleteRead('abcdefg', 3));
        assert.equal(r.isclosed(), true);
      },
    );
  });

  it('a chunked body without its last chunk: IncompleteRead', async () => {
    await breaksConnection(
      [thenClose('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n')],
      async (s) => {
        const r = await s.get();
        assert.equal((await r.read(2)).toString(), 'ab');
        await assert.rejects(r.read(), isIncompleteRead('cde', null));
      },
    );
  });

  for (const [what, size] of [
    ['not hex', 'zz'],
    ['signed', '+3'],
    ['0x-prefixed', '0x3'],
    ['ended by a bare LF', '3\nabc'],
  ] as const) {
    it(`a bad chunk size (${what}): IncompleteRead caused by a framing error`, async () => {
      const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
      await breaksConnection([`${head}5\r\nabcde\r\n${size}\r\nabc\r\n0\r\n\r\n`], async (s) => {
        const r = await s.get();
        await assert.rejects(r.read(), (err: unknown) => {
          isIncompleteRead('abcde', null)(err);
          const cause = (err as Error).cause;
          assert.ok(cause instanceof HTTPException, `cause: ${String(cause)}`);
          assert.ok(!(cause instanceof IncompleteRead));
          assert.match(cause.message, /chunk/);
          return true;
        });
        assert.equal(r.isclosed(), true);
      });
    });
  }

  it('a bad chunk size met by read(amt): partial holds the bytes of that call only', async () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    await breaksConnection([`${head}5\r\nabcde\r\nxyz\r\n`], async (s) => {
      const r = await s.get();
      assert.equal((await r.read(3)).toString(), 'abc');
      await assert.rejects(r.read(10), isIncompleteRead('de', null));
    });
  });

  for (const [what, zero] of [
    ['read(0)', async (r: HTTPResponse) => (await r.read(0)).length],
    ['read1(0)', async (r: HTTPResponse) => (await r.read1(0)).length],
    ['readinto of an empty buffer', (r: HTTPResponse) => r.readinto(Buffer.alloc(0))],
  ] as const) {
    it(`${what} reads the framing up to the next chunk: at the last chunk the body ends (Python's _get_chunk_left)`, async () => {
      const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
      // Whole: the last chunk is all the body.
      await withSession([[`${head}0\r\n\r\n`, NEXT]], async (s) => {
        const r = await s.get();
        assert.equal(await zero(r), 0);
        assert.equal(r.isclosed(), true, 'the last chunk ended the body');
        await expectNext(s, 1);
      });
      // Sent late: the zero-byte read waits for the next chunk-size line, as Python's does.
      const later = laterBytes(`${head}3\r\nabc\r\n`);
      await withSession(later.replies, async (s) => {
        const r = await s.get();
        assert.equal((await r.read(3)).toString(), 'abc');
        const pending = zero(r);
        later.send('0\r\n\r\n');
        assert.equal(await pending, 0);
        assert.equal(r.isclosed(), true, 'the last chunk ended the body');
        await expectNext(s, 1);
      });
      // Inside a chunk, or before a chunk with data: nothing is read, the body goes on.
      await withSession([[`${head}3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n`, NEXT]], async (s) => {
        const r = await s.get();
        assert.equal(await zero(r), 0);
        assert.equal(r.isclosed(), false);
        assert.equal((await r.read(1)).toString(), 'a');
        assert.equal(await zero(r), 0);
        assert.equal((await r.read()).toString(), 'bcde');
        assert.equal(r.isclosed(), true);
        await expectNext(s, 1);
      });
    });
  }

  for (const [what, zero] of [
    ['read(0)', async (r: HTTPResponse) => (await r.read(0)).length],
    ['read1(0)', async (r: HTTPResponse) => (await r.read1(0)).length],
    ['readinto of an empty buffer', (r: HTTPResponse) => r.readinto(Buffer.alloc(0))],
  ] as const) {
    it(`${what} of a body with nothing left (Content-Length: 0, 204, HEAD) ends the response, as Python's read(0): the next getresponse() works`, async () => {
      for (const [reply, method] of [
        ['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 'GET'],
        ['HTTP/1.1 204 No Content\r\n\r\n', 'GET'],
        ['HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n', 'HEAD'],
      ] as const) {
        await withSession([[reply, NEXT]], async (s) => {
          const r = await s.get('/', method);
          assert.equal(await zero(r), 0);
          // Before: left open, and the next getresponse() was ResponseNotReady.
          assert.equal(r.isclosed(), true, `${method} ${reply.split('\r\n')[0]}`);
          await expectNext(s, 1);
        });
      }
    });
  }

  it('read(0) meets a broken chunk size as Python does: IncompleteRead', async () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    await breaksConnection([`${head}3\r\nabc\r\nzz\r\n`], async (s) => {
      const r = await s.get();
      assert.equal((await r.read(3)).toString(), 'abc');
      await assert.rejects(r.read(0), isIncompleteRead('', null));
      assert.equal(r.isclosed(), true);
    });
  });

  it('read1() that takes a chunk also takes the framing after it when received: a last chunk there ends the body', async () => {
    // Python 3's read1() leaves the last chunk unread until the next read (stricter here,
    // as read(amt) is: the README's "A chunked response ends as soon as its end is in
    // the buffer").
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    await withSession(
      [[`${head}3\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n`, NEXT]],
      async (s) => {
        const r = await s.get();
        assert.equal((await r.read1()).toString(), 'abc', 'one chunk at a time');
        assert.equal(r.isclosed(), false);
        assert.equal((await r.read1()).toString(), 'de');
        assert.equal(r.isclosed(), true, 'the last chunk and trailers were here: the body is over');
        await expectNext(s, 1);
      },
    );
    // Broken framing after the chunk: read1() returns its chunk, the next read fails.
    await breaksConnection([`${head}3\r\nabc\r\nzz\r\n`], async (s) => {
      const r = await s.get();
      assert.equal((await r.read1()).toString(), 'abc');
      await assert.rejects(r.read1(), isIncompleteRead('', null));
    });
  });

  it('readline(), peek() and read1() at chunk boundaries, the next size line not yet sent and a CRLF split across writes: as CPython 3.13', async () => {
    // Each call is made before the bytes it needs are written: peek() and read1() at the
    // end of a chunk wait for the next chunk's size line (Python's _get_chunk_left()).
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    const later = laterBytes(`${head}3\r\nab\n\r`);
    await withSession(later.replies, async (s) => {
      const r = await s.get();
      assert.equal((await r.readline(3)).toString(), 'ab\n', 'a line that ends its chunk');
      assert.equal((await r.readline(0)).length, 0);
      assert.equal(r.isclosed(), false);
      const peeked = r.peek();
      later.send('\n');
      later.send('4\r\ncd\ne\r\n');
      const shown = (await peeked).toString();
      assert.ok(shown.length > 0 && 'cd\ne'.startsWith(shown), `peek() gave ${shown}`);
      const shown10 = (await r.peek(10)).toString();
      assert.ok(shown10.length > 0 && 'cd\ne'.startsWith(shown10), `peek(10) gave ${shown10}`);
      assert.equal((await r.readline(2)).toString(), 'cd');
      assert.equal((await r.readline()).toString(), '\n');
      assert.equal((await r.read1()).toString(), 'e', 'the rest of the chunk');
      const next = r.read1();
      later.send('1\r\nf\r');
      assert.equal((await next).toString(), 'f');
      const end = r.read1();
      later.send('\n0\r\n');
      later.send('\r\n');
      assert.equal((await end).length, 0);
      assert.equal(r.isclosed(), true);
      await expectNext(s, 1);
    });
  });

  it('readline(limit) across a chunk boundary returns at most limit bytes (CPython 3 returns more)', async () => {
    // CPython's chunked readline() is IOBase.readline(), which compares the limit with
    // each peek() alone, not with what it already holds: readline(5) over the chunks
    // `abc` and `def\n` returns `abcdef\n` (3.11 to 3.13). Python documents "at most
    // limit bytes", which this package keeps.
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    await withSession([[`${head}3\r\nabc\r\n4\r\ndef\n\r\n0\r\n\r\n`, NEXT]], async (s) => {
      const r = await s.get();
      assert.equal((await r.readline(5)).toString(), 'abcde');
      assert.equal((await r.readline()).toString(), 'f\n');
      assert.equal(r.isclosed(), true);
      await expectNext(s, 1);
    });
  });

  it('a read(0) that waits between chunks: every other read is refused meanwhile, and the body is intact', async () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    let later = laterBytes(`${head}3\r\nabc\r\n`);
    await withSession(later.replies, async (s) => {
      const r = await s.get();
      assert.equal((await r.read(3)).toString(), 'abc');
      const first = r.read(0);
      const others = [
        r.read(0),
        r.read(10),
        r.read1(0),
        r.readline(0),
        r.peek(),
        r.read(),
        r.readinto(Buffer.alloc(0)),
      ];
      for (const other of others) await assert.rejects(other, ImproperConnectionState);
      later.send('4\r\ndefg\r\n0\r\n\r\n');
      assert.equal((await first).length, 0);
      assert.equal(r.isclosed(), false);
      assert.equal((await r.read(10)).toString(), 'defg');
      assert.equal(r.isclosed(), true);
      await expectNext(s, 1);
    });
    later = laterBytes(`${head}3\r\nabc\r\n`);
    await withSession(later.replies, async (s) => {
      const r = await s.get();
      assert.equal((await r.read(3)).toString(), 'abc');
      // A read(10) that waits refuses a read(0) the same way.
      const first = r.read(10);
      await assert.rejects(r.read(0), ImproperConnectionState);
      await assert.rejects(r.read(0), ImproperConnectionState);
      later.send('4\r\ndefg\r\n0\r\n\r\n');
      assert.equal((await first).toString(), 'defg');
      assert.equal((await r.read(0)).length, 0);
      assert.equal(r.isclosed(), true);
      await expectNext(s, 1);
    });
  });

  it('chunk data not followed by CRLF is a framing error', async () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    await breaksConnection([`${head}3\r\nabcdef\r\n0\r\n\r\n`], async (s) => {
      const r = await s.get();
      await assert.rejects(r.read(), (err: unknown) => {
        isIncompleteRead('abc', null)(err);
        assert.ok((err as Error).cause instanceof HTTPException);
        return true;
      });
    });
  });
});

describe('framing: until the server closes', () => {
  for (const [version, code] of [
    ['HTTP/1.1', 11],
    ['HTTP/1.0', 10],
  ] as const) {
    it(`${version} without a length: read to EOF, the connection goes with the response`, async () => {
      await withSession(
        [[thenClose(`${version} 200 OK\r\nX: y\r\n\r\nall of it`)], [NEXT]],
        async (s) => {
          const r = await s.get();
          assert.equal(r.version, code);
          assert.equal(r.length, null);
          assert.equal(r.chunked, false);
          assert.equal(r.will_close, true);
          assert.equal(s.conn.sock, null, 'the socket belongs to the response');
          assert.equal((await r.read()).toString(), 'all of it');
          assert.equal(r.isclosed(), true);
          await expectNext(s, 2);
        },
      );
    });
  }

  it('an empty body until close', async () => {
    await withSession([[thenClose('HTTP/1.1 200 OK\r\n\r\n')], [NEXT]], async (s) => {
      const r = await s.get();
      assert.equal((await r.read()).length, 0);
      assert.equal(r.isclosed(), true);
      await expectNext(s, 2);
    });
  });
});

describe('framing: responses without a body', () => {
  const cases: Array<[string, string, string]> = [
    ['HEAD with Content-Length', 'HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n'],
    ['HEAD with chunked', 'HEAD', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['204 with Content-Length', 'GET', 'HTTP/1.1 204 No Content\r\nContent-Length: 12\r\n\r\n'],
    ['204 with chunked', 'GET', 'HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['304 with Content-Length', 'GET', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n'],
    ['304 with chunked', 'GET', 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n'],
  ];
  for (const [name, method, reply] of cases) {
    it(`${name}: no body, and the next response on the same connection is read correctly`, async () => {
      await withSession([[reply, NEXT]], async (s) => {
        const r = await s.get('/', method);
        assert.equal(r.length, 0);
        assert.equal(r.will_close, false);
        assert.notEqual(s.conn.sock, null);
        assert.equal((await r.read()).length, 0);
        assert.equal(r.isclosed(), true);
        await expectNext(s, 1);
      });
    });
  }

  it('interim 100, 102 and 103 responses are skipped', async () => {
    const reply =
      'HTTP/1.1 100 Continue\r\n\r\n' +
      'HTTP/1.1 102 Processing\r\nX-Interim: 1\r\n\r\n' +
      'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n' +
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Final: yes\r\n\r\nfinal';
    await withSession([[reply, NEXT]], async (s) => {
      const r = await s.get();
      assert.equal(r.status, 200);
      assert.deepEqual(r.getheaders(), [
        ['Content-Length', '5'],
        ['X-Final', 'yes'],
      ]);
      assert.equal((await r.read()).toString(), 'final');
      await expectNext(s, 1);
    });
  });

  it('interim responses split across writes are skipped', async () => {
    const reply =
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n' +
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
    await withSession([[(socket) => void trickle(socket, reply), NEXT]], async (s) => {
      const r = await s.get();
      assert.equal(r.status, 200);
      assert.equal(r.getheader('Link'), null);
      assert.equal((await r.read()).toString(), 'ok');
      await expectNext(s, 1);
    });
  });

  it('101 is returned with an empty body and its connection is never reused', async () => {
    const reply =
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n' +
      '\x81\x05hello';
    await withSession([[reply], [NEXT]], async (s) => {
      const r = await s.get();
      assert.equal(r.status, 101);
      assert.equal(r.reason, 'Switching Protocols');
      assert.equal(r.length, 0);
      assert.equal(r.will_close, true);
      assert.equal(s.conn.sock, null);
      assert.equal(r.getheader('upgrade'), 'websocket');
      assert.equal((await r.read()).length, 0);
      assert.equal(r.isclosed(), true);
      await peerClosed(s.srv.sockets[0] as net.Socket);
      await expectNext(s, 2);
    });
  });
});

describe('malformed heads drop the connection', () => {
  for (const value of ['abc', '-1', '+5', '5, 5', '1e3', '0x10', '']) {
    it(`Content-Length ${JSON.stringify(value)} is an HTTPException`, async () => {
      await breaksConnection([`HTTP/1.1 200 OK\r\nContent-Length: ${value}\r\n\r\nabcde`], (s) =>
        headFails(s, HTTPException, (err) => assert.match(err.message, /Content-Length/)),
      );
    });
  }

  it('conflicting Content-Length fields are an HTTPException', async () => {
    await breaksConnection(
      ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef'],
      (s) => headFails(s, HTTPException, (err) => assert.match(err.message, /conflicting/)),
    );
  });

  it('a bare CR inside a header value', async () => {
    await breaksConnection(['HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n'], (s) =>
      headFails(s, HTTPException, (err) => assert.match(err.message, /bare CR/)),
    );
  });

  it('a bare CR used as a line ending', async () => {
    await breaksConnection(
      ['HTTP/1.1 200 OK\r\nX-A: a\rContent-Length: 5\r\nContent-Length: 0\r\n\r\n'],
      (s) => headFails(s, HTTPException, (err) => assert.match(err.message, /bare CR/)),
    );
  });

  it('a header line without a colon', async () => {
    await breaksConnection(['HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 0\r\n\r\n'], (s) =>
      headFails(s, HTTPException, (err) => assert.match(err.message, /colon/)),
    );
  });

  it('100 header lines are fine, 101 are an HTTPException', async () => {
    const lines = (n: number): string[] => Array.from({ length: n }, (_, i) => `X-${i}: ${i}`);
    await withSession(
      [[`HTTP/1.1 200 OK\r\n${headerBlock([...lines(99), 'Content-Length: 2'])}\r\nok`, NEXT]],
      async (s) => {
        const r = await s.get();
        assert.equal(r.getheaders().length, 100);
        assert.equal((await r.read()).toString(), 'ok');
        await expectNext(s, 1);
      },
    );
    await breaksConnection(
      [`HTTP/1.1 200 OK\r\n${headerBlock([...lines(100), 'Content-Length: 2'])}\r\nok`],
      (s) =>
        headFails(s, HTTPException, (err) =>
          assert.equal(err.message, 'got more than 100 headers'),
        ),
    );
  });

  it('a header line of 65536 bytes is fine, one of 65537 is LineTooLong', async () => {
    // The limit counts the whole line with its CRLF (Python's readline(65537)).
    const line = (total: number): string => `X: ${'a'.repeat(total - 5)}\r\n`;
    assert.equal(line(65537).length, 65537);
    await withSession(
      [[`HTTP/1.1 200 OK\r\n${line(65536)}Content-Length: 2\r\n\r\nok`, NEXT]],
      async (s) => {
        const r = await s.get();
        assert.equal(r.getheader('x')?.length, 65531);
        assert.equal((await r.read()).toString(), 'ok');
        await expectNext(s, 1);
      },
    );
    await breaksConnection([`HTTP/1.1 200 OK\r\n${line(65537)}Content-Length: 2\r\n\r\nok`], (s) =>
      headFails(s, LineTooLong, (err) =>
        assert.equal(err.message, 'got more than 65536 bytes when reading header line'),
      ),
    );
  });

  it('a status line longer than 65536 bytes is LineTooLong', async () => {
    await breaksConnection([`HTTP/1.1 200 ${'O'.repeat(70000)}\r\n\r\n`], (s) =>
      headFails(s, LineTooLong),
    );
  });

  for (const version of ['HTTP/2.0', 'HTTP/1', 'HTTP/3']) {
    it(`${version} is UnknownProtocol`, async () => {
      await breaksConnection([`${version} 200 OK\r\nContent-Length: 0\r\n\r\n`], (s) =>
        headFails(s, UnknownProtocol, (err) => {
          assert.equal((err as UnknownProtocol).version, version);
          assert.ok(err instanceof HTTPException);
        }),
      );
    });
  }

  for (const line of [
    'HTTP/1.1 abc OK',
    'HTTP/1.1 99 Too Low',
    'HTTP/1.1 1000 Too High',
    'HTTP/1.1 20 0 OK',
  ]) {
    it(`status line ${JSON.stringify(line)} is BadStatusLine`, async () => {
      await breaksConnection([`${line}\r\nContent-Length: 0\r\n\r\n`], (s) =>
        headFails(s, BadStatusLine, (err) => {
          assert.ok(!(err instanceof RemoteDisconnected));
          assert.equal((err as BadStatusLine).line, `${line}\r\n`);
        }),
      );
    });
  }

  it('the server closing without a byte is RemoteDisconnected (a BadStatusLine)', async () => {
    await breaksConnection([thenClose('')], (s) =>
      headFails(s, RemoteDisconnected, (err) => assert.ok(err instanceof BadStatusLine)),
    );
  });

  it('a head cut short by the server closing is RemoteDisconnected, never an empty 200', async () => {
    await breaksConnection([thenClose('HTTP/1.1 200 OK\r\nContent-Type: text/pl')], (s) =>
      headFails(s, RemoteDisconnected),
    );
  });

  it('a lone 100 Continue followed by EOF is RemoteDisconnected', async () => {
    await breaksConnection([thenClose('HTTP/1.1 100 Continue\r\n\r\n')], (s) =>
      headFails(s, RemoteDisconnected),
    );
  });
});

describe('HTTP/0.9 simple responses', () => {
  it('without strict: status 200, version 9, no headers, everything is body', async () => {
    await withSession(
      [[thenClose('Hello, world\r\nX-Not: a header\r\n\r\nmore')], [NEXT]],
      async (s) => {
        const r = await s.get();
        assert.equal(r.status, 200);
        assert.equal(r.reason, '');
        assert.equal(r.version, 9);
        assert.equal(r.will_close, true);
        assert.equal(r.length, null);
        assert.deepEqual(r.getheaders(), []);
        assert.equal(s.conn.sock, null);
        assert.equal((await r.read()).toString(), 'Hello, world\r\nX-Not: a header\r\n\r\nmore');
        await expectNext(s, 2);
      },
    );
  });

  it('without strict, read in pieces: the first line comes first', async () => {
    await withSession([[(socket) => void trickle(socket, 'abc\ndef', true)], [NEXT]], async (s) => {
      const r = await s.get();
      assert.equal(r.version, 9);
      assert.equal((await r.read(2)).toString(), 'ab');
      assert.equal((await r.readline()).toString(), 'c\n');
      assert.equal((await r.read()).toString(), 'def');
      await expectNext(s, 2);
    });
  });

  it('with strict: BadStatusLine', async () => {
    await breaksConnection(
      ['Hello, world\r\n\r\n'],
      (s) =>
        headFails(s, BadStatusLine, (err) =>
          assert.equal((err as BadStatusLine).line, 'Hello, world\r\n'),
        ),
      { strict: true },
    );
  });
});

describe('status line and headers', () => {
  const reply =
    'HTTP/1.1 404   Not  Found  \r\n' +
    'Content-Type: text/plain\r\n' +
    'Set-Cookie: a=1\r\n' +
    'X-Folded: first\r\n  second\r\n' +
    'set-cookie: b=2\r\n' +
    'Content-Length: 2\r\n' +
    '\r\nok';

  it('status, reason, version, getcode', async () => {
    await withSession([[reply]], async (s) => {
      const r = await s.get();
      assert.equal(r.status, 404);
      assert.equal(r.getcode(), 404);
      assert.equal(r.reason, 'Not  Found');
      assert.equal(r.version, 11);
    });
  });

  it('getheader joins duplicates with ", " and returns the default when absent', async () => {
    await withSession([[reply]], async (s) => {
      const r = await s.get();
      assert.equal(r.getheader('SET-COOKIE'), 'a=1, b=2');
      assert.equal(r.getheader('content-type'), 'text/plain');
      assert.equal(r.getheader('x-folded'), 'first second');
      assert.equal(r.getheader('X-Missing'), null);
      assert.equal(r.getheader('X-Missing', 'dflt'), 'dflt');
      assert.equal(r.getheader('X-Missing', 42), 42);
    });
  });

  it('getheaders: every header in order, names as received, duplicates kept', async () => {
    await withSession([[reply]], async (s) => {
      const r = await s.get();
      assert.deepEqual(r.getheaders(), [
        ['Content-Type', 'text/plain'],
        ['Set-Cookie', 'a=1'],
        ['X-Folded', 'first second'],
        ['set-cookie', 'b=2'],
        ['Content-Length', '2'],
      ]);
    });
  });

  it('msg, headers and info() are the same HTTPMessage', async () => {
    await withSession([[reply]], async (s) => {
      const r = await s.get();
      assert.ok(r.msg instanceof HTTPMessage);
      assert.equal(r.headers, r.msg);
      assert.equal(r.info(), r.msg);
      assert.deepEqual(r.msg.get_all('set-cookie'), ['a=1', 'b=2']);
      assert.equal(r.msg.get('Content-Length'), '2');
      assert.equal(r.msg.has('x-folded'), true);
      assert.equal(r.msg.has('x-absent'), false);
    });
  });

  it('fileno, isclosed, closed and length over the life of a response', async () => {
    await withSession([['HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdef', NEXT]], async (s) => {
      const r = await s.get();
      const fd = r.fileno();
      assert.ok(Number.isInteger(fd) && fd >= 0, `fileno ${fd}`);
      assert.equal(r.isclosed(), false);
      assert.equal(r.closed, false);
      assert.equal(r.length, 6);
      assert.equal((await r.read(1)).toString(), 'a');
      assert.equal(r.length, 5);
      assert.equal(r.isclosed(), false);
      assert.equal((await r.read()).toString(), 'bcdef');
      assert.equal(r.length, 0);
      assert.equal(r.isclosed(), true);
      assert.equal(r.closed, false, 'closed only after close()');
      r.close();
      assert.equal(r.closed, true);
      assert.equal(r.isclosed(), true);
      await expectNext(s, 1);
    });
  });

  it('fileno() raises once the body is over, though the connection keeps the socket (Python: AttributeError)', async () => {
    const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n';
    await withSession(
      [['HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc', chunked, NEXT]],
      async (s) => {
        for (let i = 0; i < 2; i++) {
          const r = await s.get();
          assert.ok(r.fileno() >= 0);
          assert.equal((await r.read()).toString(), 'abc');
          assert.equal(r.isclosed(), true);
          assert.throws(() => r.fileno(), TypeError);
          assert.notEqual(s.conn.sock, null, 'the connection still has its socket');
          r.close();
          assert.throws(() => r.fileno(), TypeError);
        }
        await expectNext(s, 1);
      },
    );
    // Closed before its end: the same.
    await withSession([[chunked], [NEXT]], async (s) => {
      const r = await s.get();
      assert.ok(r.fileno() >= 0);
      r.close();
      assert.throws(() => r.fileno(), TypeError);
      await expectNext(s, 2);
    });
  });

  it('close() before reading anything closes the response', async () => {
    await withSession(
      [['HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdef'], [NEXT]],
      async (s) => {
        const r = await s.get();
        r.close();
        assert.equal(r.closed, true);
        assert.equal(r.isclosed(), true);
        assert.equal((await r.read()).length, 0);
        await expectNext(s, 2);
      },
    );
  });
});

// --- the reading API over the three framings, whole and trickled ------------------------

type Framing = 'length' | 'chunked' | 'eof';

/** A 200 response whose body is `chunks` (chunk boundaries matter for 'chunked' only). */
function responseBytes(framing: Framing, chunks: Buffer[]): Buffer {
  const body = Buffer.concat(chunks);
  switch (framing) {
    case 'length':
      return Buffer.concat([
        Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`),
        body,
      ]);
    case 'eof':
      return Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\n\r\n'), body]);
    case 'chunked':
      return Buffer.concat([
        Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'),
        ...chunks.flatMap((c) => [
          Buffer.from(`${c.length.toString(16)}\r\n`),
          c,
          Buffer.from('\r\n'),
        ]),
        Buffer.from('0\r\n\r\n'),
      ]);
  }
}

interface ReadCase {
  readonly name: string;
  readonly chunks: string[];
  run(r: HTTPResponse, framing: Framing): Promise<void>;
}

const AB = ['abcde', 'fgh'];

/** A JSON text with characters outside Latin-1 and outside the BMP. */
const JSON_TEXT = '{"a": "€😀"}';

/** `text` in UTF-32, big-endian. */
function utf32be(text: string): Buffer {
  const points = [...text].map((c) => c.codePointAt(0) as number);
  const out = Buffer.alloc(points.length * 4);
  for (const [i, p] of points.entries()) out.writeUInt32BE(p, i * 4);
  return out;
}

const readCases: ReadCase[] = [
  {
    name: 'read() returns the whole body, then empty',
    chunks: AB,
    async run(r) {
      assert.equal(r.isclosed(), false);
      assert.equal((await r.read(0)).length, 0);
      assert.equal(r.isclosed(), false, 'read(0) does not close');
      assert.equal((await r.read()).toString(), 'abcdefgh');
      assert.equal(r.isclosed(), true);
      assert.equal(r.closed, false);
      assert.equal((await r.read()).length, 0);
      assert.equal((await r.read(5)).length, 0);
    },
  },
  {
    name: "read(amt) sequence (Python's example)",
    chunks: AB,
    async run(r, framing) {
      const length = (n: number): number | null => (framing === 'length' ? n : null);
      assert.equal(r.length, length(8));
      assert.equal((await r.read(2)).toString(), 'ab');
      assert.equal(r.length, length(6));
      assert.equal((await r.read(3)).toString(), 'cde');
      assert.equal(r.length, length(3));
      assert.equal((await r.read(4)).toString(), 'fgh');
      assert.equal(r.length, length(0));
      assert.equal(r.isclosed(), true, 'end reached: closed');
      assert.equal((await r.read(10)).length, 0);
    },
  },
  {
    name: 'readinto fills across chunk boundaries',
    chunks: AB,
    async run(r) {
      const b = new Uint8Array(3);
      assert.equal(await r.readinto(b), 3);
      assert.equal(Buffer.from(b).toString(), 'abc');
      assert.equal(await r.readinto(b), 3);
      assert.equal(Buffer.from(b).toString(), 'def');
      assert.equal(await r.readinto(b), 2);
      assert.equal(Buffer.from(b.subarray(0, 2)).toString(), 'gh');
      assert.equal(r.isclosed(), true);
      assert.equal(await r.readinto(b), 0);
    },
  },
  {
    name: 'read1 returns what is there, never past a chunk',
    chunks: AB,
    async run(r, framing) {
      assert.equal((await r.read1(0)).length, 0);
      const first = await r.read1(2);
      assert.ok(first.length >= 1 && first.length <= 2, `read1(2) gave ${first.length} bytes`);
      const pieces = [first];
      for (;;) {
        const piece = await r.read1();
        if (piece.length === 0) break;
        pieces.push(piece);
      }
      assert.equal(Buffer.concat(pieces).toString(), 'abcdefgh');
      assert.equal(r.isclosed(), true);
      if (framing === 'chunked') {
        let at = 0;
        for (const p of pieces) {
          assert.ok(!(at < 5 && at + p.length > 5), 'a read1() piece spans two chunks');
          at += p.length;
        }
      }
    },
  },
  {
    name: 'peek shows without consuming, within the body',
    chunks: AB,
    async run(r, framing) {
      const p1 = await r.peek();
      const firstLimit = framing === 'chunked' ? 'abcde' : 'abcdefgh';
      assert.ok(p1.length >= 1 && firstLimit.startsWith(p1.toString()), `peek gave ${p1}`);
      assert.equal((await r.read(5)).toString(), 'abcde');
      const p2 = await r.peek();
      assert.ok(p2.length >= 1 && 'fgh'.startsWith(p2.toString()), `peek gave ${p2}`);
      assert.equal((await r.read()).toString(), 'fgh');
      assert.equal((await r.peek()).length, 0);
    },
  },
  {
    name: 'readline, with and without a limit',
    chunks: ['line o', 'ne\nline two\ne', 'nd'],
    async run(r) {
      assert.equal((await r.readline()).toString(), 'line one\n');
      assert.equal((await r.readline(4)).toString(), 'line');
      assert.equal((await r.readline()).toString(), ' two\n');
      assert.equal((await r.readline()).toString(), 'end');
      assert.equal(r.isclosed(), true);
      assert.equal((await r.readline()).length, 0);
    },
  },
  {
    name: 'for await yields the body',
    chunks: AB,
    async run(r) {
      const pieces: Buffer[] = [];
      for await (const chunk of r) {
        assert.ok(Buffer.isBuffer(chunk) && chunk.length > 0);
        pieces.push(chunk);
      }
      assert.equal(Buffer.concat(pieces).toString(), 'abcdefgh');
      assert.equal(r.isclosed(), true);
    },
  },
  {
    name: 'text() decodes UTF-8 split anywhere',
    // Chunk boundaries fall inside multi-byte characters.
    chunks: ['h\xc3', '\xa9llo w\xc3\xb6rld \xe2\x82', '\xac'],
    async run(r) {
      assert.equal(await r.text(), 'héllo wörld €');
      assert.equal(r.isclosed(), true);
    },
  },
  {
    name: 'text(encoding)',
    chunks: ['caf\xe9'],
    async run(r) {
      assert.equal(await r.text('latin1'), 'café');
    },
  },
  {
    name: 'json() parses the rest of the body',
    chunks: ['{"a": [1, ', '2], "b": "c"}'],
    async run(r) {
      assert.deepEqual(await r.json(), { a: [1, 2], b: 'c' });
      assert.equal(r.isclosed(), true);
    },
  },
  // Python's json.loads(bytes) finds the encoding (RFC 8259): each of these gives
  // {'a': '€😀'} there (checked with python3); they were SyntaxErrors here.
  ...(
    [
      [
        'UTF-8 with a BOM',
        Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON_TEXT)]),
      ],
      [
        'UTF-16 with a BOM (LE)',
        Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON_TEXT, 'utf16le')]),
      ],
      ['UTF-16BE without a BOM', Buffer.from(JSON_TEXT, 'utf16le').swap16()],
      ['UTF-16LE without a BOM', Buffer.from(JSON_TEXT, 'utf16le')],
      ['UTF-32 with a BOM (BE)', utf32be(`\ufeff${JSON_TEXT}`)],
      ['UTF-32LE without a BOM', utf32be(JSON_TEXT).swap32()],
    ] as const
  ).map(([encoding, bytes]) => ({
    name: `json() of ${encoding}, as Python's json.loads(bytes)`,
    chunks: [bytes.toString('latin1')],
    async run(r: HTTPResponse) {
      assert.deepEqual(await r.json(), { a: '€😀' });
    },
  })),
];

for (const delivery of ['whole', 'byte by byte'] as const) {
  for (const framing of ['length', 'chunked', 'eof'] as const) {
    describe(`reading a ${framing} body sent ${delivery}`, () => {
      for (const c of readCases) {
        it(c.name, async () => {
          const bytes = responseBytes(
            framing,
            c.chunks.map((x) => Buffer.from(x, 'latin1')),
          );
          const end = framing === 'eof';
          const reply: Reply =
            delivery === 'whole'
              ? (socket) => (end ? socket.end(bytes) : socket.write(bytes))
              : (socket) => void trickle(socket, bytes, end);
          await withSession(end ? [[reply], [NEXT]] : [[reply, NEXT]], async (s) => {
            const r = await s.get();
            assert.equal(r.status, 200);
            assert.equal(r.will_close, end);
            await c.run(r, framing);
            // Nothing of this body may leak into the next response.
            await expectNext(s, end ? 2 : 1);
          });
        });
      }
    });
  }
}
