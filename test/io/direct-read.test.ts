/**
 * The canary of the direct-read path (src/io/direct-read.ts): on this Node, `readinto`
 * on a plain TCP connection must have the socket read straight into the caller's memory
 * (Node's `_handle.useUserBuffer` and the socket's `kBuffer`, found by feature
 * detection). If a Node release moves those internals, the path silently falls back to
 * the queue and copies every byte: this test fails loudly instead, naming the version.
 * Run it on every supported Node: `npx -y node@22 --import tsx --test
 * test/io/direct-read.test.ts` (and node@24).
 *
 * The fallback (a socket read through 'data' events: a `createConnection` hook, TLS)
 * must give the same bytes without it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HTTPConnection, type HTTPConnectionOptions, type HTTPResponse } from '../../src/index.ts';
import { directReadBytes, setReadSwitchLimit } from '../../src/io/direct-read.ts';
import { OFFER_OWN_MIN } from '../../src/io/tuning.ts';
import { countMoves } from './handle-moves.ts';

const HOST = '127.0.0.1';
const SIZE = 8 * 1024 * 1024;

/** A body whose bytes all differ from their neighbours' (a misplaced piece shows). */
const BODY = Buffer.alloc(SIZE);
for (let i = 0; i < SIZE; i += 4) BODY.writeUInt32LE(i, i);
const DIGEST = createHash('sha256').update(BODY).digest('hex');

let server: net.Server;
let port = 0;

