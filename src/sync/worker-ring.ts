/**
 * The worker's half of the blocking API's direct transport (ring.ts is the caller's): the
 * worker opens a plain TCP socket (DNS, `source_address`, the connect timeout, with the
 * main entry's own errors) and lets libuv read it straight into a ring of shared memory
 * (`onread` with the free part of the ring as its buffer); the calling thread parses the
 * bytes there itself and writes its requests on the socket's descriptor. The worker only
 * publishes how far the ring is filled (and the end or a failure of the socket), stops
 * reading when the ring is full (the caller wakes it when it made room), writes what the
 * caller could not write without blocking, and destroys the socket when asked.
 */
import type * as fs from 'node:fs';
import * as net from 'node:net';
import { IterableBody } from '../io/body-kinds.ts';
import { type PreparedBody, prepareBody, writeBody } from '../io/body-source.ts';
import { connectOutcome, Deadline } from '../io/deadline.ts';
import { probePeer, queuedBytes } from '../io/peer-probe.ts';
import { MAX_READ_SWITCHES, PAUSED_PROBE_MS } from '../io/tuning.ts';
import type { Decoder, Json } from './wire.ts';
import { closeOpened, takeOpened } from './worker-bodies.ts';

/** Slots of a ring's control block (Int32 words before the ring's bytes). */
export const R_WRITTEN = 0; // bytes the worker put in the ring (wrapping int32)
export const R_READ = 1; // bytes the caller took out of it (wrapping int32)
export const R_EVENT = 2; // moves at every publication: the caller waits on it
export const R_STATE = 3; // R_EOF | R_ERROR bits
export const R_PAUSED = 4; // 1: the ring was full and the worker stopped reading
/**
 * Who may use the socket's descriptor: FD_FREE, FD_WRITING (the caller is in a
 * `writeSync` on it) or FD_GONE (the worker closed it, or is about to). The worker closes
 * the descriptor only from FD_FREE, waiting out a write; the caller writes only from
 * FD_FREE. Without this, a socket Node destroyed on a reset had its number reused (by
 * the next socket or file of the process) while the caller still wrote to it.
 */
export const R_FD = 5;
export const FD_FREE = 0;
export const FD_WRITING = 1;
export const FD_GONE = 2;
/**
 * 1 while the caller's connection is idle with its socket kept (its last response read to
 * its end), set and cleared by the caller: the worker may then close the socket at its
 * peer's end on its own. Each side writes its word (this, or R_STATE's end) before it
 * reads the other's, so that one of them always sees the end.
 */
export const R_IDLE = 6;
export const R_CTRL_BYTES = 64;
export const R_EOF = 1;
export const R_ERROR = 2;

/** `Atomics.waitAsync` (ES2024; Node 20 has it, lib es2023 does not declare it). */
export const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      a: Int32Array,
      index: number,
      value: number,
    ): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync.bind(Atomics);

interface RingSocket {
  readonly socket: net.Socket;
  readonly ctrl: Int32Array;
  readonly ring: Uint8Array;
  written: number;
  error: unknown;
  /**
   * The control block and ring are this socket's: false once it is closed, after which
   * nothing of it (a late event, a pending wait for room) may touch them, as the caller
   * hands the same memory to its next connection.
   */
  live: boolean;
  /** A body `prep` made, for the next `body` command. */
  pending: PreparedBody | null;
  /** The streams `pending` was made of that this thread opened: closed when it is done. */
  opened: fs.ReadStream[];
}

const rings = new Map<number, RingSocket>();
let nextRing = 1;

/** What `rconnect` is given. */
export interface RingConnect {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number | null;
  readonly seconds: number | null;
  readonly source: readonly [string, number] | null;
  /**
   * Moves of the socket's reads allowed (`useUserBuffer()`): MAX_READ_SWITCHES unless a
   * test sets it.
   */
  readonly moves?: number;
}

