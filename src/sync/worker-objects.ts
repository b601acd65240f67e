/**
 * The worker's objects (connections, responses, legacy `HTTP` objects, SSL contexts) in a
 * table by id, and what the commands do with them: make them, call their methods, read
 * responses into shared memory, and report the state the caller mirrors. Only the
 * package's public entry is used (src/index.ts).
 */
import * as httplib from '../index.ts';
import { type Decoder, type Encoder, type Json, ownFields, setFields } from './wire.ts';

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

/** Where reads land (the shared body area), and where debug output goes. */
export function setupObjects(area: Buffer, onDebug: (id: number, text: string) => void): void {
  bodyArea = area;
  debug = onDebug;
}

/** Calls `method` of object `id` with `args`; its value, awaited. */
export async function callMethod(id: number, method: string, args: unknown[]): Promise<unknown> {
  const target = objects.get(id) as Record<string, unknown> | undefined;
  if (target === undefined)
    throw new Error('httplib-ts/sync: this object no longer exists in the worker');
  const fn = target[method];
  if (typeof fn !== 'function') throw new TypeError(`httplib-ts/sync: no method ${method}`);
  return await (fn as (...a: unknown[]) => unknown).apply(target, args);
}

export function applyQueued(item: QueuedItem, decoder: Decoder): void {
  if (item.c === 'free') {
    for (const id of item.a as number[]) {
      objects.delete(id);
      ownerOf.delete(id);
      openResponses.delete(id);
    }
  } else if (item.c === 'set') {
    const target = objects.get(item.id as number) as Record<string, unknown> | undefined;
    if (target === undefined) return;
    for (const [name, value] of item.a as Array<[string, Json]>) {
      if (name === 'debuglevel')
        (target as unknown as Connection).set_debuglevel(decoder.value(value) as number);
      else target[name] = decoder.value(value);
    }
  } else if (item.c === 'ctx') {
    restoreContext(item.id as number, item.a as Array<[string, Json]>, decoder);
  }
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
  if (value instanceof httplib.HTTPResponse) return { $resp: describe(value, ownerId) };
  if (Array.isArray(value)) return { $a: value.map((v) => result(v, ownerId, encoder)) };
  return encoder.value(value);
}

/** A new response: everything about it that never changes, and its state. */
function describe(r: Response, ownerId: number): Json {
  const known = idOf.get(r);
  const id = register(r);
  const connId = ownerOf.get(ownerId) ?? ownerId;
  if (known === undefined) {
    ownerOf.set(id, connId);
    if (!r.isclosed()) openResponses.get(connId)?.add(id);
  }
  return {
    id,
    status: r.status,
    reason: r.reason,
    version: r.version,
    lines: [...r.msg.headers],
    chunked: r.chunked,
    will_close: r.will_close,
    debuglevel: r.debuglevel,
    strict: r.strict,
    ...responseState(r),
  } as Json;
}

function responseState(r: Response): { length: number | null; isclosed: boolean; closed: boolean } {
  return { length: r.length, isclosed: r.isclosed(), closed: r.closed };
}

/**
 * What changed that the caller mirrors, after a command on object `id`: the state of its
 * connection (socket, host, port), of that connection's open responses, and, for the
 * legacy classes, their `file` and `headers`.
 */
export function stateOf(id: number): Json {
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
    if (s.isclosed) open?.delete(rid);
  };
  if (target instanceof httplib.HTTPResponse) report(id);
  for (const rid of open ?? []) report(rid);
  out.rs = rs;
  if (target instanceof httplib.HTTP) {
    const file = target.file;
    out.file = file === null ? null : { $resp: describe(file, id) };
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
  'check_hostname',
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
  return ownFields(context, encoder);
}

function connectionState(conn: Connection): Json {
  const sock = conn.sock as import('node:net').Socket | null;
  return {
    host: conn.host,
    port: conn.port,
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
}

export async function readValue(
  id: number,
  kind: string,
  n: number | null | undefined,
  encoder: Encoder,
): Promise<Json> {
  const r = objects.get(id) as Response | undefined;
  if (r === undefined)
    throw new Error('httplib-ts/sync: this response no longer exists in the worker');
  switch (kind) {
    case 'read': {
      // A known length: straight from the socket into shared memory (readinto fills its
      // target unless the body ends, exactly as read(amt) returns, and fails the same way).
      const length = r.length;
      const all = n === undefined || n === null || n < 0;
      if (
        length !== null &&
        length > 0 &&
        (all || (Number.isSafeInteger(n) && (n as number) > 0))
      ) {
        const want = all ? length : Math.min(n as number, length);
        return into(r, want, encoder);
      }
      return encoder.value(await r.read(n));
    }
    case 'readinto':
      return into(r, n as number, encoder);
    case 'read1':
      return encoder.value(await r.read1(n ?? undefined));
    case 'peek':
      return encoder.value(await r.peek(n ?? undefined));
    case 'readline':
      return encoder.value(await r.readline(n ?? undefined));
    case 'text':
      return encoder.value(await r.text((n as unknown as BufferEncoding | null) ?? undefined));
    case 'json':
      return encoder.value(await r.json());
    default:
      throw new Error(`httplib-ts/sync worker: unknown read ${kind}`);
  }
}

/** `readinto` of `size` bytes into the body area, or a SharedArrayBuffer of its own. */
async function into(r: Response, size: number, encoder: Encoder): Promise<Json> {
  if (size <= bodyArea.length) {
    const got = await r.readinto(bodyArea.subarray(0, size));
    return { $into: got };
  }
  const sab = new SharedArrayBuffer(size);
  const got = await r.readinto(new Uint8Array(sab));
  encoder.ported.push(sab);
  return { $into: got, p: encoder.ported.length - 1 };
}

// ---------------------------------------------------------------------------------------
// SSL contexts: the caller's fields, on a worker-side context kept per caller context (so
// that its TLS sessions are kept too).

export function restoreContext(id: number, fields: Array<[string, Json]>, decoder: Decoder): void {
  let context = contexts.get(id);
  if (context === undefined) {
    const protocol = fields.find(([k]) => k === 'protocol')?.[1];
    context = new httplib.ssl.SSLContext(decoder.value(protocol ?? null) as number | undefined);
    contexts.set(id, context);
  }
  setFields(context, fields, decoder);
}
