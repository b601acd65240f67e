/**
 * The worker's objects (connections, responses, legacy `HTTP` objects, SSL contexts) in a
 * table by id, and what the commands do with them: make them, call their methods, read
 * responses into shared memory, and report the state the caller mirrors. Only the
 * package's public entry is used (src/index.ts).
 */

import { type ContextFields, contextFields, setContextFields } from '../client/tls-verify.ts';
import * as httplib from '../index.ts';
import { type Decoder, type Encoder, type Json, ownFields, setFields } from './wire.ts';
import type { Ask } from './worker-bodies.ts';
import { ringClose } from './worker-ring.ts';

type Connection = httplib.HTTPConnection;
type Response = httplib.HTTPResponse;
type Legacy = httplib.HTTP;

/** An item sent ahead of a command: attributes to set, objects to forget, an SSL context. */
export interface QueuedItem {
  readonly c: string;
  readonly id?: number;
  readonly a?: Json[];
}

const objects = new Map<number, object>();
const idOf = new WeakMap<object, number>();
let nextId = 1;
/** Response id → the id of the connection that made it. */
const ownerOf = new Map<number, number>();
/** Connection id → ids of its responses not yet closed. */
const openResponses = new Map<number, Set<number>>();
/** Worker-side copies of the caller's SSL contexts, by the caller's id for them. */
const contexts = new Map<number, httplib.ssl.SSLContext>();
let bodyArea: Buffer = Buffer.alloc(0);
let debug: (id: number, text: string) => void = () => {};
let ask: Ask = () => ({ value: new Error('httplib-ts/sync: no caller to ask'), error: true });

/** Where reads land (the shared body area), where debug output goes, how to ask the caller. */
export function setupObjects(
  area: Buffer,
  onDebug: (id: number, text: string) => void,
  asker: Ask,
): void {
  bodyArea = area;
  debug = onDebug;
  ask = asker;
}

/** Calls `method` of object `id` with `args`; its value, awaited. */
export async function callMethod(id: number, method: string, args: unknown[]): Promise<unknown> {
  const target = objects.get(id) as Record<string, unknown> | undefined;
  // A response read to its end and forgotten since (see `finished`): its socket is no
  // longer its own.
  if (target === undefined && method === 'fileno')
    throw new TypeError('fileno of a closed response');
  if (target === undefined)
    throw new Error('httplib-ts/sync: this object no longer exists in the worker');
  // The connect() of a connection whose twin has its own is the caller's (`callersConnect`,
  // run by a call's open): the caller calling it (its super.connect()) opens the socket.
  const fn =
    method === 'connect' && Object.hasOwn(target, 'connect')
      ? httplib.HTTPConnection.prototype.connect
      : target[method];
  if (typeof fn !== 'function') throw new TypeError(`httplib-ts/sync: no method ${method}`);
  return await (fn as (...a: unknown[]) => unknown).apply(target, args);
}

export function applyQueued(item: QueuedItem, decoder: Decoder): void {
  if (item.c === 'free') {
    for (const id of item.a as number[]) {
      if (objects.get(id) instanceof httplib.HTTPConnection) {
        // Its socket is closed, as Python's is when the connection is collected; while a
        // response of it is still open (its twin alive), once that response is over (a
        // Python response holds the socket as long).
        if ((openResponses.get(id)?.size ?? 0) === 0) forgetConnection(id);
        else orphans.add(id);
        continue;
      }
      // A response freed before it ended (its twin is gone, or never was made): its
      // connection forgets it too.
      const owner = ownerOf.get(id);
      objects.delete(id);
      ownerOf.delete(id);
      if (owner !== undefined) {
        if (finishedOf.get(owner) === id) finishedOf.delete(owner);
        if (openResponses.get(owner)?.delete(id) === true) openEnded(owner);
      }
    }
  } else if (item.c === 'set') {
    const target = objects.get(item.id as number) as Record<string, unknown> | undefined;
    if (target === undefined) return;
    // Attributes as the caller set them, unchecked, as the main entry's are (its
    // `debuglevel = '0'` is compared, not refused: set_debuglevel() is what checks).
    for (const [name, value] of item.a as Array<[string, Json]>)
      target[name] = decoder.value(value);
  } else if (item.c === 'own') {
    const id = item.id as number;
    const conn = objects.get(id);
    if (!(conn instanceof httplib.HTTPConnection)) return;
    // The main entry runs a connection's own connect() when a call opens a socket.
    if ((item.a as Json[])[0] === true) conn.connect = () => callersConnect(id, conn);
    else Reflect.deleteProperty(conn, 'connect');
  } else if (item.c === 'rfree') {
    ringClose(item.id as number);
  } else if (item.c === 'ctx') {
    restoreContext(item.id as number, item.a as Array<[string, Json]>, decoder);
  }
}

