/**
 * The worker thread of `httplib-ts/sync`: it runs the package's async client (through its
 * public entry, src/index.ts, and nothing else) for the threads that block on it.
 *
 * It holds the real connections and responses in a table by id, takes one command at a
 * time from the control block (channel.ts writes them), runs it on the async client and
 * writes the result, or the exception, back, with the debug output and the warnings the
 * command produced. A command never overlaps another: the caller is blocked until the
 * reply. While it runs, a heartbeat counter moves, so that the caller can tell a worker
 * that stopped (crashed, killed, stuck) from one that waits for the network.
 *
 * Bodies the caller gave are rebuilt here as the same kind of body (bodies.ts says how);
 * response bytes go back through shared memory: a read whose length is known goes
 * straight from the socket into the shared body area (or a SharedArrayBuffer of its own
 * when it is larger), so the caller makes the only copy.
 */
import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import * as httplib from '../index.ts';
import {
  BEAT,
  Decoder,
  Encoder,
  EXITED,
  FAILED,
  type Json,
  LEN_TO_MAIN,
  LEN_TO_WORKER,
  ownFields,
  type Parcel,
  READY,
  readParcel,
  STATE,
  setFields,
  TO_MAIN,
  TO_WORKER,
  writeParcel,
} from './wire.ts';
import { bodyTags } from './worker-bodies.ts';

/** What channel.ts hands the worker (its `workerData`). */
export interface WorkerSetup {
  readonly ctrl: SharedArrayBuffer;
  readonly toWorker: SharedArrayBuffer;
  readonly toMain: SharedArrayBuffer;
  readonly body: SharedArrayBuffer;
  /** SharedArrayBuffers and Blobs, in the order the messages name them. */
  readonly port: MessagePort;
  /** Has a listener: keeps this thread's event loop alive while it waits for commands. */
  readonly keepalive: MessagePort;
  /** Milliseconds between heartbeats while a command runs. */
  readonly beatMs: number;
}

type Connection = httplib.HTTPConnection;
type Response = httplib.HTTPResponse;
type Legacy = httplib.HTTP;

/** A command (channel.ts builds them). */
interface Command {
  /** Fire-and-forget items that went before it: attribute changes, freed ids. */
  readonly q?: Json[];
  readonly c: string;
  readonly id?: number;
  readonly m?: string;
  readonly a?: Json[];
  readonly k?: string;
  readonly n?: Json;
  readonly cls?: string;
  readonly h?: string;
  /** How many values the port carries for this message. */
  readonly pc?: number;
}

let ctrl: Int32Array;
let toWorker: Buffer;
let toMain: Buffer;
let bodyArea: Buffer;
let port: MessagePort;

const objects = new Map<number, object>();
const idOf = new WeakMap<object, number>();
let nextId = 1;
/** Response id → the id of the connection that made it. */
const ownerOf = new Map<number, number>();
/** Connection id → ids of its responses not yet closed. */
const openResponses = new Map<number, Set<number>>();
/** Worker-side copies of the caller's SSL contexts, by the caller's id for them. */
const contexts = new Map<number, httplib.ssl.SSLContext>();

/** Debug text of the running command, `[connection id, text]`, in order. */
let output: Json[] = [];
/** Warnings emitted while the command ran (`process.emitWarning` arguments). */
let warnings: Json[] = [];
/** Errors the caller gave (from its iterables), by copy, to be sent back as the same object. */
const refs = new WeakMap<object, number>();
const BODY_TAGS = bodyTags(ask);
let busy = false;
let heartbeat: NodeJS.Timeout | null = null;

/** Starts serving commands. Called by the bootstrap (channel.ts) once this module loaded. */
export function start(setup: WorkerSetup): void {
  ctrl = new Int32Array(setup.ctrl);
  toWorker = Buffer.from(setup.toWorker);
  toMain = Buffer.from(setup.toMain);
  bodyArea = Buffer.from(setup.body);
  port = setup.port;
  setup.keepalive.on('message', () => {});
  captureWarnings();
  process.on('uncaughtException', (err) => fail(err));
  process.on('exit', () => {
    if (Atomics.load(ctrl, STATE) !== FAILED) Atomics.store(ctrl, STATE, EXITED);
    Atomics.notify(ctrl, TO_MAIN);
  });
  beatMs = setup.beatMs;
  Atomics.store(ctrl, STATE, READY);
  Atomics.notify(ctrl, TO_MAIN);
  waitForCommand(0);
}

let beatMs = 100;

/** `Atomics.waitAsync` (ES2024; Node 20 has it, lib es2023 does not declare it). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      a: Int32Array,
      index: number,
      value: number,
    ): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync.bind(Atomics);

/** Wait (without blocking the event loop) for the caller's message number `seen + 1`. */
function waitForCommand(seen: number): void {
  const result = waitAsync(ctrl, TO_WORKER, seen);
  if (result.async) void result.value.then(() => onCommand());
  else queueMicrotask(onCommand);
}