/**
 * Opens a socket reading into `sab` (control block then ring; the ring's size a power of
 * two). Resolves with its id, descriptor and addresses; rejects as the main entry's
 * connect does (Node's system errors, `TimeoutError` naming the peer).
 */
export async function ringConnect(given: RingConnect, sab: SharedArrayBuffer): Promise<Json> {
  const ctrl = new Int32Array(sab, 0, R_CTRL_BYTES / 4);
  const ring = new Uint8Array(sab, R_CTRL_BYTES);
  const size = ring.length;
  const mask = size - 1;
  const id = nextRing++;
  // Filled in once the socket exists (onread's buffer is asked for before that).
  const entry = {
    written: 0,
    error: null,
    live: true,
    ctrl,
    ring,
    pending: null,
    opened: [],
  } as unknown as RingSocket;
  const freeView = (): Uint8Array | null => {
    const written = entry.written;
    const used = (written - Atomics.load(ctrl, R_READ)) | 0;
    const at = written & mask;
    const n = Math.min(size - at, size - used);
    return n > 0 ? ring.subarray(at, at + n) : null;
  };
  /** Whether the ring has room (freeView() would not be null), without making a view. */
  const hasRoom = (): boolean => ((entry.written - Atomics.load(ctrl, R_READ)) | 0) < size;
  /**
   * Starting again after a full ring, the socket's reads are moved to the room there is
   * then (`useUserBuffer()`: one read takes it all), MAX_READ_SWITCHES times per socket at
   * most, as in io/direct-read.ts: Node keeps a listener (~50 B) for every move until the
   * socket closes, which grew without end on a long download through a slow caller. Past
   * the bound, the first read after a full ring goes into `scratch`, the buffer Node was
   * given for the next read when the ring filled (Node asks for one after every read, and
   * none in the ring can be sized before room exists), and is copied into the ring; the
   * reads after it go straight into the room there is by then. (Always using `scratch`
   * cost the blocking API's 64 MiB `read(65536)` ~5 % in paired runs: 0.93-0.95 against
   * 0.97-0.98 for the code before, 5 rounds under cubic.)
   */
  const scratch = new Uint8Array(1);
  let movesLeft = given.moves ?? MAX_READ_SWITCHES;
  /** The next read goes into `scratch` (it was Node's buffer when the ring filled). */
  let viaScratch = false;
  const publish = (): void => {
    if (!entry.live) return;
    Atomics.add(ctrl, R_EVENT, 1);
    Atomics.notify(ctrl, R_EVENT);
  };
  const handle = (): {
    useUserBuffer(b: Uint8Array): void;
    readStart(): number;
    reading: boolean;
  } | null => (entry.socket as unknown as { _handle: never })._handle;
  /**
   * Reading stopped because the ring was full: starts it again once the caller took bytes
   * out. The caller clears R_PAUSED after it made room, but the pause it clears can be a
   * newer one than that room (the socket may have filled the ring again in between), so
   * the room is looked at here each time, and the pause set again before sleeping: the
   * caller's next take then sees it and wakes this.
   */
  const waitRoom = (): void => {
    for (;;) {
      if (!entry.live || entry.socket.destroyed) return;
      const view = freeView();
      if (view !== null) {
        Atomics.store(ctrl, R_PAUSED, 0);
        const h = handle();
        if (h === null) return;
        if (movesLeft > 0) {
          movesLeft--;
          viaScratch = false;
          h.useUserBuffer(view);
        }
        h.reading = true;
        h.readStart();
        return;
      }
      Atomics.store(ctrl, R_PAUSED, 1);
      if (hasRoom()) continue;
      const r = waitAsync(ctrl, R_PAUSED, 1);
      if (r.async) {
        void r.value.then(waitRoom);
        return;
      }
    }
  };
  const options: net.TcpNetConnectOpts = {
    host: given.host,
    port: given.port,
    allowHalfOpen: true,
    onread: {
      // Asked for after every read: when the ring just filled, `scratch`.
      buffer: () => {
        const view = freeView();
        if (view !== null) return view;
        viaScratch = true;
        return scratch;
      },
      callback(n: number): boolean {
        if (!entry.live) return false;
        if (viaScratch) {
          viaScratch = false;
          if (n > 0 && hasRoom()) ring[entry.written & mask] = scratch[0] as number;
        }
        entry.written = (entry.written + n) | 0;
        if (((entry.written - Atomics.load(ctrl, R_READ)) | 0) > size) {
          // Bytes were read while the ring was full (into `scratch`, with no room to copy
          // it to): the stream is broken, never handed over wrong.
          entry.socket.destroy(new Error('httplib-ts/sync: the ring overflowed'));
          return false;
        }
        Atomics.store(ctrl, R_WRITTEN, entry.written);
        publish();
        if (hasRoom()) return true;
        // Full: stop reading until the caller makes room.
        queueMicrotask(waitRoom);
        return false;
      },
    },
  };
  const source = given.source;
  if (source !== null) {
    if (source[0] !== '') options.localAddress = source[0];
    if (source[1] !== 0) options.localPort = source[1];
  }
  if (given.host === '') throw emptyHost();
  // The memory may be a closed connection's: its descriptor word starts again.
  Atomics.store(ctrl, R_FD, FD_FREE);
  const socket = net.connect(options);
  (entry as { socket: net.Socket }).socket = socket;
  // Every way Node closes the descriptor goes through `_destroy`: first the caller's
  // write on it (if one is under way) ends, and the caller is told not to start another.
  const destroyHandle = socket._destroy;
  socket._destroy = function (this: net.Socket, err, callback): void {
    if (entry.live) closeDescriptor(ctrl);
    destroyHandle.call(this, err, callback);
  };
  const peer = { host: given.host, port: given.port };
  const deadline = new Deadline(null, peer);
  try {
    await deadline.until(
      'connect',
      { timeoutMs: given.timeoutMs, seconds: given.seconds },
      (settle) => connectOutcome(socket, settle),
    );
  } catch (err) {
    socket.on('error', ignore);
    socket.destroy();
    throw err;
  } finally {
    deadline.dispose();
  }
  socket.setNoDelay(true);
  socket.on('end', () => {
    if (!entry.live) return;
    Atomics.or(ctrl, R_STATE, R_EOF);
    publish();
    // The peer closed an idle connection: the caller, which learns of the end only at
    // its next call on it, may never make one (a connection dropped without close(): no
    // finalizer runs in a blocking script). Closed now, as the main entry closes an idle
    // socket at its peer's end; the caller finds it ended and opens a new one. A request
    // under way is the caller's to end (its sends go on until the peer's reset, as in
    // Python), and so are bytes it has not taken.
    if (
      Atomics.load(ctrl, R_IDLE) === 1 &&
      ((entry.written - Atomics.load(ctrl, R_READ)) | 0) === 0
    ) {
      socket.destroy();
      ringClose(id);
    }
  });
  socket.on('error', (err) => {
    entry.error = err;
    if (!entry.live) return;
    Atomics.or(ctrl, R_STATE, R_ERROR);
    publish();
  });
  socket.on('close', () => {
    if (!entry.live) return;
    Atomics.or(ctrl, R_STATE, R_EOF);
    publish();
  });
  rings.set(id, entry);
  const fd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
  return [
    id,
    fd,
    socket.localAddress ?? '',
    socket.localPort ?? 0,
    socket.remoteAddress ?? '',
    socket.remotePort ?? 0,
  ];
}