/**
 * The `connect()` of connection `id` whose twin has one of the caller's (a subclass's):
 * the main entry runs it when a call opens a socket, as Python's `send()` runs
 * `self.connect()`. The caller's thread, blocked in that call, runs the caller's; each
 * time its `super.connect()` asks, the main entry's connect() opens the socket the call
 * waits for (a second one joins it), and the caller is told how that went. What the
 * caller's throws is the call's.
 */
async function callersConnect(id: number, conn: Connection): Promise<void> {
  let answer = ask({ cn: id });
  while (!answer.error && answer.value === 'open') {
    let failure: { error: unknown } | null = null;
    try {
      await httplib.HTTPConnection.prototype.connect.call(conn);
    } catch (error) {
      failure = { error };
    }
    answer = ask((encoder) => {
      const report: Record<string, Json> = { co: id, st: stateOf(id, encoder) };
      if (failure !== null) report.e = encoder.value(failure.error);
      return report;
    });
  }
  if (answer.error) throw answer.value;
}

/** Connections whose twin is gone, kept until their open responses are over. */
const orphans = new Set<number>();

/** A response of connection `connId` is no longer open: an orphan is forgotten with its last. */
function openEnded(connId: number): void {
  if (orphans.has(connId) && openResponses.get(connId)?.size === 0) forgetConnection(connId);
}

/**
 * Closes connection `connId` (its twin is gone) and forgets it, with its last response that
 * ended: that twin answers for itself once ended and frees nothing (remote.ts), and no
 * later response of the connection will forget it.
 */
function forgetConnection(connId: number): void {
  const conn = objects.get(connId) as Connection | undefined;
  try {
    conn?.close();
  } catch {
    // (close() has nothing to throw here; a socket that failed is gone anyway.)
  }
  const last = finishedOf.get(connId);
  if (last !== undefined) {
    objects.delete(last);
    ownerOf.delete(last);
  }
  objects.delete(connId);
  ownerOf.delete(connId);
  openResponses.delete(connId);
  finishedOf.delete(connId);
  orphans.delete(connId);
}

function register(obj: object): number {
  const known = idOf.get(obj);
  if (known !== undefined) return known;
  const id = nextId++;
  objects.set(id, obj);
  idOf.set(obj, id);
  return id;
}

/** Debug output of connection `id`, forwarded to the caller, which writes it. */
function forwarder(id: number): (text: string) => void {
  return (text) => debug(id, text);
}

export function construct(
  cls: string,
  args: unknown[],
  ctx: number | undefined,
  encoder: Encoder,
): Json {
  switch (cls) {
    case 'HTTPConnection':
    case 'HTTPSConnection': {
      const id = nextId++;
      const options: Record<string, unknown> = { ...((args[2] as object | undefined) ?? {}) };
      options.debugOutput = forwarder(id);
      if (ctx !== undefined && contexts.has(ctx)) options.context = contexts.get(ctx);
      const Class = cls === 'HTTPConnection' ? httplib.HTTPConnection : httplib.HTTPSConnection;
      const conn = new Class(args[0] as string, args[1] as number | null | undefined, options);
      objects.set(id, conn);
      idOf.set(conn, id);
      openResponses.set(id, new Set());
      return {
        v: id,
        st: connectionState(conn),
        at: attributes(conn, encoder),
        ctx: contextOf(conn, ctx, encoder),
      };
    }
    case 'HTTP':
    case 'HTTPS': {
      let h: Legacy;
      if (cls === 'HTTP') {
        h = new httplib.HTTP(
          args[0] as string | undefined,
          args[1] as number | null | undefined,
          args[2] as boolean | null | undefined,
        );
      } else {
        const options = { ...((args[2] as httplib.HTTPSOptions | undefined) ?? {}) };
        if (ctx !== undefined) options.context = contexts.get(ctx) ?? null;
        h = new httplib.HTTPS(
          args[0] as string | undefined,
          args[1] as number | null | undefined,
          options,
        );
      }
      const id = register(h);
      const connId = register(h._conn);
      h._conn.debugOutput = forwarder(connId);
      openResponses.set(connId, new Set());
      ownerOf.set(id, connId);
      return {
        v: id,
        conn: connId,
        st: connectionState(h._conn),
        at: attributes(h._conn, encoder),
        ctx: contextOf(h._conn, ctx, encoder),
      };
    }
    default:
      throw new Error(`httplib-ts/sync worker: cannot construct ${cls}`);
  }
}