function onCommand(): void {
  const { json, bins } = readMessage();
  const cmd = json as unknown as Command;
  const ported = takePorted(cmd.pc ?? 0);
  busy = true;
  if (heartbeat === null) heartbeat = setInterval(beat, beatMs);
  let settled: Promise<Parcel>;
  try {
    const decoder = new Decoder(bins, ported, null, false);
    decoder.extensions = BODY_TAGS;

    settled = run(cmd, decoder);
  } catch (err) {
    settled = Promise.reject(err);
  }
  settled.then(finish, (err: unknown) => finish(failure(err)));
}

function finish(parcel: Parcel): void {
  // The caller's latest message: the command, or the last answer to one of our questions.
  const seq = Atomics.load(ctrl, TO_WORKER);
  busy = false;
  send(parcel);
  Atomics.store(ctrl, TO_MAIN, seq);
  Atomics.notify(ctrl, TO_MAIN);
  waitForCommand(seq);
}

let idleBeats = 0;
function beat(): void {
  Atomics.add(ctrl, BEAT, 1);
  // Stop beating once idle for a while: an idle worker does nothing at all.
  if (busy) idleBeats = 0;
  else if (++idleBeats > 3 && heartbeat !== null) {
    clearInterval(heartbeat);
    heartbeat = null;
  }
}

function readMessage(): { json: Json; bins: Uint8Array[] } {
  const length = Atomics.load(ctrl, LEN_TO_WORKER);
  if (length >= 0) return readParcel(toWorker, length);
  // Too large for the area: the whole message came over the port.
  const big = receiveMessageOnPort(port)?.message as { text: string; bins: Uint8Array[] };
  return { json: JSON.parse(big.text) as Json, bins: big.bins };
}

function takePorted(count: number): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < count; i++) out.push(receiveMessageOnPort(port)?.message);
  return out;
}

/** Writes a message for the caller into the shared area (or over the port when too large). */
function send(parcel: Parcel): void {
  const json = parcel.json as Record<string, Json>;
  if (output.length > 0) json.o = output;
  if (warnings.length > 0) json.w = warnings;
  output = [];
  warnings = [];
  if (parcel.ported.length > 0) json.pc = parcel.ported.length;
  for (const value of parcel.ported) port.postMessage(value);
  const length = writeParcel(toMain, parcel);
  if (length === null) {
    port.postMessage({
      text: JSON.stringify(parcel.json),
      bins: parcel.bins.map((b) => b.slice()),
    });
    Atomics.store(ctrl, LEN_TO_MAIN, -1);
  } else {
    Atomics.store(ctrl, LEN_TO_MAIN, length);
  }
}

/**
 * Asks the caller (blocked in its call, serving such questions) for something only it
 * has: the next piece of its iterable. Blocks this thread until the answer.
 */
export function ask(question: Json): { value: unknown; error: boolean } {
  const seq = Atomics.load(ctrl, TO_WORKER);
  const encoder = new Encoder(refs);
  send(encoder.parcel({ cb: question }));
  Atomics.store(ctrl, TO_MAIN, seq);
  Atomics.notify(ctrl, TO_MAIN);
  while (Atomics.load(ctrl, TO_WORKER) === seq) Atomics.wait(ctrl, TO_WORKER, seq, 1000);
  const { json, bins } = readMessage();
  const answer = json as { v?: Json; e?: Json; pc?: number };
  const decoder = new Decoder(bins, takePorted(answer.pc ?? 0), null, false);
  if (answer.e !== undefined) {
    const err = decoder.value(answer.e);
    const ref = (answer as { r?: number }).r;
    if (ref !== undefined && typeof err === 'object' && err !== null) refs.set(err, ref);
    return { value: err, error: true };
  }
  return { value: decoder.value(answer.v ?? null), error: false };
}

/** An uncaught exception: the worker is not to be trusted any more; the caller is told. */
function fail(err: unknown): void {
  try {
    Atomics.store(ctrl, STATE, FAILED);
    send(failure(err));
  } finally {
    Atomics.notify(ctrl, TO_MAIN);
    process.exit(1);
  }
}

function failure(err: unknown): Parcel {
  const encoder = new Encoder(refs);
  return encoder.parcel({ e: encoder.value(err) });
}

function captureWarnings(): void {
  // The caller emits them, in its own thread, in order with the rest of the call: this
  // thread's stderr would reach the terminal only when the caller's event loop runs.
  process.emitWarning = ((warning: string | Error, options?: unknown, code?: unknown): void => {
    const message = warning instanceof Error ? warning.message : String(warning);
    const type =
      warning instanceof Error
        ? warning.name
        : typeof options === 'string'
          ? options
          : ((options as { type?: string } | undefined)?.type ?? 'Warning');
    const theCode =
      typeof code === 'string' ? code : ((options as { code?: string } | undefined)?.code ?? null);
    warnings.push([message, type, theCode]);
  }) as typeof process.emitWarning;
}

// ---------------------------------------------------------------------------------------
// Commands

