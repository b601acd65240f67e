/**
 * The calling thread's side of `httplib-ts/sync`: one worker thread per process (started
 * on the first call, unref'd so that it never keeps the process alive), and the blocking
 * exchange with it over shared memory.
 *
 * A call writes its command into a shared area and bumps a counter the worker waits on
 * (`Atomics.waitAsync`, so its event loop keeps running); then this thread blocks in
 * `Atomics.wait` until the worker's counter says the reply is there. Nothing is copied
 * through `postMessage` on that path: only SharedArrayBuffers for large bodies and Blobs
 * go over the port. While it waits, the worker may ask questions that only this thread
 * can answer (the next item of the caller's iterable), and every message it sends
 * carries the debug output and the warnings produced so far, which are written here, by
 * this thread, before anything else happens.
 *
 * A blocked caller always wakes up: it waits in slices, and between slices it checks
 * that the worker is alive (its state word, set when it fails or exits) and working (a
 * heartbeat counter it moves while a command runs). A worker that failed, exited or
 * stopped beating is terminated, the call throws, and the next call starts a new worker.
 */
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from 'node:worker_threads';
import { WARNING_CODE_PREFIX, warnOnce } from '../client/debug.ts';
import {
  BEAT,
  CTRL_SLOTS,
  Decoder,
  Encoder,
  EXITED,
  FAILED,
  type Json,
  keepThrown,
  LEN_TO_MAIN,
  LEN_TO_WORKER,
  type Parcel,
  postPorted,
  READY,
  readParcel,
  STARTING,
  STATE,
  TO_MAIN,
  TO_WORKER,
  writeParcel,
} from './wire.ts';

/** Bytes of each message area, and of the area reads land in. */
const AREA_BYTES = 256 * 1024;
// 1 MiB and a little: a 1 MiB read() (the common large body) lands here, whatever its alignment.
const BODY_BYTES = 1024 * 1024 + 4096;

/** Timing of the watchdog; tests shorten it (`tuning` is not part of the public API). */
export const tuning = {
  /** How long one `Atomics.wait` lasts before the worker's health is checked. */
  sliceMs: 200,
  /** A worker running a command with no heartbeat for this long is taken for dead. */
  staleMs: 5000,
  /** Milliseconds between the worker's heartbeats while a command runs. */
  beatMs: 100,
  /**
   * How long a starting worker may go without a heartbeat: a new thread's first line, and
   * the package's modules compiled while it loads (they block its event loop, so its
   * beats), can take seconds on a busy machine, far longer than `staleMs`.
   */
  startSilenceMs: 15_000,
  /** How long a new worker may take to load the package. */
  startMs: 60_000,
};

/**
 * The error of a blocking call made while another one runs (from a `debugOutput` function
 * or a body iterator, which run inside it): the outer call goes on.
 */
export function nestedCall(): Error {
  return Object.assign(
    new Error(
      'httplib-ts/sync: a blocking call was made while another one was running (from a debugOutput function or a body iterator)',
    ),
    { code: 'ERR_HTTPLIB_SYNC_NESTED_CALL' },
  );
}

/** The error a call throws when the worker failed, exited or stopped answering. */
export class WorkerError extends Error {
  override name = 'Error';
  readonly code = 'ERR_HTTPLIB_SYNC_WORKER';
}

interface Thread {
  readonly worker: Worker;
  readonly ctrl: Int32Array;
  readonly toWorker: Buffer;
  readonly toMain: Buffer;
  readonly body: Buffer;
  readonly port: MessagePort;
  readonly generation: number;
  sent: number;
}

let thread: Thread | null = null;
let generation = 0;

/**
 * What this thread is doing with the blocking API, one state for both transports: nothing;
 * a call (`exclusive`: a method of the direct transport, or one that talks to the worker);
 * or a conversation with the worker (`transact`), during which the caller's code runs (its
 * iterables, its debug output). A call made from inside another, from that code, is
 * refused whatever transport each uses: with a guard of each transport's own, a plain
 * connection's request() inside an HTTPS body iterable was written on its socket, and its
 * getresponse() waited for bytes the blocked worker could not deliver (a TimeoutError that
 * blamed a server which had answered); a plain connection's debugOutput ran a whole HTTPS
 * call. The internal commands of a direct call (its socket's) talk to the worker from
 * inside its `exclusive`.
 */
