/**
 * Responses that never have a body, whatever follows their head (issue 12, from a
 * differential fuzz against CPython 2.7), over real sockets:
 *
 * - HEAD answered by an HTTP/0.9 reply: Python 2.7's `read()` returns `''` for any HEAD
 *   response, the 0.9 one included (we returned the reply's bytes as the body);
 * - 204 and 304 with `Transfer-Encoding: chunked` and chunks after the head: no body
 *   (RFC 9112 §6.3; 2.7 reads the chunks as the body). The bytes that follow are not an
 *   answer to anything: the connection is dropped and the next request gets a new one.
 */
import assert from 'node:assert/strict';
import type * as net from 'node:net';
import { describe } from 'node:test';
import { BadStatusLine, type HTTPResponse } from '../../src/index.ts';
import { peerClosed, type Reply, timeLimited } from './servers.ts';
import { expectNext, NEXT, withSession } from './sessions.ts';

const { it } = timeLimited(30_000);

function thenClose(bytes: string): Reply {
  return (socket) => socket.end(Buffer.from(bytes, 'latin1'));
}

describe('HEAD answered by an HTTP/0.9 reply', () => {
  for (const [what, reply] of [
    ['a line that is not a status line', 'garbage\r\nmore bytes'],
    ['an explicit HTTP/0.9 status line', 'HTTP/0.9 200 OK\r\nX: y\r\n\r\nbody'],
  ] as const) {
    it(`${what}: no body, and the connection goes`, async () => {
      await withSession([[thenClose(reply)], [NEXT]], async (s) => {
        const r = await s.get('/', 'HEAD');
        assert.equal(r.version, 9);
        assert.equal(r.status, 200);
        assert.equal(r.will_close, true);
        assert.equal(r.length, 0);
        assert.equal(s.conn.sock, null, 'the socket belongs to the response');
        assert.equal((await r.read()).length, 0);
        assert.equal(r.isclosed(), true);
        await peerClosed(s.srv.sockets[0] as net.Socket);
        await expectNext(s, 2);
      });
    });
  }

  it('every read method sees no body', async () => {
    const methods: Array<[string, (r: HTTPResponse) => Promise<number>]> = [
      ['read(10)', async (r) => (await r.read(10)).length],
      ['readinto', (r) => r.readinto(Buffer.alloc(10))],
      ['read1', async (r) => (await r.read1()).length],
      ['peek', async (r) => (await r.peek()).length],
      ['readline', async (r) => (await r.readline()).length],
      ['text', async (r) => (await r.text()).length],
    ];
    await withSession(
      methods.map(() => [thenClose('garbage\r\n')]),
      async (s) => {
        for (const [name, read] of methods) {
          const r = await s.get('/', 'HEAD');
          assert.equal(await read(r), 0, name);
          assert.equal(r.isclosed(), true, name);
        }
      },
    );
  });

  it('a GET answered the same way still reads the reply as the body', async () => {
    await withSession([[thenClose('garbage\r\nmore bytes')]], async (s) => {
      const r = await s.get('/', 'GET');
      assert.equal(r.length, null);
      assert.equal((await r.read()).toString(), 'garbage\r\nmore bytes');
    });
  });

  it('strict: HEAD answered by HTTP/0.9 is BadStatusLine as any other request', async () => {
    await withSession(
      [[thenClose('garbage\r\n')]],
      async (s) => {
        await s.conn.request('HEAD', '/');
        await assert.rejects(s.conn.getresponse(), BadStatusLine);
      },
      { strict: true },
    );
  });
});

describe('204 and 304 with Transfer-Encoding: chunked', () => {
  for (const status of ['204 No Content', '304 Not Modified']) {
    it(`${status} followed by chunks: no body; the connection is dropped`, async () => {
      const reply = `HTTP/1.1 ${status}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`;
      await withSession([[reply], [NEXT]], async (s) => {
        const r = await s.get();
        assert.equal(r.chunked, true);
        assert.equal(r.length, 0);
        assert.equal((await r.read()).length, 0);
        assert.equal(r.isclosed(), true);
        // The chunks answer nothing: the connection must not carry the next request.
        await expectNext(s, 2);
      });
    });
  }
});