async function run(cmd: Command, decoder: Decoder): Promise<Parcel> {
  for (const item of cmd.q ?? []) applyQueued(item as unknown as Command, decoder);
  const encoder = new Encoder(refs);
  switch (cmd.c) {
    case 'new':
      return encoder.parcel(construct(cmd, decoder, encoder));
    case 'call':
      return call(cmd, decoder, encoder);
    case 'read':
      return read(cmd, encoder);
    case 'hook':
      return hook(cmd.h ?? '', encoder);
    case 'nop':
      return encoder.parcel({ v: null });
    default:
      throw new Error(`httplib-ts/sync worker: unknown command ${cmd.c}`);
  }
}

function applyQueued(item: Command, decoder: Decoder): void {
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
  return (text) => {
    output.push([id, text]);
  };
}

function construct(cmd: Command, decoder: Decoder, encoder: Encoder): Json {
  const args = (cmd.a ?? []).map((a) => decoder.value(a));
  switch (cmd.cls) {
    case 'HTTPConnection':
    case 'HTTPSConnection': {
      const id = nextId++;
      const options: Record<string, unknown> = { ...((args[2] as object | undefined) ?? {}) };
      options.debugOutput = forwarder(id);
      const ctx = cmd.n as number | undefined;
      if (ctx !== undefined && contexts.has(ctx)) options.context = contexts.get(ctx);
      const Class = cmd.cls === 'HTTPConnection' ? httplib.HTTPConnection : httplib.HTTPSConnection;
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
      const ctx = cmd.n as number | undefined;
      let h: Legacy;
      if (cmd.cls === 'HTTP') {
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
      throw new Error(`httplib-ts/sync worker: cannot construct ${cmd.cls}`);
  }
}

async function call(cmd: Command, decoder: Decoder, encoder: Encoder): Promise<Parcel> {
  const id = cmd.id as number;
  const target = objects.get(id) as Record<string, unknown> | undefined;
  if (target === undefined)
    throw new Error('httplib-ts/sync: this object no longer exists in the worker');
  const method = cmd.m as string;
  const args = (cmd.a ?? []).map((a) => decoder.value(a));
  const fn = target[method];
  if (typeof fn !== 'function') throw new TypeError(`httplib-ts/sync: no method ${method}`);
  let value: unknown;
  try {
    value = await (fn as (...a: unknown[]) => unknown).apply(target, args);
  } catch (err) {
    const parcel = failure(err);
    (parcel.json as Record<string, Json>).st = stateOf(id);
    return parcel;
  }
  const reply: Record<string, Json> = { v: result(value, id, encoder) };
  reply.st = stateOf(id);
  return encoder.parcel(reply);
}

/** A call's value: a response is registered and described; anything else is encoded. */
function result(value: unknown, ownerId: number, encoder: Encoder): Json {
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
function stateOf(id: number): Json {
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

/** Reads of a response: bytes land in shared memory, the caller copies them out. */
async function read(cmd: Command, encoder: Encoder): Promise<Parcel> {
  const id = cmd.id as number;
  const r = objects.get(id) as Response | undefined;
  if (r === undefined)
    throw new Error('httplib-ts/sync: this response no longer exists in the worker');
  const kind = cmd.k as string;
  const n = cmd.n === undefined ? undefined : (cmd.n as number | null);
  let value: Json;
  try {
    value = await readValue(r, kind, n, encoder);
  } catch (err) {
    const parcel = failure(err);
    (parcel.json as Record<string, Json>).st = stateOf(id);
    return parcel;
  }
  return encoder.parcel({ v: value, st: stateOf(id) });
}

async function readValue(
  r: Response,
  kind: string,
  n: number | null | undefined,
  encoder: Encoder,
): Promise<Json> {
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

function restoreContext(id: number, fields: Array<[string, Json]>, decoder: Decoder): void {
  let context = contexts.get(id);
  if (context === undefined) {
    const protocol = fields.find(([k]) => k === 'protocol')?.[1];
    context = new httplib.ssl.SSLContext(decoder.value(protocol ?? null) as number | undefined);
    contexts.set(id, context);
  }
  setFields(context, fields, decoder);
}

// ---------------------------------------------------------------------------------------
// Test hooks: a worker that throws, exits or stops answering.

function hook(what: string, encoder: Encoder): Promise<Parcel> {
  switch (what) {
    case 'throw':
      setImmediate(() => {
        throw new Error('httplib-ts/sync test hook: an exception in the worker');
      });
      return new Promise(() => {});
    case 'exit':
      setImmediate(() => process.exit(7));
      return new Promise(() => {});
    case 'hang': {
      const until = Date.now() + 60_000;
      while (Date.now() < until) {
        // Busy: no heartbeat, no reply; the caller's watchdog must notice.
      }
      return Promise.resolve(encoder.parcel({ v: null }));
    }
    default:
      return Promise.reject(new Error(`httplib-ts/sync test hook: ${what}`));
  }
}