let running: 'idle' | 'call' | 'talk' = 'idle';

/**
 * Runs one blocking call of the caller's: a blocking call made from inside it (from a
 * `debugOutput` function, a body iterable, a header value's toString) is refused with
 * `nestedCall()`; the outer call goes on.
 */
export function exclusive<T>(fn: () => T): T {
  if (running !== 'idle') throw nestedCall();
  running = 'call';
  try {
    return fn();
  } finally {
    running = 'idle';
  }
}
/**
 * Items that need no answer (attribute changes, freed objects, SSL contexts), sent with
 * the next command; a function is encoded then, with that command's encoder (its bytes
 * travel as that message's attachments).
 */
const queue: Array<Json | ((encoder: Encoder) => Json)> = [];

/** Where the worker's debug output for connection `id` goes (set by the classes). */
let debugSink: (id: number, text: string) => void = (_id, text) => {
  process.stdout.write(text);
};
export function setDebugSink(sink: (id: number, text: string) => void): void {
  debugSink = sink;
}

/** Which worker the ids of the objects are valid in: it changes when a worker is replaced. */
export function currentGeneration(): number {
  return thread?.generation ?? generation;
}

/** Queue an item for the worker, sent before the next command. */
export function enqueue(item: Json | ((encoder: Encoder) => Json)): void {
  queue.push(item);
}

/** Answers the worker's questions during one call: the caller's iterables, by id. */
export interface CallScope {
  readonly iterators: Map<number, Iterator<unknown>>;
  /** Objects the caller's code threw, by the id they crossed with. */
  readonly thrown: Map<number, unknown>;
}

/** A reply: its JSON, a decoder for its values, and the bytes a read left in shared memory. */
export interface Reply {
  readonly json: Record<string, Json>;
  readonly decoder: Decoder;
  /**
   * What a connection's debug output function threw while this call's output was
   * written (the rest of it was not): the caller throws it once the reply is applied.
   */
  readonly debugFailure: { readonly id: number; readonly error: unknown } | null;
  /**
   * `n` bytes of a read, at `offset` of the body area or of the SharedArrayBuffer they
   * came in, copied into a Buffer of the caller's own (8-byte aligned from 4 KiB on, as
   * the worker placed them for: see worker-objects.ts's `place`).
   */
  bytes(n: number, offset: number, ported: number | undefined): Buffer;
  /** Copies `n` bytes of a read into `target` (placed for its alignment). */
  copyInto(target: Uint8Array, n: number, offset: number, ported: number | undefined): void;
}

/**
 * Runs one command in the worker and blocks until its reply. The reply's `e`, if any, is
 * left to the caller to throw (with its state updates applied first).
 */
export function transact(
  command: Record<string, Json>,
  encoder: Encoder,
  scope: CallScope | null,
): Reply {
  // (A conversation cannot hold another: the worker waits for the answer to its question.)
  if (running === 'talk') throw nestedCall();
  const outer = running;
  running = 'talk';
  debugFailure = null;
  try {
    const t = thread ?? startThread();
    const queued = queue.splice(0, queue.length);
    if (queued.length > 0) {
      command.q = queued.map((item) => (typeof item === 'function' ? item(encoder) : item));
    }
    try {
      post(t, encoder.parcel(command));
    } catch (err) {
      // Nothing reached the worker: the queued items go with the next command.
      queue.unshift(...queued);
      throw err;
    }
    let callScope = scope;
    for (;;) {
      const message = receive(t);
      const json = message.json;
      const question = json.cb as Record<string, Json> | undefined;
      if (question === undefined) return reply(t, message, callScope);
      if (question.cn !== undefined) {
        // What the caller's connect() throws comes back as itself, as its iterables' do.
        callScope ??= { iterators: new Map(), thrown: new Map() };
        post(t, runConnect(t, question.cn as number, callScope));
      } else {
        post(t, answer(question, callScope));
      }
    }
  } finally {
    running = outer;
  }
}

