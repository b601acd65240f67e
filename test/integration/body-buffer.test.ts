/**
 * read() and read(amt) of a Content-Length body that has yet to arrive receive it
 * straight into the Buffer they return (client/response-body.ts, io/tuning.ts): these
 * tests hold the body back until the read waits, so that the read takes that path, and
 * check the memory rule (a declared length is never an allocation: at most
 * max(1 MiB, 4 × bytes arrived), plus the buffer being replaced) and everything a grown
 * buffer must not break: the bytes, IncompleteRead's partial, close/abort/timeout while
 * it waits, a second read at once, bytes after the body, the connection's reuse.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type * as net from 'node:net';
import { before, describe } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  AbortError,
  HTTPConnection,
  HTTPException,
  type HTTPResponse,
  ImproperConnectionState,
  IncompleteRead,
  TimeoutError,
} from '../../src/index.ts';
import { directReadBytes } from '../../src/io/direct-read.ts';
import { keepLargeBlocks } from '../../src/io/tuning.ts';
import {
  guarded,
  peerClosed,
  type RawServer,
  rawServer,
  recordEscapes,
  timeLimited,
} from './servers.ts';

const HOST = '127.0.0.1';
const MiB = 1024 * 1024;
const LARGEST = Number.MAX_SAFE_INTEGER; // the largest Content-Length accepted (~9 PB)

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const { it } = timeLimited(60_000);
const escapes = recordEscapes();

/** A server that answers a request with `head` and then waits: `send` writes more. */
interface HeldServer {
  readonly srv: RawServer;
  /** The socket of the current request (after `requested`). */
  socket(): net.Socket;
  /** Resolves when the next request head has arrived (and `head` was written). */
  requested(): Promise<void>;
}

async function heldServer(head: string): Promise<HeldServer> {
  let waiting: (() => void) | null = null;
  let count = 0;
  let seen = 0;
  const srv = await rawServer((socket) => {
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      while (text.includes('\r\n\r\n')) {
        text = text.slice(text.indexOf('\r\n\r\n') + 4);
        socket.write(head);
        count++;
        waiting?.();
      }
    });
  });
  return {
    srv,
    socket: () => srv.sockets[srv.sockets.length - 1] as net.Socket,
    requested() {
      const want = ++seen;
      if (count >= want) return Promise.resolve();
      return new Promise((resolve) => {
        waiting = () => {
          if (count >= want) resolve();
        };
      });
    },
  };
}

/** Write `data` in pieces of `size` bytes, each after the previous one was flushed. */
async function sendInPieces(socket: net.Socket, data: Buffer, size: number): Promise<void> {
  for (let at = 0; at < data.length && !socket.destroyed; at += size) {
    await new Promise<void>((resolve) => {
      socket.write(data.subarray(at, at + size), () => resolve());
    });
  }
}