before(async () => {
  server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${SIZE}\r\n\r\n`);
      socket.write(BODY);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  port = (server.address() as net.AddressInfo).port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Reads the next piece of a response's body (empty at its end). */
type Piece = (response: HTTPResponse) => Promise<Buffer>;

/** `readinto` into one reused 64 KiB buffer. */
function intoOneBuffer(): Piece {
  const buf = Buffer.alloc(64 * 1024);
  return async (response) => buf.subarray(0, await response.readinto(buf));
}

/** Read the whole body piece by piece (by default with `readinto`); its digest. */
async function readAll(
  options: HTTPConnectionOptions = {},
  piece: Piece = intoOneBuffer(),
  onResponse: (conn: HTTPConnection) => void = () => {},
): Promise<string> {
  const conn = new HTTPConnection(HOST, port, options);
  try {
    await conn.request('GET', '/');
    const response = await conn.getresponse();
    onResponse(conn);
    const hash = createHash('sha256');
    for (let p = await piece(response); p.length > 0; p = await piece(response)) hash.update(p);
    return hash.digest('hex');
  } finally {
    conn.close();
  }
}

/**
 * Read the whole body with `readinto` into one 64 KiB buffer (after `pauseMs`, when given),
 * counting the pieces and the moves of the socket's reads (useUserBuffer calls) from the
 * response on.
 */
async function movesOfReadinto(pauseMs = 0): Promise<{ moves: number; pieces: number }> {
  let moved = (): number => 0;
  let pieces = 0;
  const into = intoOneBuffer();
  const piece: Piece = async (response) => {
    if (pieces++ === 0 && pauseMs > 0) await sleep(pauseMs);
    return into(response);
  };
  const digest = await readAll({}, piece, (conn) => {
    moved = countMoves(conn.sock);
  });
  assert.equal(digest, DIGEST);
  assert.ok(pieces > SIZE / (64 * 1024), `${pieces} pieces`);
  return { moves: moved(), pieces };
}

describe(`direct reads on Node ${process.version}`, () => {
  it('readinto on plain TCP: the socket reads straight into offered memory (ours, copied out)', async () => {
    const before = directReadBytes();
    assert.equal(await readAll(), DIGEST);
    const direct = directReadBytes() - before;
    assert.ok(
      direct >= SIZE / 2,
      `the direct-read path was not taken on Node ${process.version} ` +
        `(${direct} of ${SIZE} bytes read into offered memory): ` +
        "Node's _handle.useUserBuffer or the socket's kBuffer symbol moved; " +
        'see src/io/direct-read.ts',
    );
  });

  it('after a large body, the next answer’s head is read small: its body goes straight into read()’s Buffer', async () => {
    // A keep-alive server answering every request with 1 MiB. The first read after a
    // request took a block's free end before (~150-190 KiB of the body, copied again by
    // read()); now at most 8 KiB (src/io/direct-read.ts `begin`), as Python's buffered reader.
    const size = 1024 * 1024;
    const body = BODY.subarray(0, size);
    const keepAlive = net.createServer((socket) => {
      socket.on('error', () => {});
      let seen = '';
      socket.on('data', (data) => {
        seen += data.toString('latin1');
        for (let at = seen.indexOf('\r\n\r\n'); at >= 0; at = seen.indexOf('\r\n\r\n')) {
          seen = seen.slice(at + 4);
          socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`);
          socket.write(body);
        }
      });
    });
    await new Promise<void>((resolve) => keepAlive.listen(0, HOST, resolve));
    const conn = new HTTPConnection(HOST, (keepAlive.address() as net.AddressInfo).port);
    try {
      const notDirect: number[] = [];
      for (let i = 0; i < 6; i++) {
        const before = directReadBytes();
        await conn.request('GET', '/');
        const response = await conn.getresponse();
        assert.ok((await response.read()).equals(body), `body ${i}`);
        notDirect.push(size - (directReadBytes() - before));
      }
      // The first answer has no large body before it; each after it does.
      for (const n of notDirect.slice(1)) {
        assert.ok(n <= 8 * 1024, `bytes not read straight into read()'s Buffer: ${notDirect}`);
      }
    } finally {
      conn.close();
      await new Promise<void>((resolve) => keepAlive.close(() => resolve()));
    }
  });

  it('a socket is moved to offered memory a bounded number of times; the body arrives whole past the bound', async () => {
    // Each move is the handle's useUserBuffer(), and Node keeps a listener (~50 B) per
    // call until the socket closes: unbounded, a long-lived connection grew by 54 B per
    // readinto piece. Past the bound (MAX_READ_SWITCHES, lowered here) nothing more is
    // offered and the bytes come through the queue, intact. (readinto's reads go to a buffer
    // of ours that, once it was offered, Node's next read goes to again without a move:
    // those go on past the bound.)
    const limit = 6;
    const previous = setReadSwitchLimit(limit);
    try {
      const { moves } = await movesOfReadinto();
      // One move per offer, and at most one back per offer that was not filled.
      assert.ok(moves <= 2 * limit, `${moves} moves with a bound of ${limit}`);
    } finally {
      setReadSwitchLimit(previous);
    }
  });

  it('readinto takes what the kernel holds at once, else reads through our buffer where Node reads next: fewer moves than pieces', async () => {
    // readinto's bytes never come through the caller's memory handed to the socket: what
    // the kernel holds is read at once (a synchronous read, no moment for other code to
    // run), the rest through a buffer of the connection's; once a piece of that filled
    // and was copied out, Node's next read goes to it again and the next readinto takes
    // it over. Each move of the socket's reads is a useUserBuffer(), a listener kept
    // until the socket closes.
    const { moves, pieces } = await movesOfReadinto();
    assert.ok(moves < pieces, `${moves} moves for ${pieces} pieces`);
    // With the body in the kernel before the first readinto, almost every piece is read
    // at once.
    const held = await movesOfReadinto(100);
    assert.ok(held.moves < held.pieces / 4, `${held.moves} moves for ${held.pieces} pieces`);
  });

  it("read(amt) below OFFER_OWN_MIN copies its piece out of the socket's own reads; from it, reads straight in", async () => {
    // Under cubic, read(65536) loops ran at 230-243 µs per 1 MiB body copied out of
    // 256 KiB reads against 297-343 read straight into each piece (src/io/tuning.ts).
    // The last piece, a read to the body's end, may still go straight in.
    for (const [amt, direct] of [
      [64 * 1024, false],
      [OFFER_OWN_MIN, true],
    ] as const) {
      const before = directReadBytes();
      const digest = await readAll({}, async (response) => {
        const piece = await response.read(amt);
        assert.ok(piece.length <= amt);
        return piece;
      });
      assert.equal(digest, DIGEST, `read(${amt})`);
      const straight = directReadBytes() - before;
      if (direct)
        assert.ok(straight >= SIZE / 2, `read(${amt}): ${straight} bytes read straight in`);
      // Only the piece that ends the body may (a read to the body's end reads straight in).
      else assert.ok(straight <= amt, `read(${amt}): ${straight} bytes read straight in`);
    }
  });

  it('the plain path (a socket read through data events) gives the same bytes', async () => {
    const before = directReadBytes();
    const digest = await readAll({ createConnection: ({ host, port }) => net.connect(port, host) });
    assert.equal(digest, DIGEST);
    assert.equal(directReadBytes(), before, 'no direct read without onread');
  });
});