/**
 * Runs the caller's `connect()` of connection `id` (remote.ts sets it): a subclass's own,
 * which the worker's client runs when a call opens a socket, as Python's `send()` runs
 * `self.connect()`.
 */
let connectRunner: (id: number) => void = () => {
  throw new Error('httplib-ts/sync: no connect() to run');
};
export function setConnectRunner(run: (id: number) => void): void {
  connectRunner = run;
}

/** The worker's open that runs the caller's connect() (the question `cn`), while it runs. */
let opening: { readonly t: Thread; readonly scope: CallScope } | null = null;

/**
 * The worker asks, in a call that opens a socket, for the caller's `connect()` of
 * connection `id`: it runs here, inside the call (its blocking calls are refused, as from
 * a body iterable), and its `super.connect()` tells the worker to open the socket
 * (`openForCall`). The answer: it returned, or what it threw.
 */
function runConnect(t: Thread, id: number, scope: CallScope): Parcel {
  const outer = opening;
  opening = { t, scope };
  let parcel: Parcel;
  try {
    connectRunner(id);
    parcel = new Encoder().parcel({ v: null });
  } catch (err) {
    // The worker failed while its super.connect() waited: the call throws that (nobody
    // is left to answer).
    if (thread !== t) throw err;
    parcel = failed(err, new Encoder(), scope, 'connect()');
  } finally {
    opening = outer;
  }
  if (thread !== t) throw new WorkerError('httplib-ts/sync: the worker thread was replaced');
  return parcel;
}

/**
 * The `super.connect()` of the caller's `connect()` run by `runConnect`: the worker opens
 * the socket of the call (with the items queued since first: the attributes the
 * caller's code changed), and reports it (question `co`: its state, and its exception).
 */
export function openForCall(): {
  readonly report: Record<string, Json>;
  readonly decoder: Decoder;
} {
  const o = opening;
  if (o === null) throw new Error('httplib-ts/sync: no open of a call is under way');
  const encoder = new Encoder();
  const json: Record<string, Json> = { v: 'open' };
  const queued = queue.splice(0, queue.length);
  if (queued.length > 0)
    json.q = queued.map((item) => (typeof item === 'function' ? item(encoder) : item));
  post(o.t, encoder.parcel(json));
  const message = receive(o.t);
  const report = message.json.cb as Record<string, Json> | undefined;
  // (The worker's open always ends in that report: nothing else can end its call meanwhile.)
  if (report?.co === undefined)
    throw new Error('httplib-ts/sync: the worker did not report the open');
  return {
    report,
    decoder: new Decoder(message.bins, message.ported, o.scope.thrown, true),
  };
}

/**
 * Sends a message: serialized first, so that a value JSON cannot hold (a BigInt put
 * into a command as it is) throws here with nothing sent, and the worker and this thread
 * still agree on what went over the port; then the message itself when it is too large
 * for the shared area, then its ported values, in the order the worker takes them.
 */
function post(t: Thread, parcel: Parcel): void {
  const json = parcel.json as Record<string, Json>;
  if (parcel.ported.length > 0) json.pc = parcel.ported.length;
  const length = writeParcel(t.toWorker, parcel);
  if (length === null) {
    t.port.postMessage({
      text: JSON.stringify(parcel.json),
      bins: parcel.bins.map((b) => b.slice()),
    });
  }
  postPorted(t.port, parcel.ported);
  Atomics.store(t.ctrl, LEN_TO_WORKER, length ?? -1);
  t.sent++;
  Atomics.store(t.ctrl, TO_WORKER, t.sent);
  Atomics.notify(t.ctrl, TO_WORKER);
}

interface Message {
  json: Record<string, Json>;
  bins: Uint8Array[];
  ported: unknown[];
}