/** A call's value: a response is registered and described; anything else is encoded. */
export function result(value: unknown, ownerId: number, encoder: Encoder): Json {
  if (value instanceof httplib.HTTPResponse) return { $resp: describe(value, ownerId, encoder) };
  if (Array.isArray(value)) return { $a: value.map((v) => result(v, ownerId, encoder)) };
  return encoder.value(value);
}

/**
 * A new response: everything about it that never changes, and its state. `debuglevel`
 * and `strict` are the connection's, which Python takes of any type: encoded.
 */
function describe(r: Response, ownerId: number, encoder: Encoder): Json {
  const known = idOf.get(r);
  const id = register(r);
  const connId = ownerOf.get(ownerId) ?? ownerId;
  if (known === undefined) {
    ownerOf.set(id, connId);
    if (!r.isclosed()) openResponses.get(connId)?.add(id);
    else finished(connId, id);
  }
  return {
    id,
    status: r.status,
    reason: r.reason,
    version: r.version,
    lines: [...r.msg.headers],
    chunked: r.chunked,
    will_close: r.will_close,
    debuglevel: encoder.value(r.debuglevel),
    strict: encoder.value(r.strict),
    ...responseState(r),
  } as Json;
}

/**
 * Response `id` of connection `connId` is read to its end. Its object is kept until the
 * connection's next response ends (or the connection is freed), then forgotten: the
 * caller's twin answers every call of an ended response itself and never frees it (it
 * left remote.ts's table when it ended), and a finished response may hold a large block
 * of the socket's reads, which must not pile up.
 */
function finished(connId: number, id: number): void {
  const previous = finishedOf.get(connId);
  if (previous !== undefined && previous !== id) {
    objects.delete(previous);
    ownerOf.delete(previous);
  }
  finishedOf.set(connId, id);
}
const finishedOf = new Map<number, number>();

function responseState(r: Response): { length: number | null; isclosed: boolean; closed: boolean } {
  return { length: r.length, isclosed: r.isclosed(), closed: r.closed };
}

/**
 * What changed that the caller mirrors, after a command on object `id`: the state of its
 * connection (socket, host, port), of that connection's open responses, and, for the
 * legacy classes, their `file` and `headers`.
 */
export function stateOf(id: number, encoder: Encoder): Json {
  const target = objects.get(id);
  const connId = target instanceof httplib.HTTPConnection ? id : (ownerOf.get(id) ?? id);
  const conn = objects.get(connId) as Connection | undefined;
  const out: Record<string, Json> = {};
  if (conn !== undefined) out.conn = [connId, connectionState(conn)];
  const rs: Json[] = [];
  const open = openResponses.get(connId);
  const seen = new Set<number>();
  const report = (rid: number): void => {
    const r = objects.get(rid) as Response | undefined;
    if (r === undefined || seen.has(rid)) return;
    seen.add(rid);
    const s = responseState(r);
    rs.push([rid, s.length, s.isclosed, s.closed]);
    if (s.isclosed && open?.delete(rid) === true) {
      finished(connId, rid);
      openEnded(connId);
    }
  };
  if (target instanceof httplib.HTTPResponse) report(id);
  for (const rid of open ?? []) report(rid);
  out.rs = rs;
  if (target instanceof httplib.HTTP) {
    const file = target.file;
    out.file = file === null ? null : { $resp: describe(file, id, encoder) };
    out.headers = target.headers === null ? null : [...target.headers.headers];
  }
  return out;
}

/** Every attribute the caller's twin mirrors, as the constructor left them. */
function attributes(conn: Connection, encoder: Encoder): Json {
  const out: Json[] = [];
  for (const name of MIRRORED) {
    if (name in conn)
      out.push([name, encoder.value((conn as unknown as Record<string, unknown>)[name])]);
  }
  return out;
}

const MIRRORED = [
  'host',
  'port',
  'timeout',
  'source_address',
  'strict',
  'blocksize',
  'debuglevel',
  'auto_open',
  '_http_vsn',
  'key_file',
  'cert_file',
];

/**
 * The fields of an HTTPS connection's context after its constructor ran (which may load
 * a certificate chain into it), for the caller's context; the context is kept under the
 * caller's id for it.
 */
function contextOf(conn: Connection, ctx: number | undefined, encoder: Encoder): Json {
  const context = (conn as Partial<httplib.HTTPSConnection>)._context;
  if (context === undefined || ctx === undefined) return null;
  contexts.set(ctx, context);
  return ownFields(contextFields(context), encoder);
}

/**
 * A connection's socket, host and port. A host or port JSON has no form for (a BigInt the
 * caller set, which its twin has) is left out: the twin keeps its own.
 */
