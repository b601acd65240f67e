/**
 * A chunked body whose framing breaks (a malformed chunk-size line), read by every read
 * method, over real sockets: each reports the same `IncompleteRead` holding every body
 * byte of the failing call (issue 12: `readinto()` reported none of the bytes it had put
 * into the caller's buffer), closes the response and drops the connection.
 *
 * The reference is CPython 3.11's `test_readinto_chunked` (Python 2.7 has no
 * `readinto`): `IncompleteRead(bytes(b[0:total_bytes]))`, the bytes staying in `b`.
 * A read that already got every byte it asked for returns them even when the framing
 * after them is broken; the next read fails (as in Python 2.7 and 3, which only meet
 * the broken line then).
 */
import assert from 'node:assert/strict';
import type * as net from 'node:net';
import { after, before, describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type HTTPResponse, ImproperConnectionState, IncompleteRead } from '../../src/index.ts';
import { FramingError } from '../../src/protocol/body-errors.ts';
import { type Reply, timeLimited } from './servers.ts';
import { breaksConnection, withSession } from './sessions.ts';

const { it } = timeLimited(30_000);

const caught: unknown[] = [];
const record = (err: unknown): void => {
  caught.push(err);
};
before(() => {
  process.on('unhandledRejection', record);
  process.on('uncaughtException', record);
});
after(() => {
  process.off('unhandledRejection', record);
  process.off('uncaughtException', record);
  assert.deepEqual(caught, [], 'no unhandled rejection or uncaught exception');
});

const HEAD = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
/** CPython's test_httplib `chunked_start` and `chunked_expected`. */
const CHUNKED_START = `${HEAD}a\r\nhello worl\r\n3\r\nd! \r\n8\r\nand now \r\n22\r\nfor something completely different\r\n`;
const CHUNKED_EXPECTED = 'hello world! and now for something completely different';

function thenClose(bytes: string): Reply {
  return (socket) => socket.end(Buffer.from(bytes, 'latin1'));
}

/** The `IncompleteRead` of broken framing: `partial`, no `expected`, a framing cause. */
function brokenFraming(partial: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof IncompleteRead, `expected IncompleteRead, got ${String(err)}`);
    assert.equal(err.partial.toString('latin1'), partial);
    assert.equal(err.expected, null);
    assert.ok(err.cause instanceof FramingError, `cause: ${String(err.cause)}`);
    return true;
  };
}

describe("readinto() on a broken chunked body (CPython's test_readinto_chunked)", () => {
  for (const [what, tail, cause] of [
    ['the body stops before the last chunk', '', false],
    ['a malformed chunk-size line follows', 'foo\r\n', true],
  ] as const) {
    it(`${what}: IncompleteRead with the 55 bytes put into the buffer`, async () => {
      await breaksConnection([thenClose(CHUNKED_START + tail)], async (s) => {
        const r = await s.get();
        const b = Buffer.alloc(128);
        await assert.rejects(r.readinto(b), (err: unknown) => {
          assert.ok(err instanceof IncompleteRead, String(err));
          assert.equal(err.partial.toString(), CHUNKED_EXPECTED);
          assert.equal(err.expected, null);
          assert.equal(err.message, 'IncompleteRead(55 bytes read)');
          assert.equal(err.cause instanceof FramingError, cause);
          return true;
        });
        assert.equal(b.subarray(0, 55).toString(), CHUNKED_EXPECTED, 'the bytes stay in b');
        assert.equal(r.isclosed(), true);
      });
    });
  }

  it('a complete body read by three readinto() calls of every size from 1 to 11', async () => {
    const whole = `${CHUNKED_START}0\r\n\r\n`;
    // One kept-alive connection answers the eleven requests.
    await withSession([Array.from({ length: 11 }, () => whole)], async (s) => {
      for (let n = 1; n <= 11; n++) {
        const r = await s.get();
        const b = Buffer.alloc(128);
        let i = await r.readinto(b.subarray(0, n));
        i += await r.readinto(b.subarray(i, n + i));
        i += await r.readinto(b.subarray(i));
        assert.equal(i, 55, `sizes ${n}`);
        assert.equal(b.subarray(0, 55).toString(), CHUNKED_EXPECTED);
        r.close();
      }
    });
  });
});

/**
 * Each read method over `5\r\nhello\r\n` then `foo\r\n`: what the method returns and
 * how the failure shows. `partial` is the bytes of the failing call.
 */
interface MethodCase {
  readonly name: string;
  run(r: HTTPResponse, broken: () => void): Promise<void>;
}

