/**
 * Asking whether a socket's peer is still there without reading from it and without
 * putting anything on the wire: byte-reader.ts asks while a request body is sent on a
 * socket it paused (a paused socket is not polled, so a reset would go unseen).
 *
 * - Plain TCP (a `net.Socket` that is not TLS): an empty write. On a live connection the
 *   kernel sends nothing; on a reset one the write fails with the reset's error
 *   (`ECONNRESET`, or `EPIPE` once that was reported), which the socket emits as its
 *   'error': the reader hears it on its usual error path.
 * - TLS: Node's TLS layer passes an empty write down to the TCP socket but drops its
 *   failure (Node 20: the kernel answered ECONNRESET, strace shows it, and the write
 *   completed with status 0), so it would tell nothing. Instead the TCP socket is asked
 *   for its peer's address (the TLS handle passes `getpeername` to the TCP one, a Node
 *   internal, used only when it is there): it fails with ENOTCONN once the connection is
 *   gone (a reset, or the connection failed). The socket's own error cannot be read
 *   that way: the reader reports the one a write on it then gets (`EPIPE`).
 * - Anything else (a stream from a `createConnection` hook that is not a `net.Socket`,
 *   TLS over one): not asked. An empty write might mean something to such a stream.
 *
 * Also here: how much a socket still has queued for the kernel (`queuedBytes`), which the
 * send timeout watches (deadline.ts): the same Node internals, asked the same way.
 */
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { getSystemErrorName } from 'node:util';

const EMPTY = Buffer.alloc(0);

/** The part of a TLS socket's handle used here (Node internals; absent elsewhere). */
interface HandleInternals {
  _handle?: { getpeername?: (out: object) => unknown } | null;
}

/**
 * Ask `socket` whether its peer is still there. Plain TCP: its failure comes as the
 * socket's 'error' (false is returned). TLS: true when the connection is known gone.
 */
export function probePeer(socket: Duplex): boolean {
  if (!(socket instanceof net.Socket) || socket.destroyed || socket.connecting) return false;
  if ((socket as { encrypted?: unknown }).encrypted !== true) {
    // A write under way has the kernel poll the socket already (its failure comes
    // anyway); a corked socket would only queue it; after our end() nothing may be written.
    if (socket.writableLength === 0 && socket.writableCorked === 0 && socket.writable) {
      socket.write(EMPTY);
    }
    return false;
  }
  const handle = (socket as unknown as HandleInternals)._handle;
  if (typeof handle?.getpeername !== 'function') return false;
  const code = handle.getpeername({});
  if (typeof code !== 'number' || code >= 0) return false;
  try {
    return getSystemErrorName(code) === 'ENOTCONN';
  } catch {
    return false;
  }
}

/** A libuv stream handle as Node's internals show it: its bytes queued for the kernel. */
interface QueueHandle {
  readonly writeQueueSize?: unknown;
  readonly bytesRead?: unknown;
  readonly _parent?: QueueHandle;
}

/**
 * The bytes `socket` still has queued for the kernel, as libuv counts them on its TCP
 * handle (Node's internal `writeQueueSize`, which goes down as a large write goes out,
 * where the stream's own `writableLength` stays whole until the write is done); null
 * where no such handle shows (Bun, a hook's own stream). Deno's handles report 0 always:
 * no progress is seen there, and a send is bounded as a whole, as before. Under TLS the
 * TCP handle is the TLS handle's `_parent`, or the handle of the socket TLS was started over.
 */
export function queuedBytes(socket: Duplex): number | null {
  const s = socket as Duplex & {
    _handle?: QueueHandle | null;
    _parent?: { _handle?: QueueHandle };
  };
  for (const handle of [s._handle?._parent, s._parent?._handle, s._handle]) {
    const size = handle?.writeQueueSize;
    if (typeof size === 'number') return size;
  }
  return null;
}

/**
 * The bytes a TLS socket's TCP handle has received (ciphertext, Node's internal
 * `bytesRead` of the handle under the TLS one, or of the socket TLS was started over),
 * which grow while a TLS record arrives in pieces, where the TLS socket's own count grows
 * only once a record is whole; null where no such handle shows (Bun, Deno, a hook's
 * stream).
 */
export function receivedBytes(socket: Duplex): number | null {
  const s = socket as Duplex & {
    _handle?: QueueHandle | null;
    _parent?: { _handle?: QueueHandle };
  };
  for (const handle of [s._handle?._parent, s._parent?._handle]) {
    const n = handle?.bytesRead;
    if (typeof n === 'number') return n;
  }
  return null;
}