function connectionState(conn: Connection): Json {
  const sock = conn.sock as import('node:net').Socket | null;
  const out: Record<string, Json> = {
    sock:
      sock === null
        ? null
        : [
            sock.localAddress ?? null,
            sock.localPort ?? null,
            sock.remoteAddress ?? null,
            sock.remotePort ?? null,
          ],
  };
  for (const name of ['host', 'port'] as const) {
    const value: unknown = conn[name];
    if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)))
      out[name] = value;
  }
  return out;
}

/**
 * A read of response `id`: the main entry's own read (`readinto(b)` is `read(b.length)`:
 * both fill up to their size unless the body ends, and fail alike), its bytes placed in
 * shared memory for the caller to copy out (`align`: where the caller's copy lands, mod 8).
 */
export async function readValue(
  id: number,
  kind: string,
  n: number | null | undefined,
  align: number,
  encoder: Encoder,
): Promise<Json> {
  const r = objects.get(id) as Response | undefined;
  if (r === undefined)
    throw new Error('httplib-ts/sync: this response no longer exists in the worker');
  switch (kind) {
    case 'read':
    case 'readinto': {
      // What read(n) would return, when its size is known: read into memory of this
      // thread's own, reused (no allocation per read, and the socket's bytes are copied
      // at the speed of ordinary memory; into shared memory they would not be).
      const length = r.length;
      const all = n === undefined || n === null || n < 0;
      const want =
        length === null || !(all || Number.isSafeInteger(n))
          ? 0
          : all
            ? length
            : Math.min(n as number, length);
      if (want > 0 && want <= INTO_MAX) {
        if (landing.length < want)
          landing = Buffer.allocUnsafeSlow(Math.max(want, 2 * landing.length));
        const got = await r.readinto(landing.subarray(0, want));
        return place(landing.subarray(0, got), align, encoder);
      }
      return place(await r.read(n), align, encoder);
    }
    case 'read1':
      return place(await r.read1(n ?? undefined), align, encoder);
    case 'peek':
      return place(await r.peek(n ?? undefined), align, encoder);
    case 'readline':
      return place(await r.readline(n ?? undefined), align, encoder);
    case 'text':
      return encoder.value(await r.text((n as unknown as BufferEncoding | null) ?? undefined));
    case 'json':
      return encoder.value(await r.json());
    default:
      throw new Error(`httplib-ts/sync worker: unknown read ${kind}`);
  }
}

/**
 * Bytes for the caller: in the shared body area, or in a SharedArrayBuffer of their own
 * when larger, at an offset ≡ `align` (mod 8). V8 copies to and from shared memory word by
 * word only when both sides have the same alignment (else byte by byte, ten times
 * slower), so the bytes go where both copies, this one and the caller's, are aligned; a
 * source of another alignment goes through a scratch buffer first (a copy between
 * ordinary buffers is fast at any alignment).
 */
function place(bytes: Buffer, align: number, encoder: Encoder): Json {
  const n = bytes.length;
  if (n === 0) return { $bytes: 0, o: 0 };
  let target = bodyArea;
  let ported: number | undefined;
  if (n + 8 > bodyArea.length) {
    const sab = new SharedArrayBuffer(n + 8);
    target = Buffer.from(sab);
    encoder.ported.push(sab);
    ported = encoder.ported.length - 1;
  }
  let source = bytes;
  if (n >= ALIGN_MIN && bytes.byteOffset % 8 !== align) {
    if (scratch.length < n + 8)
      scratch = Buffer.allocUnsafeSlow(Math.max(n + 8, 2 * scratch.length));
    scratch.set(bytes, align);
    source = scratch.subarray(align, align + n);
  }
  target.set(source, align);
  return ported === undefined ? { $bytes: n, o: align } : { $bytes: n, o: align, p: ported };
}

/** Below this, a copy byte by byte costs less than a second copy. */
const ALIGN_MIN = 4096;
let scratch = Buffer.alloc(0);
/** Where reads of a known size land first; reads larger than INTO_MAX are not kept for. */
let landing = Buffer.alloc(0);
const INTO_MAX = 8 * 1024 * 1024;

// ---------------------------------------------------------------------------------------
// SSL contexts: the caller's fields, on a worker-side context kept per caller context (so
// that its TLS sessions are kept too).

export function restoreContext(id: number, fields: Array<[string, Json]>, decoder: Decoder): void {
  let context = contexts.get(id);
  if (context === undefined) {
    const protocol = fields.find(([k]) => k === 'protocol')?.[1];
    context = new httplib.ssl.SSLContext(
      decoder.value(protocol ?? null) as httplib.ssl.SSLMethod | undefined,
    );
    contexts.set(id, context);
  }
  const data: ContextFields = {};
  setFields(data, fields, decoder);
  setContextFields(context, data);
}