/** Blocks until the worker answers the last message; writes its output; returns it. */
function receive(t: Thread): Message {
  waitForWorker(t, t.sent);
  const length = Atomics.load(t.ctrl, LEN_TO_MAIN);
  let json: Record<string, Json>;
  let bins: Uint8Array[];
  if (length >= 0) {
    const parcel = readParcel(t.toMain, length);
    json = parcel.json as Record<string, Json>;
    bins = parcel.bins;
  } else {
    const big = receiveMessageOnPort(t.port)?.message as { text: string; bins: Uint8Array[] };
    json = JSON.parse(big.text) as Record<string, Json>;
    bins = big.bins;
  }
  const ported: unknown[] = [];
  for (let i = 0; i < ((json.pc as number | undefined) ?? 0); i++) {
    ported.push(receiveMessageOnPort(t.port)?.message);
  }
  emitSideEffects(json);
  return { json, bins, ported };
}

/**
 * The first exception of a debug output function during the running call. Thrown from
 * the sink, it would leave the call's conversation with the worker half-way (a reply
 * never read, a question never answered, and the next call reading the wrong message):
 * kept instead, the conversation finished, and the reply carries it (`debugFailure`).
 */
let debugFailure: { id: number; error: unknown } | null = null;

/** The worker's debug output and warnings, written by this thread, in order. */
function emitSideEffects(json: Record<string, Json>): void {
  const output = json.o as Array<[number, string]> | undefined;
  if (output !== undefined) {
    for (const [id, text] of output) {
      if (debugFailure !== null) break;
      try {
        debugSink(id, text);
      } catch (error) {
        debugFailure = { id, error };
      }
    }
  }
  const warnings = json.w as Array<[string, string, string | null]> | undefined;
  if (warnings !== undefined) {
    for (const [message, type, code] of warnings) {
      // A warning that cannot be printed (a process.emitWarning that throws: replaced by
      // the caller, or --throw-deprecation) must not fail the call: thrown here, it would
      // leave the conversation half-way (a question of the worker never answered, and the
      // next call reading that answer's place), or lose a reply the worker already acted on.
      try {
        if (code?.startsWith(WARNING_CODE_PREFIX)) warnOnce(message, type, code);
        else process.emitWarning(message, code === null ? { type } : { type, code });
      } catch {}
    }
  }
}

function reply(t: Thread, message: Message, scope: CallScope | null): Reply {
  const decoder = new Decoder(message.bins, message.ported, scope?.thrown ?? null, true);
  const source = (ported: number | undefined): Buffer =>
    ported === undefined ? t.body : Buffer.from(message.ported[ported] as SharedArrayBuffer);
  const failure = debugFailure;
  debugFailure = null;
  return {
    json: message.json,
    decoder,
    debugFailure: failure,
    bytes(n, offset, ported) {
      const out = Buffer.allocUnsafe(n);
      out.set(source(ported).subarray(offset, offset + n));
      return out;
    },
    copyInto(target, n, offset, ported) {
      target.set(source(ported).subarray(offset, offset + n));
    },
  };
}

/** The caller's answer to a question of the worker (the next item of an iterable). */
function answer(question: Record<string, Json>, scope: CallScope | null): Parcel {
  const encoder = new Encoder();
  const id = (question.next ?? question.ret) as number;
  const iterator = scope?.iterators.get(id);
  try {
    if (iterator === undefined) throw new Error('httplib-ts/sync: unknown iterable');
    // A debug output function threw while the body was being sent: the body fails there,
    // with that exception, as it does on the main entry (nothing more of it is sent).
    if (debugFailure !== null && question.ret === undefined) throw debugFailure.error;
    if (question.ret !== undefined) {
      iterator.return?.();
      return encoder.parcel({ v: null });
    }
    // (bodies.ts's for-of over the caller's iterable: the language checked its results.)
    const result = iterator.next();
    return encoder.parcel({
      v: {
        $o: [
          ['done', result.done === true],
          ['value', encoder.value(result.value)],
        ],
      },
    });
  } catch (err) {
    return failed(err, encoder, scope, 'the body');
  }
}

