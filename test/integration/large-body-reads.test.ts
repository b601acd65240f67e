/**
 * A large body on a plain connection is read two ways (io/tuning.ts, OFFER_OWN_MIN): a
 * read(amt) below 256 KiB copies its piece out of the socket's own reads, while readinto,
 * read() and a larger read(amt) have the socket read straight into the caller's memory.
 * These tests mix the two ways on one body and put both under the hostile call patterns of
 * API.md ("Calls, promises and closing"): a second read while one waits, and close() of the
 * response or of the connection while a read waits mid-body. Escapes fail the test.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type * as net from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AbortError,
  HTTPConnection,
  type HTTPResponse,
  ImproperConnectionState,
  IncompleteRead,
} from '../../src/index.ts';
import { directReadBytes } from '../../src/io/direct-read.ts';
import { OFFER_OWN_MIN } from '../../src/io/tuning.ts';
import { failOnEscapes, type RawServer, scriptedServer } from './servers.ts';

failOnEscapes();

const HOST = '127.0.0.1';
const BODY = randomBytes(6 * 1024 * 1024 + 4321);
const DIGEST = createHash('sha256').update(BODY).digest('hex');
const HEAD = `HTTP/1.1 200 OK\r\nContent-Length: ${BODY.length}\r\n\r\n`;

/**
 * Answers each request with HEAD and BODY in pieces of irregular sizes (1 byte to
 * ~300 KiB), now and then after a pause; with `stallAt`, stops after that many body bytes
 * until `resume()` is called (or forever).
 */
function server(
  stallAt: number | null = null,
): Promise<RawServer & { resume(): void; stalled: Promise<void> }> {
  let release: (() => void) | null = null;
  let released = false;
  let reached = (): void => {};
  const stalled = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const send = async (socket: net.Socket): Promise<void> => {
    socket.write(HEAD);
    let seed = 11;
    for (let at = 0; at < BODY.length; ) {
      if (at === stallAt && !released) {
        reached();
        await new Promise<void>((resolve) => {
          release = resolve;
        });
      }
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const size = seed % 7 === 0 ? 1 + (seed % 97) : 1 + (seed % (300 * 1024));
      const end = Math.min(
        BODY.length,
        at + size,
        stallAt !== null && at < stallAt ? stallAt : Infinity,
      );
      if (socket.destroyed) return;
      if (!socket.write(BODY.subarray(at, end))) await new Promise((r) => socket.once('drain', r));
      at = end;
      if (seed % 5 === 0) await sleep(1);
    }
  };
  // Two requests per connection at most (the first test sends a second on the same socket).
  const reply = (socket: net.Socket): void => void send(socket);
  return scriptedServer([reply, reply]).then((srv) =>
    Object.assign(srv, {
      stalled,
      resume() {
        released = true;
        release?.();
      },
    }),
  );
}

/** The ways to read a piece: what each gives back (bytes it consumed, 0 length at the end). */
const PIECES: Array<[string, (r: HTTPResponse) => Promise<Buffer>]> = [
  ['read(65536)', (r) => r.read(65536)],
  ['read(OFFER_OWN_MIN - 1)', (r) => r.read(OFFER_OWN_MIN - 1)],
  ['read(OFFER_OWN_MIN + 4099)', (r) => r.read(OFFER_OWN_MIN + 4099)],
  [
    'readinto(64 KiB)',
    async (r) => {
      const b = Buffer.alloc(64 * 1024);
      return b.subarray(0, await r.readinto(b));
    },
  ],
  [
    'readinto(300 KiB)',
    async (r) => {
      const b = Buffer.alloc(300 * 1024);
      return b.subarray(0, await r.readinto(b));
    },
  ],
  ['read1(65536)', (r) => r.read1(65536)],
];

async function get(srv: RawServer): Promise<[HTTPConnection, HTTPResponse]> {
  const conn = new HTTPConnection(HOST, srv.port, { timeout: 20 });
  await conn.request('GET', '/');
  return [conn, await conn.getresponse()];
}

/** Sends the next request on `conn`: its body is whole, on the `sockets`-th connection. */
async function nextIsWhole(conn: HTTPConnection, srv: RawServer, sockets: number): Promise<void> {
  await conn.request('GET', '/');
  const body = await (await conn.getresponse()).read();
  assert.equal(createHash('sha256').update(body).digest('hex'), DIGEST);
  assert.equal(srv.sockets.length, sockets);
  conn.close();
}

describe('a large body read both ways at once', () => {
  it('pieces of every kind by turns: every byte once and in order, some copied, some read straight in', async () => {
    const srv = await server();
    try {
      const [conn, r] = await get(srv);
      const hash = createHash('sha256');
      const directBefore = directReadBytes();
      let total = 0;
      for (let i = 0; ; i++) {
        const [, read] = PIECES[i % PIECES.length] as (typeof PIECES)[number];
        const piece = await read(r);
        if (piece.length === 0) break;
        hash.update(piece);
        total += piece.length;
      }
      assert.equal(total, BODY.length);
      assert.equal(hash.digest('hex'), DIGEST);
      assert.equal(r.isclosed(), true);
      const direct = directReadBytes() - directBefore;
      assert.ok(
        direct > 0 && direct < BODY.length,
        `${direct} of ${BODY.length} bytes read straight in`,
      );
      // The connection carries the next request, on the same socket.
      await nextIsWhole(conn, srv, 1);
    } finally {
      await srv.close();
    }
  });
});

