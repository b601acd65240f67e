/**
 * What the blocking classes share: calling a method of the worker's real object and
 * throwing its exception here, mirroring the state the worker reports back (a
 * connection's socket, host and port; its responses' `length` and closed state), routing
 * the worker's debug output to the right connection's `debugOutput`, and freeing the
 * worker's objects once the caller's twins are garbage (or, for a response, once it ended).
 *
 * The mirrors are hidden behind symbols: the blocking classes show exactly the members
 * of the main entry's classes (types.ts).
 */
import { OPTION_NAMES, optionsOf } from '../client/connection-options.ts';
import { writeDebug } from '../client/debug.ts';
import type * as httplib from '../index.ts';
import {
  type CallScope,
  currentGeneration,
  enqueue,
  exclusive,
  openForCall,
  type Reply,
  setConnectRunner,
  setDebugSink,
  transact,
  WorkerError,
} from './channel.ts';
import { Encoder, type Json } from './wire.ts';

/** The worker-side state of a connection, as worker.ts reports it. */
export interface ConnectionState {
  /** Left out when the worker's is of a kind JSON cannot hold (the twin keeps its own). */
  readonly host?: string;
  readonly port?: number;
  readonly sock: [string | null, number | null, string | null, number | null] | null;
}

/** A response as worker.ts describes it when it is made. */
export interface ResponseHead {
  readonly id: number;
  readonly status: number;
  readonly reason: string;
  readonly version: 9 | 10 | 11;
  readonly lines: string[];
  readonly chunked: boolean;
  readonly will_close: boolean;
  /** The connection's, of any type: encoded (`makeResponse` decodes them). */
  readonly debuglevel: Json;
  readonly strict: Json;
  readonly length: number | null;
  readonly isclosed: boolean;
  readonly closed: boolean;
}

/**
 * What this module calls on a connection's twin: an object the twin holds (and only it),
 * not the twin itself, whose public class has only the main entry's members. Tracked
 * weakly: it goes when its connection goes.
 */
export interface ConnectionMirror {
  /** Takes the state of the worker's object that a reply reports. */
  mirror(state: ConnectionState): void;
  /** The connection's `debugOutput`. */
  debugOutput(): httplib.DebugOutput | null;
  /** The connection's `connect()`: a subclass's own, which a call's open runs. */
  connect(): void;
}
/** A response's state as the worker reports it: the twin reads it, `applyState` writes it. */
export interface ResponseState {
  length: number | null;
  isclosed: boolean;
  closed: boolean;
}

const connections = new Map<number, WeakRef<ConnectionMirror>>();
const garbage = new FinalizationRegistry<[number, number]>(([id, generation]) => {
  connections.delete(id);
  if (generation === currentGeneration()) enqueue({ c: 'free', a: [id] });
});

/**
 * The state of each response still open in the worker, by id. Not the twins themselves:
 * a `WeakRef` keeps its target alive until the running job ends (so does `deref()`), which
 * a blocking script never reaches, and a `FinalizationRegistry` runs only from the event
 * loop; so each response a synchronous loop read stayed in memory (~2 KB a request, for
 * as long as the script ran). A response leaves the table (and the registry) as soon as
 * the worker reports it ended: its state is final then, its twin answers every later call
 * itself, and the worker forgets it by itself (worker-objects.ts `finished`). Only a twin
 * dropped before its end waits for the registry, which frees the worker's object.
 */
const responses = new Map<number, ResponseState>();
const unfinished = new FinalizationRegistry<[number, number, ResponseState]>(
  ([id, generation, state]) => {
    // (A new worker's response may have taken the id since.)
    if (responses.get(id) === state) responses.delete(id);
    if (generation === currentGeneration()) enqueue({ c: 'free', a: [id] });
  },
);

/** Python's `print` to the connection's `debugOutput`, as the main entry's debug.ts does. */
setDebugSink((id, text) => {
  writeDebug(connections.get(id)?.deref()?.debugOutput() ?? null, text);
});