/** An answer saying that the caller's code (`what`) threw `err` (the worker throws it there). */
function failed(err: unknown, encoder: Encoder, scope: CallScope | null, what: string): Parcel {
  let json: Record<string, Json>;
  let out = encoder;
  try {
    json = { e: out.value(err) };
  } catch {
    // What was thrown cannot be written for the worker (a Proxy whose traps throw): the
    // worker is told of a failure all the same (the caller gets the value itself, by
    // `r`). Without an answer it took the next command for this one.
    out = new Encoder();
    json = {
      e: out.value(
        new Error(
          `httplib-ts/sync: ${what} failed with a value that cannot be carried to the worker`,
        ),
      ),
    };
  }
  const ref = scope === null ? null : keepThrown(scope.thrown, err);
  if (ref !== null) json.r = ref;
  return out.parcel(json);
}

/** Blocks until the worker's counter reaches `target`, or the worker is found dead. */
function waitForWorker(t: Thread, target: number): void {
  let beat = Atomics.load(t.ctrl, BEAT);
  let lastBeat = Date.now();
  for (;;) {
    const seen = Atomics.load(t.ctrl, TO_MAIN);
    if (seen === target) return;
    const state = Atomics.load(t.ctrl, STATE);
    if (state === FAILED) throw discard(t, failedError(t));
    if (state === EXITED)
      throw discard(t, new WorkerError('httplib-ts/sync: the worker thread exited'));
    if (Atomics.wait(t.ctrl, TO_MAIN, seen, tuning.sliceMs) !== 'timed-out') continue;
    const now = Atomics.load(t.ctrl, BEAT);
    if (now !== beat) {
      beat = now;
      lastBeat = Date.now();
    } else if (Date.now() - lastBeat > tuning.staleMs) {
      throw discard(
        t,
        new WorkerError(
          `httplib-ts/sync: the worker thread stopped responding (no heartbeat for ${tuning.staleMs} ms)`,
        ),
      );
    }
  }
}

/** The error the worker reported when it failed. */
function failedError(t: Thread): WorkerError {
  let cause: unknown;
  try {
    const { json, bins } = readParcel(t.toMain, Atomics.load(t.ctrl, LEN_TO_MAIN));
    const j = json as Record<string, Json>;
    cause =
      j.boot !== undefined
        ? new Error(String(j.boot))
        : new Decoder(bins, [], null, true).value(j.e ?? null);
  } catch (err) {
    cause = err;
  }
  const text = cause instanceof Error ? cause.message : String(cause);
  return new WorkerError(`httplib-ts/sync: the worker thread failed: ${text}`, { cause });
}

/** Drops a dead worker (the next call starts a new one); returns `err`. */
function discard(t: Thread, err: WorkerError): WorkerError {
  if (thread === t) thread = null;
  generation = t.generation + 1;
  queue.length = 0;
  t.worker.terminate().catch(() => {});
  return err;
}

/**
 * Throws when the worker is gone (failed, exited, or replaced): a caller waiting on a
 * ring of the worker's sockets checks it between slices of its wait.
 */
export function workerGone(): void {
  const t = thread;
  if (t === null) throw new WorkerError('httplib-ts/sync: the worker thread was replaced');
  const state = Atomics.load(t.ctrl, STATE);
  if (state === FAILED) throw discard(t, failedError(t));
  if (state === EXITED)
    throw discard(t, new WorkerError('httplib-ts/sync: the worker thread exited'));
}

/**
 * A test hook: make the worker throw, exit or hang, or reply with a value JSON cannot
 * hold (not part of the public API).
 */
export function testHook(
  what: 'throw' | 'exit' | 'hang' | 'terminate' | 'wake' | 'unsendable',
): void {
  if (what === 'terminate') {
    void thread?.worker.terminate();
    return;
  }
  if (what === 'wake') {
    // A wake-up with no new command: what a caller preempted between storing its
    // command's number and notifying the worker looks like to the worker.
    if (thread !== null) Atomics.notify(thread.ctrl, TO_WORKER);
    return;
  }
  const r = transact({ c: 'hook', h: what }, new Encoder(), null);
  if (r.json.e !== undefined) throw r.decoder.value(r.json.e);
}

/** The running worker, for tests (not part of the public API). */
export function currentWorker(): Worker | null {
  return thread?.worker ?? null;
}

// ---------------------------------------------------------------------------------------
// Starting the worker

const SELF = import.meta.url;
const FROM_SOURCE = SELF.endsWith('.ts');

