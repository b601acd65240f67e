/**
 * The worker's half of the direct transport (worker-ring.ts), run in this thread against a
 * real socket: a caller written here takes bytes out of the ring the way ring.ts does
 * (R_READ, then a wake when R_PAUSED is set), slowly, so the ring fills again and again.
 * Every byte must come through in order, and starting to read again after a full ring must
 * not move the socket's reads with `useUserBuffer()`: Node keeps a listener for each such
 * call until the socket closes, so a long download through a slow caller grew without end.
 * The first read after a full ring goes into a byte of the worker's own, copied into the
 * ring; the reads after it go straight into the room there is by then.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import { after, before, it } from 'node:test';
import {
  R_CTRL_BYTES,
  R_EOF,
  R_ERROR,
  R_PAUSED,
  R_READ,
  R_STATE,
  R_WRITTEN,
  ringClose,
  ringConnect,
} from '../../src/sync/worker-ring.ts';
import { type RawServer, rawServer } from '../integration/servers.ts';
import { countMoves } from '../io/handle-moves.ts';
import { noUncaught, pattern } from './peer.ts';

noUncaught();

const RING = 256 * 1024;
const BODY = pattern(24 * 1024 * 1024 + 4099);
const DIGEST = createHash('sha256').update(BODY).digest('hex');

let server: RawServer;
let port = 0;
before(async () => {
  server = await rawServer((socket) => socket.end(BODY));
  port = server.port;
});
after(() => server.close());

interface Opened {
  id: number;
  ctrl: Int32Array;
  bytes: Uint8Array;
  /** Calls of the socket's handle's useUserBuffer() since the connection was made. */
  moves(): number;
}

