/**
 * Sending on a direct connection (direct.ts): client/request-output.ts's `writeOutgoing`
 * for bodies in memory, written by this thread on the socket's descriptor (ring.ts); and
 * bodies only an event loop can read (files, streams, Blobs, iterables), described for the
 * worker (bodies.ts), which makes them as the main entry does (`prep`: their label and
 * length come back, for the head) and writes them after the head (`body`).
 */
import { Blob } from 'node:buffer';
import { Readable } from 'node:stream';
import { isAnyArrayBuffer } from 'node:util/types';
import { checkAttached, headWithBody, type Outgoing } from '../client/request-output.ts';
import { isFileHandle, type PreparedBody, prepareBody } from '../io/body-source.ts';
import { pyrepr } from '../protocol/pytext.ts';
import {
  type BodyInfo,
  CHUNK_TRAILER,
  chunkHeader,
  LAST_CHUNK,
} from '../protocol/request-writer.ts';
import { encodeBody } from './bodies.ts';
import { type CallScope, transact } from './channel.ts';
import { settle } from './remote.ts';
import type { Ring, RingPeer } from './ring.ts';
import { Encoder, type Json } from './wire.ts';

/** Where a call's bytes go, and its debug output. */
export interface Sink {
  readonly ring: Ring;
  readonly peer: RingPeer;
  readonly timeoutMs: number | null;
  readonly debug: ((text: string) => void) | null;
}

/** A body the worker reads and writes on the socket (bodies.ts describes it). */
export interface RemoteBody {
  readonly remote: true;
  readonly json: Json;
  readonly encoder: Encoder;
  readonly scope: CallScope;
  readonly done: (() => void) | null;
}
export type Body = PreparedBody | RemoteBody;

export function isRemote(body: Body): body is RemoteBody {
  return (body as Partial<RemoteBody>).remote === true;
}

/** What a call sends; `plan` makes the head once a remote body's length is known. */
export interface Out {
  readonly head: string | null;
  readonly body: Body | null;
  readonly chunked: boolean;
  /** The caller's `Content-Length` a body of unknown length must match (`Outgoing.length`). */
  readonly length?: number | null;
  readonly plan: ((prepared: PreparedBody) => Outgoing) | null;
}

/**
 * A body as the main entry prepares it when it is in memory; a file, a stream, a Blob or
 * an iterable is described for the worker (bodies.ts; an async one is refused here).
 * Either way before anything moves: what cannot be sent is refused now.
 */
export function prepareHere(body: unknown, blocksize: number, exact: boolean): Body {
  if (
    (typeof body === 'number' && Number.isSafeInteger(body) && body >= 0) ||
    (typeof body === 'object' &&
      body !== null &&
      !ArrayBuffer.isView(body) &&
      !isAnyArrayBuffer(body) &&
      (body instanceof Blob ||
        body instanceof Readable ||
        isFileHandle(body) ||
        Symbol.iterator in body ||
        Symbol.asyncIterator in body))
  ) {
    const encoder = new Encoder();
    const scope: CallScope = { iterators: new Map(), thrown: new Map() };
    const encoded = encodeBody(body, encoder, scope);
    return { remote: true, json: encoded.json, encoder, scope, done: encoded.done };
  }
  return prepareBody(body, blocksize, exact) as PreparedBody;
}

/** client/request-output.ts's `writeOutgoing`, for in-memory bodies, written here. */
export function writeHere(sink: Sink, out: Outgoing): void {
  const debug = sink.debug;
  const { head, body, chunked } = out;
  // The caller's memory may have been taken away since request(), or by the debug
  // output (the caller's code) before a write: refused, as the main entry's.
  if (body !== null) checkAttached(body);
  if (head !== null && body !== null && body.bytes !== null && !chunked) {
    const bytes = body.bytes;
    if (debug !== null) {
      debug(`send: ${pyrepr(head + bytes.toString('latin1'))}\n`);
      checkAttached(body);
    }
    const both = headWithBody(head, bytes);
    if (both !== null) put(sink, both);
    else {
      put(sink, Buffer.from(head, 'latin1'));
      put(sink, bytes);
    }
    return;
  }
  if (head !== null) {
    if (debug !== null) debug(`send: ${pyrepr(head)}\n`);
    put(sink, Buffer.from(head, 'latin1'));
  }
  if (body === null) return;
  const bytes = body.bytes as Buffer;
  if (debug !== null) {
    if (!chunked) debug(`send: ${pyrepr(bytes.toString('latin1'))}\n`);
    else {
      debug(`send: ${body.label}\n`);
      debug('sendIng a read()able\n');
    }
    checkAttached(body);
  }
  if (body.info.kind === 'none') return;
  if (!chunked) {
    if (bytes.length > 0) put(sink, bytes);
    return;
  }
  if (bytes.length > 0) {
    put(sink, Buffer.from(chunkHeader(bytes.length), 'latin1'));
    put(sink, bytes);
    put(sink, Buffer.from(CHUNK_TRAILER + LAST_CHUNK, 'latin1'));
  } else {
    put(sink, Buffer.from(LAST_CHUNK, 'latin1'));
  }
}

/** A body the worker reads: made there (its label and length come back). */
export function prepareRemote(
  ring: Ring,
  body: RemoteBody,
  blocksize: number,
  exact: boolean,
): PreparedBody {
  const reply = transact(
    {
      c: 'ring',
      op: 'prep',
      id: ring.id,
      a: body.encoder.values([blocksize, exact]),
      b: body.json,
    },
    body.encoder,
    null,
  );
  const [label, kind, length] = settle(reply) as [string, BodyInfo['kind'], number | null];
  const info = (kind === 'length' ? { kind, length } : { kind }) as BodyInfo;
  return {
    info,
    bytes: null,
    fresh: true,
    label,
    chunks: () => {
      throw new Error('httplib-ts/sync: the worker reads this body');
    },
    release: () => {},
  };
}

/**
 * A body the worker made (`prepareRemote`) will not be sent (its head was refused): the
 * worker lets it go now (its file closed), not at the ring's next body or close.
 */
export function dropRemote(ring: Ring, body: RemoteBody): void {
  const encoder = new Encoder();
  settle(transact({ c: 'ring', op: 'drop', id: ring.id, a: [] }, encoder, body.scope));
  body.done?.();
}

/** The head (written here), then the body, written by the worker (as writeOutgoing does). */
export function writeRemote(
  sink: Sink,
  head: string | null,
  prepared: PreparedBody,
  body: RemoteBody,
  chunked: boolean,
  length: number | null,
): void {
  const debug = sink.debug;
  if (head !== null) {
    if (debug !== null) debug(`send: ${pyrepr(head)}\n`);
    put(sink, Buffer.from(head, 'latin1'));
  }
  if (debug !== null) {
    debug(`send: ${prepared.label}\n`);
    debug('sendIng a read()able\n');
  }
  const encoder = new Encoder();
  const { timeoutMs, peer } = sink;
  settle(
    transact(
      {
        c: 'ring',
        op: 'body',
        id: sink.ring.id,
        a: encoder.values([chunked, timeoutMs, peer.seconds, peer.host, peer.port, length]),
      },
      encoder,
      body.scope,
    ),
  );
  body.done?.();
}

function put(sink: Sink, bytes: Buffer): void {
  sink.ring.write(bytes, sink.peer, sink.timeoutMs);
}