describe('a second read while a read waits mid-body', () => {
  const kinds = PIECES.filter(([name]) => !name.startsWith('read1'));
  for (const [firstName, first] of kinds) {
    for (const [secondName, second] of [kinds[0], kinds[3]] as typeof kinds) {
      it(`${firstName} waits, ${secondName} is refused; the body is whole`, async () => {
        const stallAt = 1024 * 1024 + 17;
        const srv = await server(stallAt);
        try {
          const [conn, r] = await get(srv);
          const taken: Buffer[] = [];
          let got = 0;
          while (got < stallAt) {
            const piece = await r.read(Math.min(65536, stallAt - got));
            taken.push(piece);
            got += piece.length;
          }
          const a = first(r);
          const b = second(r);
          await assert.rejects(b, (err: unknown) => {
            assert.ok(err instanceof ImproperConnectionState, String(err));
            assert.match(String(err), /another read of this response is still waiting/);
            return true;
          });
          srv.resume();
          taken.push(await a);
          taken.push(await r.read());
          assert.equal(createHash('sha256').update(Buffer.concat(taken)).digest('hex'), DIGEST);
          conn.close();
        } finally {
          await srv.close();
        }
      });
    }
  }
});

describe('close() while a read waits mid-body', () => {
  for (const [name, read] of PIECES) {
    for (const closer of ['response.close()', 'conn.close()'] as const) {
      it(`${name}, ${closer}: AbortError at once, nothing written later, the connection reconnects`, async () => {
        const stallAt = 2 * 1024 * 1024 + 5;
        const srv = await server(stallAt);
        try {
          const [conn, r] = await get(srv);
          let got = 0;
          while (got < stallAt) got += (await r.read(Math.min(200_000, stallAt - got))).length;
          // A readinto's memory must not be written once the call is over.
          const target = Buffer.alloc(300 * 1024, 0xee);
          const pending = name.startsWith('readinto')
            ? r.readinto(target.subarray(0, name.includes('64') ? 64 * 1024 : target.length))
            : read(r);
          await sleep(20);
          if (closer === 'conn.close()') conn.close();
          else r.close();
          await assert.rejects(pending, (err: unknown) => {
            assert.ok(err instanceof AbortError, String(err));
            assert.match(String(err), /closed/);
            return true;
          });
          assert.equal(r.isclosed(), true);
          assert.equal((await r.read()).length, 0);
          srv.resume();
          await sleep(30);
          assert.ok(
            target.every((x) => x === 0xee),
            'memory written after the close',
          );
          assert.ok((srv.sockets[0] as net.Socket).destroyed || srv.sockets[0]?.readableEnded);
          // The next request goes out on a new socket and gets a whole body.
          await nextIsWhole(conn, srv, 2);
        } finally {
          await srv.close();
        }
      });
    }
  }
});

describe('the server ends or resets the connection while a read waits mid-body', () => {
  /** Every way to read a large body, and read() of all of it. */
  const kinds: Array<[string, (r: HTTPResponse) => Promise<Buffer>]> = [
    ...PIECES,
    ['read()', (r) => r.read()],
  ];
  const ends = [
    ['FIN', (s: net.Socket) => s.end()],
    ['RST', (s: net.Socket) => s.resetAndDestroy()],
  ] as const;
  for (const [name, read] of kinds) {
    for (const [how, end] of ends) {
      it(`${name}, ${how}: the bytes before the cut, in order, then a rejection; the connection reconnects`, async () => {
        // Mid-piece for every kind: not a multiple of any piece size.
        const cut = 3 * 1024 * 1024 + 12345;
        const srv = await server(cut);
        try {
          const [conn, r] = await get(srv);
          const got: Buffer[] = [];
          const loop = (async () => {
            for (;;) {
              const piece = await read(r);
              if (piece.length === 0) return;
              got.push(piece);
            }
          })();
          await srv.stalled;
          // Let the client take what was sent and wait inside a read.
          await sleep(30);
          end(srv.sockets[0] as net.Socket);
          const err = await loop.then(
            () => assert.fail('the loop ended without an error'),
            (e: unknown) => e,
          );
          let received = Buffer.concat(got);
          if (how === 'FIN') {
            // Every byte sent arrives; the last call's share is the error's `partial`.
            assert.ok(err instanceof IncompleteRead, String(err));
            received = Buffer.concat([received, err.partial]);
            assert.equal(received.length, cut);
            assert.equal(err.expected, BODY.length - cut);
          } else {
            // The kernel may drop what had not been read yet: a prefix, never a wrong byte.
            assert.ok(
              err instanceof IncompleteRead || (err as NodeJS.ErrnoException).code === 'ECONNRESET',
              String(err),
            );
            if (err instanceof IncompleteRead) received = Buffer.concat([received, err.partial]);
            assert.ok(received.length <= cut, `${received.length} bytes of ${cut}`);
          }
          assert.ok(received.equals(BODY.subarray(0, received.length)), 'bytes out of order');
          assert.equal(r.isclosed(), true);
          // The rest is lost, and a later read says so again (never b''): after the end,
          // as the first did; after a reset, with the reset as its cause.
          await assert.rejects(
            r.read(),
            (e) =>
              e instanceof IncompleteRead &&
              e.partial.length === 0 &&
              (err instanceof IncompleteRead
                ? e.expected === err.expected && e.cause === undefined
                : e.cause === err),
          );
          // The next request goes out on a new socket and gets a whole body.
          srv.resume();
          await nextIsWhole(conn, srv, 2);
        } finally {
          await srv.close();
        }
      });
    }
  }
});
