/**
 * DirectReads.readNow() (src/io/direct-read.ts), readinto's synchronous read of what the
 * kernel holds, on a real socket whose own reads are stopped (so that every byte stays
 * in the kernel until readNow takes it): it reads only while the last read was full, an
 * empty socket (EAGAIN) answers 0 and stops the guessing, and any other error (a reset)
 * fails the reader with the socket's own error, as the socket's read would.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as net from 'node:net';
import * as os from 'node:os';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ByteReader } from '../../src/io/byte-reader.ts';
import { Deadline } from '../../src/io/deadline.ts';
import { DirectReads } from '../../src/io/direct-read.ts';

const HOST = '127.0.0.1';
const PIECE = 64 * 1024;
/** A piece whose bytes differ from their neighbours' (a misplaced byte shows). */
const DATA = Buffer.alloc(2 * PIECE);
for (let i = 0; i < DATA.length; i += 4) DATA.writeUInt32LE(i, i);

/** What the server does with each connection, set per test. */
let onConnection: (socket: net.Socket) => void = () => {};
let server: net.Server;
let port = 0;

before(async () => {
  server = net.createServer((socket) => {
    socket.on('error', () => {});
    onConnection(socket);
  });
  server.listen(0, HOST);
  await once(server, 'listening');
  port = (server.address() as net.AddressInfo).port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A connected client whose socket does not read by itself (paused before it connects). */
async function client(): Promise<{ reader: ByteReader; direct: DirectReads; socket: net.Socket }> {
  const reader = new ByteReader(null, new Deadline(null, { host: HOST, port }));
  const direct = new DirectReads(reader);
  const socket = net.connect({ host: HOST, port, onread: direct.onread });
  reader.attach(socket, false);
  socket.pause();
  await once(socket, 'connect');
  return { reader, direct, socket };
}

/** The guess readNow acts on: the last read filled all it was given. */
function guessMore(direct: DirectReads): void {
  (direct as unknown as { likelyMore: boolean }).likelyMore = true;
}

describe('DirectReads.readNow', { timeout: 10_000 }, () => {
  it('reads what the kernel holds straight into the target, at the offset, while each read comes back full', async () => {
    onConnection = (socket) => socket.write(DATA);
    const { reader, direct, socket } = await client();
    try {
      await sleep(100);
      const target = Buffer.alloc(3 * PIECE, 0xee);
      assert.equal(direct.readNow(target, 10, PIECE), 0, 'no read was full yet: not tried');
      guessMore(direct);
      assert.equal(direct.readNow(target, 10, PIECE), PIECE);
      assert.equal(direct.readNow(target, 10 + PIECE, PIECE), PIECE);
      assert.ok(target.subarray(10, 10 + 2 * PIECE).equals(DATA));
      assert.ok(
        target.subarray(0, 10).every((x) => x === 0xee),
        'nothing before the offset',
      );
      // Everything is taken: the next read finds the socket empty (EAGAIN), answers 0,
      // fails nothing, and stops guessing.
      assert.equal(direct.readNow(target, 0, PIECE), 0);
      assert.equal(reader.error, null);
      assert.equal(socket.destroyed, false);
    } finally {
      socket.destroy();
    }
  });

  it('after a read that found the socket empty, bytes that come later are left to the socket', async () => {
    let peer: net.Socket | null = null;
    onConnection = (socket) => {
      peer = socket;
    };
    const { reader, direct, socket } = await client();
    try {
      await sleep(50);
      guessMore(direct);
      const target = Buffer.alloc(PIECE);
      assert.equal(direct.readNow(target, 0, PIECE), 0, 'nothing there yet');
      (peer as unknown as net.Socket).write(DATA.subarray(0, 1000));
      await sleep(100);
      assert.equal(direct.readNow(target, 0, PIECE), 0, 'not tried: the last read was empty');
      // The socket's own read takes them.
      const got: Buffer[] = [];
      reader.expect();
      socket.resume();
      const done = new Promise<void>((resolve) => {
        const look = (): void => {
          got.push(...reader.takeAll());
          if (Buffer.concat(got).length >= 1000) resolve();
          else reader.whenData(look, 'body', {});
        };
        reader.whenData(look, 'body', {});
      });
      await done;
      assert.ok(Buffer.concat(got).equals(DATA.subarray(0, 1000)));
    } finally {
      socket.destroy();
    }
  });

  it("a reset met by the synchronous read fails the reader with the socket's ECONNRESET, the bytes before it read first", async () => {
    onConnection = (socket) => {
      socket.write(DATA.subarray(0, PIECE), () => setTimeout(() => socket.resetAndDestroy(), 20));
    };
    const { reader, direct, socket } = await client();
    try {
      await sleep(150);
      guessMore(direct);
      const target = Buffer.alloc(PIECE);
      const n = direct.readNow(target, 0, PIECE);
      assert.equal(n, PIECE, 'the bytes that came before the reset');
      assert.ok(target.equals(DATA.subarray(0, PIECE)));
      assert.equal(reader.error, null);
      assert.equal(direct.readNow(target, 0, PIECE), 0);
      const err = reader.error as NodeJS.ErrnoException | null;
      assert.ok(err !== null, 'the reader failed');
      assert.equal(err.code, 'ECONNRESET');
      // The socket's own read reports a reset so (net): the same error either way.
      assert.equal(err.message, 'read ECONNRESET');
      assert.equal(err.syscall, 'read');
      assert.equal(err.errno, -os.constants.errno.ECONNRESET);
      assert.equal(reader.closed, true);
      assert.equal(socket.destroyed, true, 'the socket is destroyed');
    } finally {
      socket.destroy();
    }
  });
});