/** The socket's error (what ended it), for the caller to throw. */
export function ringError(id: number): unknown {
  return rings.get(id)?.error ?? null;
}

/** Writes what the caller could not write without waiting; resolves once it drained. */
export function ringWrite(
  id: number,
  bytes: Uint8Array | string,
  timeoutMs: number | null,
  seconds: number | null,
  host: string,
  port: number,
): Promise<void> {
  const entry = rings.get(id);
  if (entry === undefined || entry.socket.destroyed) return Promise.reject(closedSocket());
  const socket = entry.socket;
  const deadline = new Deadline(null, { host, port });
  // As the main entry: bytes that keep leaving restart the timeout.
  deadline.sendQueue = () => queuedBytes(socket);
  return deadline
    .until('send', { timeoutMs, seconds }, (settle) => {
      const onError = (err: Error): void => settle(err);
      const onClose = (): void => settle(closedSocket());
      socket.once('error', onError);
      socket.once('close', onClose);
      // A copy: the caller's memory is not ours once this call returns.
      const data = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes);
      if (socket.write(data)) queueMicrotask(() => settle(null));
      else socket.once('drain', () => settle(null));
      return () => {
        socket.off('error', onError);
        socket.off('close', onClose);
      };
    })
    .catch((err: unknown) => {
      socket.destroy();
      throw err;
    })
    .finally(() => deadline.dispose());
}