/** The twin whose `connect()` the worker's open of a call runs now (channel.ts). */
let openingTwin: ConnectionMirror | null = null;

setConnectRunner((id) => {
  const twin = connections.get(id)?.deref();
  if (twin === undefined) throw new Error('httplib-ts/sync: this connection no longer exists');
  const outer = openingTwin;
  openingTwin = twin;
  try {
    twin.connect();
  } catch (err) {
    // The caller's own exception: the call throws it as it is (its stack is the caller's).
    if (typeof err === 'object' && err !== null) ownErrors.add(err);
    throw err;
  } finally {
    openingTwin = outer;
  }
});

/**
 * Whether `twin`'s `connect()` runs for the worker's open of a call: its `super.connect()`
 * opens that socket (`openSocketForCall`), as part of the call.
 */
export function openingFor(twin: ConnectionMirror): boolean {
  return openingTwin === twin;
}

/** That `super.connect()`: the worker opens the call's socket; its state, or its failure. */
export function openSocketForCall(): void {
  const { report, decoder } = openForCall();
  applyState(report.st);
  if (report.e !== undefined) throw callerError(decoder.value(report.e));
}

export function trackConnection(id: number, conn: ConnectionMirror): void {
  connections.set(id, new WeakRef(conn));
  garbage.register(conn, [id, currentGeneration()]);
}

/** Mirrors response `id`'s state into `state`, which its twin reads, until the response ends. */
export function trackResponse(id: number, twin: object, state: ResponseState): void {
  if (state.isclosed) return;
  responses.set(id, state);
  unfinished.register(twin, [id, currentGeneration(), state], state);
}

/** Apply the state that a reply reports. */
export function applyState(st: Json | undefined): void {
  if (st === undefined || st === null) return;
  const s = st as {
    conn?: [number, ConnectionState];
    rs?: Array<[number, number | null, boolean, boolean]>;
  };
  if (s.conn !== undefined) connections.get(s.conn[0])?.deref()?.mirror(s.conn[1]);
  for (const [id, length, isclosed, closed] of s.rs ?? []) {
    const state = responses.get(id);
    if (state === undefined) continue;
    state.length = length;
    state.isclosed = isclosed;
    state.closed = closed;
    if (isclosed) {
      responses.delete(id);
      unfinished.unregister(state);
    }
  }
}

/** Throws when `generation` is not the running worker's: its objects are gone. */
export function checkGeneration(generation: number, what: string): void {
  if (generation !== currentGeneration()) {
    throw new WorkerError(
      `httplib-ts/sync: this ${what} belonged to a worker thread that failed and was replaced`,
    );
  }
}

/** Refuses a `signal` option: nothing could fire it while this thread is blocked. */
export function refuseSignal(
  options: unknown,
  where: string,
  names: readonly string[] | null = OPTION_NAMES.signal,
): void {
  // Options that are not an object, or not this call's, are refused as the main entry
  // refuses them.
  optionsOf(options as object | null | undefined, where, names);
  if (
    options !== null &&
    typeof options === 'object' &&
    (options as { signal?: unknown }).signal !== undefined &&
    (options as { signal?: unknown }).signal !== null
  ) {
    throw new TypeError(
      `httplib-ts/sync: ${where} takes no signal: nothing can abort a call while its thread is blocked (use timeout)`,
    );
  }
}

/** The value of a reply, or its exception thrown here (after its state was applied). */
export function settle(reply: Reply): Json {
  applyState(reply.json.st);
  const failure = reply.debugFailure;
  if (failure !== null) {
    // A response the call made in the worker (getresponse(), a legacy getreply()) gets no
    // twin here, and so would never be freed there: freed now, with the close below.
    const orphans = untwinnedResponses(reply.json);
    if (orphans.length > 0) enqueue({ c: 'free', a: orphans });
    // As on the main entry: the call fails with what the function threw, and its
    // connection is closed (the next request opens a new one).
    if (connections.get(failure.id)?.deref() !== undefined) {
      call(failure.id, 'close', () => []);
    }
    throw failure.error;
  }
  const e = reply.json.e;
  if (e !== undefined) throw callerError(reply.decoder.value(e));
  return reply.json.v ?? null;
}