/** Samples `process.memoryUsage().arrayBuffers` every few ms: the peak above `base`. */
function arrayBufferPeak(base: number): { sample(): void; stop(): number } {
  let peak = 0;
  const sample = (): void => {
    peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
  };
  const timer = setInterval(sample, 2);
  return {
    sample,
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

/** GET on a fresh connection to `held`, the head read, then `fn`; everything closed after. */
async function withHeld(
  head: string,
  fn: (r: HTTPResponse, held: HeldServer, conn: HTTPConnection) => Promise<void>,
  timeout = 10,
): Promise<void> {
  const held = await heldServer(head);
  const conn = new HTTPConnection(HOST, held.srv.port, { timeout });
  await guarded(
    async () => {
      conn.close();
      await held.srv.close();
    },
    async () => {
      await conn.request('GET', '/');
      await held.requested();
      await fn(await conn.getresponse(), held, conn);
    },
  );
  assert.deepEqual(escapes.take(), []);
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('the memory rule: a declared length is not an allocation', () => {
  before(async () => {
    // The first read() into a buffer of its own drops one untouched 32 MiB block, once per
    // process (io/tuning.ts keepLargeBlocks: address space, not memory, but counted in
    // arrayBuffers until collected). Made and collected here, so that the checks below
    // see only what the reads allocate.
    keepLargeBlocks();
    const base = process.memoryUsage().arrayBuffers - 32 * MiB;
    for (let i = 0; i < 50 && process.memoryUsage().arrayBuffers - base > 16 * MiB; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  it('Content-Length: 9e18 (9 EB) is refused by getresponse(), nothing allocated (Python 3 reads, then MemoryError)', async () => {
    gc();
    const peak = arrayBufferPeak(process.memoryUsage().arrayBuffers);
    await withHeld(
      'HTTP/1.1 200 OK\r\nContent-Length: 9000000000000000000\r\n\r\ntiny',
      async () => {
        assert.fail('the head was accepted');
      },
    ).catch((err: unknown) => {
      assert.ok(err instanceof HTTPException, String(err));
      assert.match(String(err), /Content-Length too large: 9000000000000000000/);
    });
    const grew = peak.stop() / MiB;
    assert.ok(grew < 4, `array buffers grew by ${grew.toFixed(1)} MiB`);
  });

  for (const [how, read] of [
    ['read()', (r: HTTPResponse) => r.read()],
    ['read(2 ** 40)', (r: HTTPResponse) => r.read(2 ** 40)],
  ] as const) {
    it(`${how} of Content-Length 2^53-1 with a tiny body, the server silent: ≤ 1 MiB held while it waits; the close gives IncompleteRead`, async () => {
      await withHeld(`HTTP/1.1 200 OK\r\nContent-Length: ${LARGEST}\r\n\r\n`, async (r, held) => {
        gc();
        const peak = arrayBufferPeak(process.memoryUsage().arrayBuffers);
        const pending = read(r);
        peak.sample();
        await sendInPieces(held.socket(), Buffer.from('tiny'), 4);
        await new Promise((resolve) => setTimeout(resolve, 50));
        held.socket().end();
        await assert.rejects(pending, (err: unknown) => {
          assert.ok(err instanceof IncompleteRead, String(err));
          assert.equal(err.partial.toString(), 'tiny');
          assert.equal(err.expected, LARGEST - 4);
          return true;
        });
        const grew = peak.stop() / MiB;
        // The rule gives 1 MiB; a buffer sized from the declared length (even capped at
        // 8 MiB) fails here.
        assert.ok(grew < 8, `array buffers grew by ${grew.toFixed(1)} MiB while it waited`);
      });
    });
  }

  it('read() of Content-Length 2^53-1 while 6 MiB trickle in: the buffer grows with what arrived, the bytes intact', async () => {
    const body = randomBytes(6 * MiB);
    await withHeld(`HTTP/1.1 200 OK\r\nContent-Length: ${LARGEST}\r\n\r\n`, async (r, held) => {
      gc();
      const peak = arrayBufferPeak(process.memoryUsage().arrayBuffers);
      const pending = r.read();
      peak.sample();
      await sendInPieces(held.socket(), body, 64 * 1024);
      held.socket().end();
      await assert.rejects(pending, (err: unknown) => {
        assert.ok(err instanceof IncompleteRead, String(err));
        assert.equal(err.partial.length, body.length);
        assert.equal(sha(err.partial), sha(body));
        return true;
      });
      const grew = peak.stop() / MiB;
      // The rule: a buffer of at most 4 × what arrived (16 MiB here), the one it replaced,
      // a block of the queue and the partial's copy; one sized from the length is more.
      assert.ok(grew < 48, `array buffers grew by ${grew.toFixed(1)} MiB for 6 MiB arrived`);
    });
  });
});

describe('read() and read(amt) straight into the returned Buffer', () => {
  for (const size of [300 * 1024, MiB, 5 * MiB + 7]) {
    it(`read() of ${size} bytes arriving after the read began: the socket reads into the result, the bytes intact, the connection reused`, async () => {
      const body = randomBytes(size);
      await withHeld(
        `HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`,
        async (r, held, conn) => {
          const direct0 = directReadBytes();
          const pending = r.read();
          await sendInPieces(held.socket(), body, 100_003);
          const got = await pending;
          assert.equal(got.length, size);
          assert.equal(sha(got), sha(body));
          assert.ok(directReadBytes() - direct0 > size / 2, 'the bytes went straight in');
          assert.equal(r.isclosed(), true);
          assert.equal((await r.read()).length, 0);
          await conn.request('GET', '/');
          await held.requested();
          const again = conn.getresponse().then((next) => next.read());
          await sendInPieces(held.socket(), body, 65_536);
          assert.equal(sha(await again), sha(body));
          assert.equal(held.srv.sockets.length, 1);
        },
      );
    });
  }

  it('read(amt) in three parts (amt ≥ the threshold) gives the body in order, no byte lost or shown twice', async () => {
    const body = randomBytes(3 * MiB + 11);
    await withHeld(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`, async (r, held) => {
      const first = r.read(MiB + 3);
      const sending = sendInPieces(held.socket(), body, 65_536);
      const a = await first;
      const b = await r.read(2 * MiB - 1);
      const c = await r.read(10 * MiB);
      await sending;
      assert.deepEqual([a.length, b.length, c.length], [MiB + 3, 2 * MiB - 1, 9]);
      assert.equal(sha(Buffer.concat([a, b, c])), sha(body));
      assert.equal(r.isclosed(), true);
    });
  });

  it('bytes after the declared length never reach the result, and the connection is not reused', async () => {
    const body = randomBytes(MiB);
    await withHeld(
      `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`,
      async (r, held, conn) => {
        const pending = r.read();
        await sendInPieces(held.socket(), Buffer.concat([body, Buffer.from('STRAY')]), 65_536);
        const got = await pending;
        assert.equal(sha(got), sha(body));
        await peerClosed(held.socket());
        await conn.request('GET', '/');
        await held.requested();
        assert.equal(held.srv.sockets.length, 2, 'a new connection after the stray bytes');
      },
    );
  });

  it('the server closing mid-body after the buffer grew: IncompleteRead with exactly the bytes that came', async () => {
    const body = randomBytes(3 * MiB + 5);
    await withHeld(`HTTP/1.1 200 OK\r\nContent-Length: ${5 * MiB}\r\n\r\n`, async (r, held) => {
      const pending = r.read();
      await sendInPieces(held.socket(), body, 65_536);
      held.socket().end();
      await assert.rejects(pending, (err: unknown) => {
        assert.ok(err instanceof IncompleteRead, String(err));
        assert.equal(sha(err.partial), sha(body));
        assert.equal(err.expected, 5 * MiB - body.length);
        return true;
      });
      assert.equal(r.isclosed(), true);
    });
  });

  for (const ending of ['close()', 'abort', 'timeout'] as const) {
    it(`${ending} while read() waits half-way: it rejects (${ending === 'timeout' ? 'TimeoutError' : 'AbortError'}), the response is closed, nothing escapes`, async () => {
      const controller = new AbortController();
      await withHeld(
        `HTTP/1.1 200 OK\r\nContent-Length: ${4 * MiB}\r\n\r\n`,
        async (r, held) => {
          const pending = r.read(-1, { signal: controller.signal });
          await sendInPieces(held.socket(), randomBytes(2 * MiB), 65_536);
          if (ending === 'close()') r.close();
          if (ending === 'abort') controller.abort();
          await assert.rejects(pending, (err: unknown) => {
            const want = ending === 'timeout' ? TimeoutError : AbortError;
            assert.ok(err instanceof want, String(err));
            return true;
          });
          assert.equal(r.isclosed(), true);
        },
        ending === 'timeout' ? 1 : 10,
      );
    });
  }

  it('a second read while read() waits is refused; the first gets the whole body', async () => {
    const body = randomBytes(2 * MiB);
    await withHeld(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`, async (r, held) => {
      const first = r.read();
      await assert.rejects(r.read(10), ImproperConnectionState);
      await assert.rejects(r.readinto(Buffer.alloc(10)), ImproperConnectionState);
      await sendInPieces(held.socket(), body, 65_536);
      assert.equal(sha(await first), sha(body));
    });
  });
});