/**
 * Marks the descriptor gone (FD_GONE), after waiting for a write of the caller's on it to
 * end: a `writeSync` on a non-blocking socket, which never waits itself.
 */
function closeDescriptor(ctrl: Int32Array): void {
  while (Atomics.compareExchange(ctrl, R_FD, FD_FREE, FD_GONE) === FD_WRITING) {
    Atomics.wait(ctrl, R_FD, FD_WRITING, 10);
  }
}

/** The body 'prep' made will not be sent: let it go, and close the streams it opened. */
function letGo(entry: { pending: PreparedBody | null; opened: fs.ReadStream[] }): Promise<void> {
  entry.pending?.release();
  entry.pending = null;
  return closeOpened(entry.opened.splice(0));
}

/** Destroys the socket and forgets it. */
export function ringClose(id: number): void {
  const entry = rings.get(id);
  if (entry === undefined) return;
  rings.delete(id);
  entry.live = false;
  void letGo(entry);
  entry.socket.on('error', ignore);
  entry.socket.destroy();
  // A wait for room ends (it finds the socket gone) rather than outliving it.
  Atomics.notify(entry.ctrl, R_PAUSED);
}

function closedSocket(): Error {
  return Object.assign(new Error('This socket has been ended by the other party'), {
    code: 'EPIPE',
  });
}

function emptyHost(): Error {
  return Object.assign(new Error("getaddrinfo ENOTFOUND '' (the host name is empty)"), {
    code: 'ENOTFOUND',
    errno: -3008,
    syscall: 'getaddrinfo',
    hostname: '',
  });
}

function ignore(): void {}

/** A command of ring.ts. */
export interface RingCommand {
  readonly op: 'connect' | 'write' | 'close' | 'error' | 'prep' | 'drop' | 'body';
  readonly id?: number;
  readonly a?: Json[];
  /** connect: the index of the ring's SharedArrayBuffer among the message's ported values. */
  readonly sab?: number;
  /** write: the bytes (an attachment). */
  readonly b?: Json;
}