/**
 * The worker's first code: beat while loading (the caller waits as long as it beats),
 * load the worker module (running from the TypeScript sources, register tsx in the
 * worker first: a loader registered in this thread does not apply there), and report a
 * failure to load where the caller waits for it. It runs as CommonJS or as an ES module
 * (`--input-type=module` reaches workers too), so it uses `import()` only.
 */
const BOOT = `
import('node:worker_threads').then(async ({ workerData }) => {
  const ctrl = new Int32Array(workerData.ctrl);
  const beat = setInterval(() => Atomics.add(ctrl, ${BEAT}, 1), workerData.beatMs);
  try {
    if (workerData.tsx) (await import(workerData.tsx)).register();
    (await import(workerData.url)).start(workerData);
  } catch (err) {
    const text = JSON.stringify([{ boot: String((err && err.stack) || err) }]);
    Atomics.store(ctrl, ${LEN_TO_MAIN}, Buffer.from(workerData.toMain).write(text, 0));
    Atomics.store(ctrl, ${STATE}, ${FAILED});
    Atomics.notify(ctrl, ${TO_MAIN});
  } finally {
    clearInterval(beat);
  }
});
`;

function startThread(): Thread {
  const ctrl = new SharedArrayBuffer(CTRL_SLOTS * 4);
  const toWorker = new SharedArrayBuffer(AREA_BYTES);
  const toMain = new SharedArrayBuffer(AREA_BYTES);
  const body = new SharedArrayBuffer(BODY_BYTES);
  const data = new MessageChannel();
  const alive = new MessageChannel();
  const worker = new Worker(BOOT, {
    eval: true,
    workerData: {
      ctrl,
      toWorker,
      toMain,
      body,
      port: data.port2,
      keepalive: alive.port2,
      beatMs: tuning.beatMs,
      url: new URL(FROM_SOURCE ? './worker.ts' : './worker.js', SELF).href,
      tsx: FROM_SOURCE ? import.meta.resolve('tsx/esm/api') : null,
    },
    transferList: [data.port2, alive.port2],
  });
  // The worker never keeps the process alive: while a call waits for it, this thread is
  // blocked anyway, and between calls there is nothing for it to finish.
  worker.unref();
  data.port1.unref();
  alive.port1.unref();
  // Failures are read from the control block; an 'error' event must not crash the process.
  worker.on('error', () => {});
  // A worker that ended between two calls (terminated, out of memory) is known as soon as
  // this thread's event loop ran; otherwise the heartbeat tells, within `staleMs`.
  worker.once('exit', () => {
    if (Atomics.load(t.ctrl, STATE) !== FAILED) Atomics.store(t.ctrl, STATE, EXITED);
  });
  const t: Thread = {
    worker,
    ctrl: new Int32Array(ctrl),
    toWorker: Buffer.from(toWorker),
    toMain: Buffer.from(toMain),
    body: Buffer.from(body),
    port: data.port1,
    generation,
    sent: 0,
  };
  // Loading the package takes a moment (longer from the TypeScript sources, or on a busy
  // machine): wait while the worker beats, up to startMs; one that never beats (it could
  // not even run its first line) or stops beating is given up after startSilenceMs.
  const started = Date.now();
  let beat = 0;
  let lastBeat = started;
  while (Atomics.load(t.ctrl, STATE) === STARTING) {
    const now = Date.now();
    const seen = Atomics.load(t.ctrl, BEAT);
    if (seen !== beat) {
      beat = seen;
      lastBeat = now;
    }
    if (now - started > tuning.startMs || now - lastBeat > tuning.startSilenceMs) {
      throw discard(
        t,
        new WorkerError(
          `httplib-ts/sync: the worker thread did not start (after ${now - started} ms)`,
        ),
      );
    }
    Atomics.wait(t.ctrl, TO_MAIN, 0, tuning.sliceMs);
  }
  if (Atomics.load(t.ctrl, STATE) !== READY) {
    throw discard(
      t,
      Atomics.load(t.ctrl, STATE) === FAILED
        ? failedError(t)
        : new WorkerError('httplib-ts/sync: the worker thread exited'),
    );
  }
  thread = t;
  return t;
}