/** `start(r)` waits for more, the broken line arrives, and the call fails with 'hello'. */
function waitsThenFails(name: string, start: (r: HTTPResponse) => Promise<unknown>): MethodCase {
  return {
    name,
    async run(r, broken) {
      const p = start(r);
      broken();
      await assert.rejects(p, brokenFraming('hello'));
    },
  };
}

const methodCases: MethodCase[] = [
  waitsThenFails('read()', (r) => r.read()),
  waitsThenFails('read(100)', (r) => r.read(100)),
  {
    name: 'readinto(128 bytes)',
    async run(r, broken) {
      const b = Buffer.alloc(128);
      const p = r.readinto(b);
      broken();
      await assert.rejects(p, brokenFraming('hello'));
      assert.equal(b.subarray(0, 5).toString(), 'hello');
    },
  },
  {
    name: 'readinto(a Uint8Array view)',
    async run(r, broken) {
      const backing = new Uint8Array(64);
      const p = r.readinto(backing.subarray(10, 50));
      broken();
      await assert.rejects(p, brokenFraming('hello'));
      assert.equal(Buffer.from(backing.subarray(10, 15)).toString(), 'hello');
    },
  },
  {
    name: 'read(5), exactly to the end of the chunk: the bytes, then the error',
    async run(r, broken) {
      broken();
      await sleep(20);
      assert.equal((await r.read(5)).toString(), 'hello');
      assert.equal(r.isclosed(), false);
      await assert.rejects(r.read(), brokenFraming(''));
    },
  },
  {
    name: 'readinto(5 bytes), exactly to the end of the chunk: 5, then the error',
    async run(r, broken) {
      broken();
      await sleep(20);
      const b = Buffer.alloc(5);
      assert.equal(await r.readinto(b), 5);
      assert.equal(b.toString(), 'hello');
      await assert.rejects(r.readinto(b), brokenFraming(''));
    },
  },
  {
    name: 'read1(): the chunk, then the error',
    async run(r, broken) {
      assert.equal((await r.read1()).toString(), 'hello');
      broken();
      await assert.rejects(r.read1(), brokenFraming(''));
    },
  },
  {
    name: 'peek() then read()',
    async run(r, broken) {
      assert.equal((await r.peek()).toString(), 'hello');
      broken();
      await assert.rejects(r.read(), brokenFraming('hello'));
    },
  },
  {
    name: 'read(5) then peek()',
    async run(r, broken) {
      broken();
      await sleep(20);
      assert.equal((await r.read(5)).toString(), 'hello');
      await assert.rejects(r.peek(), brokenFraming(''));
    },
  },
  waitsThenFails('readline()', (r) => r.readline()),
  {
    name: 'for await',
    async run(r, broken) {
      const seen: string[] = [];
      await assert.rejects(async () => {
        for await (const chunk of r) {
          seen.push(chunk.toString());
          broken();
        }
      }, brokenFraming(''));
      assert.deepEqual(seen, ['hello']);
    },
  },
  waitsThenFails('text()', (r) => r.text()),
];

describe('every read method meets a malformed chunk-size line', () => {
  for (const c of methodCases) {
    it(c.name, async () => {
      let socket: net.Socket | null = null;
      const first: Reply = (sock) => {
        socket = sock;
        sock.write(`${HEAD}5\r\nhello\r\n`);
      };
      await breaksConnection([first], async (s) => {
        const r = await s.get();
        await c.run(r, () => (socket as net.Socket | null)?.write('foo\r\n'));
        assert.equal(r.isclosed(), true);
      });
    });
  }
});

describe('readinto() on a chunked body: hostile call patterns', () => {
  it('twice at once: the second is refused, the first gets the framing error', async () => {
    let socket: net.Socket | null = null;
    await breaksConnection(
      [
        (sock) => {
          socket = sock;
          sock.write(`${HEAD}5\r\nhello\r\n`);
        },
      ],
      async (s) => {
        const r = await s.get();
        const a = Buffer.alloc(32);
        const first = r.readinto(a);
        await sleep(20);
        await assert.rejects(r.readinto(Buffer.alloc(32)), ImproperConnectionState);
        (socket as net.Socket | null)?.write('xyz\r\n');
        await assert.rejects(first, brokenFraming('hello'));
        assert.equal(a.subarray(0, 5).toString(), 'hello');
      },
    );
  });

  it('after close(): 0 bytes, nothing thrown', async () => {
    await withSession([[`${HEAD}5\r\nhello\r\nfoo\r\n`]], async (s) => {
      const r = await s.get();
      r.close();
      const b = Buffer.alloc(8);
      assert.equal(await r.readinto(b), 0);
      assert.equal(await r.readinto(b), 0);
      assert.equal(b.toString('latin1'), '\0'.repeat(8), 'nothing written after close()');
    });
  });
});