/**
 * The responses a reply describes (its value, or a legacy object's `file`) that have no
 * twin in this thread: the worker registered them for the twin the caller makes of them.
 */
function untwinnedResponses(json: Record<string, Json>): number[] {
  const ids: number[] = [];
  const visit = (value: Json | undefined): void => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
    const head = value.$resp as ResponseHead | undefined;
    if (head !== undefined) {
      // (A twin that ended is not in the table: the worker's object it no longer needs.)
      if (!responses.has(head.id)) ids.push(head.id);
    } else if (Array.isArray(value.$a)) {
      for (const item of value.$a) visit(item);
    }
  };
  visit(json.v);
  visit((json.st as { file?: Json } | null | undefined)?.file);
  return ids;
}

/**
 * An exception from the worker, thrown from the caller's call: its stack is made here,
 * where the caller can see its own code (the worker's frames say nothing about it).
 * The caller's own objects (`$ref`) are thrown as they are.
 */
function callerError(err: unknown): unknown {
  if (err instanceof Error && !ownErrors.has(err)) {
    const header = `${err.name}: ${err.message}`;
    const here = new Error().stack?.split('\n').slice(1) ?? [];
    // Drop this package's own frames, up to the caller's call.
    while (
      here.length > 0 &&
      /[\\/]sync[\\/](remote|channel|connection|response|legacy)\.[jt]s/.test(here[0] as string)
    ) {
      here.shift();
    }
    Object.defineProperty(err, 'stack', {
      value: [header, ...here].join('\n'),
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  return err;
}
const ownErrors = new WeakSet<object>();

/**
 * Calls `method` of the worker's object `id`; `encode` turns the arguments into JSON. One
 * blocking call of the caller's (`exclusive`): refused from inside another.
 */
export function invoke(
  id: number,
  method: string,
  encode: (encoder: Encoder, scope: CallScope) => Json[],
): { value: Json; reply: Reply } {
  return exclusive(() => call(id, method, encode));
}

/** `invoke` as part of a call already running (the close of a call that failed). */
function call(
  id: number,
  method: string,
  encode: (encoder: Encoder, scope: CallScope) => Json[],
): { value: Json; reply: Reply } {
  const scope = new LazyScope();
  // What the caller's code throws while its arguments are encoded (a header value's
  // toString) is thrown again in the worker: kept, it comes back as itself.
  const encoder = new Encoder(null, () => scope.thrown);
  const args = encode(encoder, scope);
  const reply = transact({ c: 'call', id, m: method, a: args }, encoder, scope.used ? scope : null);
  // Errors the caller's code threw (its iterables, its toString) come back as themselves,
  // stack and all.
  if (scope.used) {
    for (const original of scope.thrown.values()) {
      if (typeof original === 'object' && original !== null) ownErrors.add(original);
    }
  }
  return { value: settle(reply), reply };
}

/** A call's scope, made only when a body needs it (most calls have no iterable). */
class LazyScope implements CallScope {
  #iterators: Map<number, Iterator<unknown>> | null = null;
  #thrown: Map<number, unknown> | null = null;
  get used(): boolean {
    return this.#iterators !== null || this.#thrown !== null;
  }
  get iterators(): Map<number, Iterator<unknown>> {
    this.#iterators ??= new Map();
    return this.#iterators;
  }
  get thrown(): Map<number, unknown> {
    this.#thrown ??= new Map();
    return this.#thrown;
  }
}

/** Plain arguments, encoded as they are. */
export function plainArgs(...args: unknown[]): (encoder: Encoder) => Json[] {
  return (encoder) => encoder.values(args);
}