/** Runs a command of ring.ts; its value goes back to the caller (a failure as its exception). */
export async function ringCommand(
  cmd: RingCommand,
  decoder: Pick<Decoder, 'bytes' | 'value' | 'values'>,
  ported: readonly unknown[],
): Promise<Json> {
  const id = cmd.id ?? 0;
  const a = decoder.values(cmd.a ?? []);
  switch (cmd.op) {
    case 'connect':
      return ringConnect(
        {
          host: a[0] as string,
          port: a[1] as number,
          timeoutMs: a[2] as number | null,
          seconds: a[3] as number | null,
          source: a[4] as [string, number] | null,
        },
        ported[cmd.sab ?? 0] as SharedArrayBuffer,
      );
    case 'write':
      await ringWrite(
        id,
        decoder.bytes(cmd.b ?? null),
        a[0] as number | null,
        a[1] as number | null,
        a[2] as string,
        a[3] as number,
      );
      return null;
    case 'close':
      ringClose(id);
      return null;
    case 'prep': {
      // A body only an event loop reads (a file, a stream, a Blob, an iterable): made here
      // as the main entry makes it; its label and length go back, for the head.
      const entry = rings.get(id);
      if (entry === undefined) throw closedSocket();
      const body = decoder.value(cmd.b ?? null);
      // The streams it is made of that this thread opened are the ring's until its body
      // is sent or let go (taken now, while the decoding is just over: else worker.ts
      // closes them when this command is over).
      const opened = takeOpened();
      let prepared: PreparedBody;
      try {
        await letGo(entry);
        prepared = await prepareBody(body, a[0] as number, a[1] === true);
      } catch (err) {
        await closeOpened(opened);
        throw err;
      }
      entry.pending = prepared;
      entry.opened = opened;
      const info = prepared.info;
      return [prepared.label, info.kind, info.kind === 'length' ? info.length : null];
    }
    case 'drop': {
      // The body made by 'prep' will not be sent: let it go (and what it opened) now.
      const entry = rings.get(id);
      if (entry !== undefined) await letGo(entry);
      return null;
    }
    case 'body': {
      const entry = rings.get(id);
      const prepared = entry?.pending ?? null;
      if (entry === undefined || prepared === null) throw closedSocket();
      entry.pending = null;
      const opened = entry.opened.splice(0);
      const [chunked, timeoutMs, seconds, host, port, length] = a as [
        boolean,
        number | null,
        number | null,
        string,
        number,
        number | null,
      ];
      const socket = entry.socket;
      // A body waiting for its own source (a pipe, a stream) is not writing: the socket's
      // reset or close must end the call then, not the source's next piece (never, maybe);
      // so must the peer's FIN with no answer before it (it can never answer), as on the
      // main entry. A FIN behind an answer (an early 413) lets the send go on.
      let unwatch = ignore;
      const broken = new Promise<never>((_, reject) => {
        const onError = (err: Error): void => reject(err);
        const onClose = (): void => reject(entry.error ?? closedSocket());
        const onEnd = (): void => {
          if (((entry.written - Atomics.load(entry.ctrl, R_READ)) | 0) === 0) {
            reject(closedSocket());
          }
        };
        socket.once('error', onError);
        socket.once('close', onClose);
        socket.once('end', onEnd);
        unwatch = () => {
          socket.off('error', onError);
          socket.off('close', onClose);
          socket.off('end', onEnd);
        };
        if (socket.readableEnded) onEnd();
      });
      broken.catch(ignore);
      // A socket the ring filled is not read (the caller takes nothing out before the send
      // is over), and libuv then polls it for nothing: a reset (RST) goes unseen, and a
      // body waiting for its source waits on. peer-probe.ts asks the kernel (an empty
      // write, sending nothing): it fails with the reset's error, which the race above hears.
      const probe = setInterval(() => {
        if (((entry.written - Atomics.load(entry.ctrl, R_READ)) | 0) < entry.ring.length) return;
        probePeer(socket);
      }, PAUSED_PROBE_MS);
      const sending = writeBody(
        { write: (chunk) => ringWrite(id, chunk, timeoutMs, seconds, host, port) },
        prepared,
        chunked,
        length,
      );
      sending.catch(ignore);
      try {
        if (socket.destroyed) throw entry.error ?? closedSocket();
        await Promise.race([sending, broken]);
      } catch (err) {
        prepared.release();
        socket.destroy();
        // A caller's iterable is let go within this call: the body's unwinding asks the
        // caller (its `return()`), which must come before this reply, never after it (the
        // caller would take the question for the reply, and its next command for the
        // answer). Not long: the socket is gone, and so is any write the body awaits.
        if (prepared instanceof IterableBody) await sending.catch(ignore);
        throw err;
      } finally {
        clearInterval(probe);
        unwatch();
        // Sent (its stream closed itself at its end) or failed: closed either way.
        await closeOpened(opened);
      }
      return null;
    }
    case 'error': {
      const err = ringError(id);
      if (err !== null) throw err;
      return null;
    }
  }
}