/** Connects a ring; `bound`: the socket's moves allowed (MAX_READ_SWITCHES if not given). */
async function open(bound?: number): Promise<Opened> {
  const sab = new SharedArrayBuffer(R_CTRL_BYTES + RING);
  const given = { host: '127.0.0.1', port, timeoutMs: 10_000, seconds: 10, source: null };
  const got = (await ringConnect(
    bound === undefined ? given : { ...given, moves: bound },
    sab,
  )) as [number, number, string, number, string, number];
  const localPort = got[3];
  const active = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  const socket = active.find(
    (h): h is net.Socket => h instanceof net.Socket && h.localPort === localPort,
  );
  assert.ok(socket, 'the ring socket is among the active handles');
  return {
    id: got[0],
    ctrl: new Int32Array(sab, 0, R_CTRL_BYTES / 4),
    bytes: new Uint8Array(sab, R_CTRL_BYTES),
    moves: countMoves(socket),
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A caller's side of one ring: what it took so far. */
class Caller {
  readonly hash = createHash('sha256');
  read = 0;
  taken = 0;
  wakes = 0;
  readonly o: Opened;
  constructor(o: Opened) {
    this.o = o;
  }

  get buffered(): number {
    const buffered = (Atomics.load(this.o.ctrl, R_WRITTEN) - this.read) | 0;
    assert.ok(buffered >= 0 && buffered <= RING, `buffered ${buffered}`);
    return buffered;
  }

  /** Takes up to `max` bytes out as ring.ts's `consume()` does; returns how many. */
  take(max: number): number {
    const start = this.read & (RING - 1);
    const n = Math.min(this.buffered, RING - start, max);
    if (n === 0) return 0;
    this.hash.update(this.o.bytes.subarray(start, start + n));
    this.read = (this.read + n) | 0;
    this.taken += n;
    const ctrl = this.o.ctrl;
    Atomics.store(ctrl, R_READ, this.read);
    if (Atomics.load(ctrl, R_PAUSED) === 1 && Atomics.compareExchange(ctrl, R_PAUSED, 1, 0) === 1) {
      this.wakes++;
      Atomics.notify(ctrl, R_PAUSED);
    }
    return n;
  }

  /** Takes `piece(i)` bytes at most per turn of the event loop, to the end or `stopAt`. */
  async drain(piece: (i: number) => number, stopAt = Number.POSITIVE_INFINITY): Promise<void> {
    for (let i = 0; this.taken < stopAt; i++) {
      if (this.buffered === 0) {
        const written = Atomics.load(this.o.ctrl, R_WRITTEN);
        const state = Atomics.load(this.o.ctrl, R_STATE);
        assert.equal(state & R_ERROR, 0, 'the socket failed');
        if ((state & R_EOF) !== 0 && Atomics.load(this.o.ctrl, R_WRITTEN) === written) return;
      } else {
        this.take(Math.min(piece(i), stopAt - this.taken));
      }
      await turn();
    }
  }

  async untilPaused(): Promise<void> {
    for (let i = 0; i < 1000 && Atomics.load(this.o.ctrl, R_PAUSED) !== 1; i++) await turn();
    assert.equal(Atomics.load(this.o.ctrl, R_PAUSED), 1, 'the worker stopped for want of room');
  }
}

for (const [moves, what] of [
  [undefined, "moves the socket's reads to the room at each start"],
  [6, "moves them at most 6 times, then starts through the worker's own byte"],
  [0, 'never moves them'],
] as const) {
  it(`a ring that fills again and again delivers every byte in order, and ${what}`, async () => {
    const o = await open(moves);
    try {
      // Pieces of 1 byte to 40 KiB, some reaching across the ring's end.
      let seed = 7;
      const caller = new Caller(o);
      await caller.drain(() => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return 1 + (seed % (40 * 1024));
      });
      assert.equal(caller.taken, BODY.length);
      assert.equal(caller.hash.digest('hex'), DIGEST);
      assert.ok(caller.wakes >= 20, `the ring filled only ${caller.wakes} times`);
      // Each useUserBuffer() leaves Node a listener until the socket closes: bounded.
      const bound = Math.min(moves ?? caller.wakes, caller.wakes);
      assert.ok(o.moves() <= bound, `${o.moves()} useUserBuffer() calls, ${bound} allowed`);
      if (moves !== 0) assert.ok(o.moves() > 0, 'the moves below the bound are made');
    } finally {
      ringClose(o.id);
    }
  });
}

it("after the ring filled, one byte taken starts reading again, through the worker's own byte, in order", async () => {
  const o = await open(0);
  try {
    const caller = new Caller(o);
    for (let round = 0; round < 6; round++) {
      // Move the write position around the ring, then let the socket fill it.
      await caller.drain(() => 48 * 1024 + 12_345 * round, caller.taken + Math.floor(RING / 3));
      await caller.untilPaused();
      const written = Atomics.load(o.ctrl, R_WRITTEN);
      assert.equal(caller.buffered, RING, `round ${round}: paused only when full`);
      for (let i = 0; i < 5; i++) await turn();
      assert.equal(Atomics.load(o.ctrl, R_WRITTEN), written, `round ${round}: read while full`);
      caller.take(1);
      for (let i = 0; i < 200 && Atomics.load(o.ctrl, R_WRITTEN) === written; i++) await turn();
      assert.notEqual(
        Atomics.load(o.ctrl, R_WRITTEN),
        written,
        `round ${round}: did not read again`,
      );
    }
    await caller.drain(() => 64 * 1024);
    assert.equal(caller.taken, BODY.length);
    assert.equal(caller.hash.digest('hex'), DIGEST);
    assert.equal(o.moves(), 0);
  } finally {
    ringClose(o.id);
  }
});

it('closing the ring while the worker waits for room ends the wait and the socket', async () => {
  const o = await open();
  const caller = new Caller(o);
  await caller.drain(() => 4096, 3 * RING);
  await caller.untilPaused();
  const written = Atomics.load(o.ctrl, R_WRITTEN);
  ringClose(o.id);
  // A take after the close (a late caller) wakes the worker: it must not read on.
  caller.take(RING);
  for (let i = 0; i < 20; i++) await turn();
  assert.equal(Atomics.load(o.ctrl, R_WRITTEN), written, 'nothing was read after the close');
});