describe('direct reads: bytes stay intact across exchanges of every size', () => {
  /** Deterministic bytes for `seed` (xorshift), so a misplaced or overwritten piece shows. */
  const bytesOf = (size: number, seed: number): Buffer => {
    const out = Buffer.allocUnsafe(size);
    let x = (seed * 2654435761) >>> 0 || 1;
    for (let i = 0; i < size; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 0xff;
    }
    return out;
  };
  /** Pad header values making a head of exactly `headSize` bytes (as far as it can be). */
  const padsOf = (base: number, headSize: number, seed: number): string[] => {
    const pads: string[] = [];
    let left = headSize - base - 2;
    let n = 0;
    while (left > 0) {
      const overhead = `X-Pad-${n}: \r\n`.length;
      const room = Math.min(1000, left - overhead);
      if (room < 1) break;
      const take = left - overhead - room > 0 && left - overhead - room < 20 ? room - 20 : room;
      pads.push(
        bytesOf(take, seed + n)
          .toString('base64')
          .slice(0, take),
      );
      left -= overhead + take;
      n++;
    }
    return pads;
  };
  type Kind = 'get' | 'head' | '204' | '304' | 'continue' | 'chunked';
  interface Plan {
    kind: Kind;
    headSize: number;
    bodySize: number;
    seed: number;
    split: number;
  }
  const headOf = (p: Plan): string => {
    const status =
      p.kind === '204' ? '204 No Content' : p.kind === '304' ? '304 Not Modified' : '200 OK';
    const framing =
      p.kind === 'chunked'
        ? 'Transfer-Encoding: chunked\r\n'
        : p.kind === '204' || p.kind === '304'
          ? ''
          : `Content-Length: ${p.bodySize}\r\n`;
    const start = `HTTP/1.1 ${status}\r\n${framing}X-Seed: ${p.seed}\r\n`;
    const pads = padsOf(start.length, p.headSize, p.seed);
    return `${start}${pads.map((v, i) => `X-Pad-${i}: ${v}\r\n`).join('')}\r\n`;
  };
  const wireOf = (p: Plan): Buffer => {
    const head = Buffer.from(headOf(p), 'latin1');
    const parts: (Buffer | null)[] = [
      p.kind === 'continue' ? Buffer.from('HTTP/1.1 100 Continue\r\n\r\n') : null,
      head,
    ];
    const body = bytesOf(p.bodySize, p.seed);
    if (p.kind === 'chunked') {
      for (let at = 0; at < body.length; ) {
        const n = Math.min(body.length - at, [1, 4095, 8192, 70000][(at + p.seed) % 4] as number);
        parts.push(
          Buffer.from(`${n.toString(16)}\r\n`),
          body.subarray(at, at + n),
          Buffer.from('\r\n'),
        );
        at += n;
      }
      parts.push(Buffer.from('0\r\n\r\n'));
    } else if (p.kind === 'get' || p.kind === 'continue') {
      parts.push(body);
    }
    return Buffer.concat(parts.filter((b) => b !== null));
  };

  it('mixing large and small bodies, heads around 8 KiB, pipelined requests and every read, bytes read earlier are never overwritten', {
    timeout: 60_000,
  }, async () => {
    // Many exchanges on one keep-alive connection: heads of ~200 B to 20 KiB (8191, 8192
    // and 8193 bytes among them), bodies of 0 B to 1 MiB, HEAD/204/304/100-continue and
    // chunked answers, answers written whole or cut anywhere, the next request sent
    // before the body is read, and bodies read by read(), read(amt), readinto() (a fresh
    // buffer each time), readline() and read1(). Every Buffer the library returned is
    // kept and checked again at the end: memory it handed out (the scratch buffer's
    // views, block views) must never be read into again.
    let rnd = 12345;
    const next = (n: number): number => {
      rnd = (rnd * 1103515245 + 12345) & 0x7fffffff;
      return rnd % n;
    };
    const pick = <T>(list: readonly T[]): T => list[next(list.length)] as T;
    const kinds: Kind[] = ['get', 'get', 'get', 'head', '204', '304', 'continue', 'chunked'];
    const heads = [200, 4000, 8100, 8191, 8192, 8193, 8300, 12000, 20 * 1024];
    const bodies = [0, 1, 100, 8191, 8192, 8193, 65535, 65536, 65537, 300_000, 1024 * 1024];
    const plans: Plan[] = [];
    for (let i = 0; i < 90; i++) {
      // Every third exchange follows a large body, so the next head comes after bulk reads.
      const kind = i % 3 === 1 ? 'get' : pick(kinds);
      const bodySize = i % 3 === 1 ? pick([300_000, 1024 * 1024]) : pick(bodies);
      plans.push({ kind, headSize: pick(heads), bodySize, seed: i + 1, split: next(4) });
    }
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      let seen = '';
      let served = 0;
      socket.on('data', (data) => {
        seen += data.toString('latin1');
        for (let at = seen.indexOf('\r\n\r\n'); at >= 0; at = seen.indexOf('\r\n\r\n')) {
          seen = seen.slice(at + 4);
          const p = plans[served++] as Plan;
          const wire = wireOf(p);
          // Whole, or cut at the head's end, inside the head, or at 8192.
          const cut = [0, headOf(p).length, Math.floor(p.headSize / 2), 8192][p.split] as number;
          if (cut <= 0 || cut >= wire.length) socket.write(wire);
          else {
            socket.write(wire.subarray(0, cut));
            socket.write(wire.subarray(cut));
          }
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    const conn = new HTTPConnection(HOST, (server.address() as net.AddressInfo).port, {
      timeout: 30,
    });
    const kept: { pieces: Buffer[]; digest: string; seed: number }[] = [];
    const send = (p: Plan): Promise<void> =>
      conn.request(p.kind === 'head' ? 'HEAD' : 'GET', `/${p.seed}`);
    try {
      await send(plans[0] as Plan);
      for (let i = 0; i < plans.length; i++) {
        const p = plans[i] as Plan;
        const response = await conn.getresponse();
        assert.equal(response.getheader('X-Seed'), String(p.seed));
        const expectedPads = padsOf(headOf({ ...p, headSize: 0 }).length - 2, p.headSize, p.seed);
        for (let n = 0; n < expectedPads.length; n++) {
          assert.equal(response.getheader(`X-Pad-${n}`), expectedPads[n], `pad ${n} of ${p.seed}`);
        }
        // Pipelined: the next request goes out before this body is read.
        const early = i + 1 < plans.length && next(3) === 0;
        if (early) await send(plans[i + 1] as Plan);
        const pieces: Buffer[] = [];
        const mode = next(5);
        for (;;) {
          let piece: Buffer;
          if (mode === 0) piece = await response.read();
          else if (mode === 1)
            piece = await response.read(pick([1, 100, 8191, 8192, 8193, 65536, 300_000]));
          else if (mode === 2) {
            const buf = Buffer.alloc(pick([1, 8191, 8192, 8193, 65536, 1024 * 1024]));
            piece = buf.subarray(0, await response.readinto(buf));
          } else if (mode === 3) piece = await response.readline(pick([-1, 10, 8192]));
          else piece = await response.read1(pick([-1, 8192, 100_000]));
          if (piece.length === 0) break;
          pieces.push(piece);
        }
        const body = Buffer.concat(pieces);
        const expected = ['get', 'continue', 'chunked'].includes(p.kind)
          ? bytesOf(p.bodySize, p.seed)
          : Buffer.alloc(0);
        assert.ok(
          body.equals(expected),
          `body of exchange ${i} (${JSON.stringify(p)}, mode ${mode})`,
        );
        kept.push({
          pieces,
          digest: createHash('sha256').update(body).digest('hex'),
          seed: p.seed,
        });
        if (!early && i + 1 < plans.length) await send(plans[i + 1] as Plan);
      }
      for (const { pieces, digest, seed } of kept) {
        const now = createHash('sha256').update(Buffer.concat(pieces)).digest('hex');
        assert.equal(now, digest, `the body of exchange ${seed} changed after it was returned`);
      }
    } finally {
      conn.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
