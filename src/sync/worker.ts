/**
 * The worker thread of `httplib-ts/sync`: it runs the package's async client (through its
 * public entry, src/index.ts, and nothing else) for the threads that block on it.
 *
 * It takes one command at a time from the control block (channel.ts writes them), runs
 * it on the objects of worker-objects.ts (the real connections and responses, by id) and
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
import {
  BEAT,
  canHoldWeakly,
  Decoder,
  Encoder,
  EXITED,
  FAILED,
  type Json,
  LEN_TO_MAIN,
  LEN_TO_WORKER,
  type Parcel,
  postPorted,
  READY,
  readParcel,
  STATE,
  TO_MAIN,
  TO_WORKER,
  writeParcel,
} from './wire.ts';
import { bodyTags, closeOpened, takeOpened } from './worker-bodies.ts';
import {
  applyQueued,
  callMethod,
  construct,
  type QueuedItem,
  readValue,
  result,
  setupObjects,
  stateOf,
} from './worker-objects.ts';
import { type RingCommand, ringCommand, waitAsync } from './worker-ring.ts';

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
  /** A read: where the caller's copy of the bytes lands, mod 8. */
  readonly al?: number;
  /** How many values the port carries for this message. */
  readonly pc?: number;
}

let ctrl: Int32Array;
let toWorker: Buffer;
let toMain: Buffer;
let port: MessagePort;

/** Debug text of the running command, `[connection id, text]`, in order. */
let output: Json[] = [];
/** Warnings emitted while the command ran (`process.emitWarning` arguments). */
let warnings: Json[] = [];
/** What the caller's code threw (iterables, toString), by copy, to be sent back as the same value. */
const refs = new WeakMap<WeakKey, number>();
const BODY_TAGS = bodyTags(ask);
let busy = false;
let heartbeat: NodeJS.Timeout | null = null;

/** Starts serving commands. Called by the bootstrap (channel.ts) once this module loaded. */
export function start(setup: WorkerSetup): void {
  ctrl = new Int32Array(setup.ctrl);
  toWorker = Buffer.from(setup.toWorker);
  toMain = Buffer.from(setup.toMain);
  setupObjects(
    Buffer.from(setup.body),
    (id, text) => {
      output.push([id, text]);
    },
    ask,
  );
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

/** Wait (without blocking the event loop) for the caller's message number `seen + 1`. */
function waitForCommand(seen: number): void {
  const result = waitAsync(ctrl, TO_WORKER, seen);
  if (result.async) void result.value.then(() => woken(seen));
  else queueMicrotask(onCommand);
}

/**
 * A wake-up is a new command only if the counter moved: a caller preempted between
 * storing its command's number and notifying may have had that command run already
 * (the value check above saw it), and its late notify must not run it a second time.
 */
function woken(seen: number): void {
  if (Atomics.load(ctrl, TO_WORKER) === seen) waitForCommand(seen);
  else onCommand();
}

function onCommand(): void {
  const { json, bins } = readMessage();
  const cmd = json as unknown as Command;
  const ported = takePorted(cmd.pc ?? 0);
  busy = true;
  if (heartbeat === null) heartbeat = setInterval(beat, beatMs);
  let settled: Promise<Parcel>;
  try {
    const decoder = new Decoder(bins, ported, null, false, refs);
    decoder.extensions = BODY_TAGS;

    settled = run(cmd, decoder, ported);
  } catch (err) {
    settled = Promise.reject(err);
  }
  // The ReadStreams this command's bodies were made of (the decoding is over once `run`
  // returned; a ring's `prep` took its own): closed before the reply, sent or failed.
  const opened = takeOpened();
  if (opened.length > 0) {
    const close = (): Promise<void> => closeOpened(opened);
    settled = settled.then(
      (parcel) => close().then(() => parcel),
      (err: unknown) =>
        close().then(() => {
          throw err;
        }),
    );
  }
  settled.then(finish, (err: unknown) => finish(failure(err)));
}

function finish(parcel: Parcel): void {
  // The caller's latest message: the command, or the last answer to one of our questions.
  const seq = Atomics.load(ctrl, TO_WORKER);
  busy = false;
  try {
    send(parcel);
  } catch (err) {
    send(unsendable(parcel, err));
  }
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

/**
 * Writes a message for the caller into the shared area (or over the port when too
 * large), then its ported values, in the order the caller takes them. Serialized first:
 * a value JSON cannot hold throws here with nothing sent (and the output kept).
 */
function send(parcel: Parcel): void {
  const json = parcel.json as Record<string, Json>;
  if (output.length > 0) json.o = output;
  if (warnings.length > 0) json.w = warnings;
  if (parcel.ported.length > 0) json.pc = parcel.ported.length;
  let length: number | null;
  try {
    length = writeParcel(toMain, parcel);
  } catch (err) {
    delete json.o;
    delete json.w;
    throw err;
  }
  output = [];
  warnings = [];
  if (length === null) {
    port.postMessage({
      text: JSON.stringify(parcel.json),
      bins: parcel.bins.map((b) => b.slice()),
    });
  }
  postPorted(port, parcel.ported);
  Atomics.store(ctrl, LEN_TO_MAIN, length ?? -1);
}

/**
 * A reply that JSON could not hold (a value of a kind it has no form for, put into it
 * as it is): that one call fails with a TypeError, with the state it reported when that
 * can be sent; the worker carries on (its objects are everyone's).
 */
function unsendable(parcel: Parcel, err: unknown): Parcel {
  const why = err instanceof Error ? err.message : String(err);
  const out = failure(
    new TypeError(`httplib-ts/sync: the worker thread could not send a value back: ${why}`),
  );
  const st = (parcel.json as Record<string, Json>).st;
  if (st !== undefined && serializable(st)) (out.json as Record<string, Json>).st = st;
  return out;
}

function serializable(json: Json): boolean {
  try {
    JSON.stringify(json);
    return true;
  } catch {
    return false;
  }
}

/**
 * Asks the caller (blocked in its call, serving such questions) for something only it
 * has: the next piece of its iterable, or to run its connect(). Blocks this thread until
 * the answer.
 */
export function ask(question: Json | ((encoder: Encoder) => Json)): {
  value: unknown;
  error: boolean;
} {
  if (!busy) {
    // The command is over (replied): nobody is there to answer, and a question now would
    // be taken for the reply of the caller's next command.
    return {
      value: new Error('httplib-ts/sync: a body iterable was asked for after its call was over'),
      error: true,
    };
  }
  const seq = Atomics.load(ctrl, TO_WORKER);
  const encoder = new Encoder(refs);
  send(encoder.parcel({ cb: typeof question === 'function' ? question(encoder) : question }));
  Atomics.store(ctrl, TO_MAIN, seq);
  Atomics.notify(ctrl, TO_MAIN);
  while (Atomics.load(ctrl, TO_WORKER) === seq) Atomics.wait(ctrl, TO_WORKER, seq, 1000);
  const { json, bins } = readMessage();
  const answer = json as { v?: Json; e?: Json; pc?: number; q?: Json[] };
  const decoder = new Decoder(bins, takePorted(answer.pc ?? 0), null, false);
  // What the caller queued meanwhile (the attributes its connect() set before opening).
  for (const item of answer.q ?? []) applyQueued(item as unknown as QueuedItem, decoder);
  if (answer.e !== undefined) {
    const err = decoder.value(answer.e);
    const ref = (answer as { r?: number }).r;
    if (ref !== undefined && canHoldWeakly(err)) refs.set(err, ref);
    return { value: err, error: true };
  }
  return { value: decoder.value(answer.v ?? null), error: false };
}

/** An uncaught exception: the worker is not to be trusted any more; the caller is told. */
function fail(err: unknown): void {
  // The report first, then the state: a caller that wakes up (a slice of its wait ran out)
  // and sees FAILED reads the report at once, and found none ("failed: null").
  try {
    send(failure(err));
  } finally {
    Atomics.store(ctrl, STATE, FAILED);
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

async function run(cmd: Command, decoder: Decoder, ported: unknown[]): Promise<Parcel> {
  for (const item of cmd.q ?? []) applyQueued(item as unknown as QueuedItem, decoder);
  const encoder = new Encoder(refs);
  switch (cmd.c) {
    case 'ring':
      return encoder.parcel({
        v: await ringCommand(cmd as unknown as RingCommand, decoder, ported),
      });
    case 'new':
      return encoder.parcel(
        construct(
          cmd.cls as string,
          decoder.values(cmd.a ?? []),
          cmd.n as number | undefined,
          encoder,
        ),
      );
    case 'call':
      return settle(cmd.id as number, encoder, () =>
        callMethod(cmd.id as number, cmd.m as string, decoder.values(cmd.a ?? [])).then((value) =>
          result(value, cmd.id as number, encoder),
        ),
      );
    case 'read':
      return settle(cmd.id as number, encoder, () =>
        readValue(
          cmd.id as number,
          cmd.k as string,
          // Encoded as any value is (NaN, -0 and strings arrive as they were given).
          cmd.n === undefined ? undefined : (decoder.value(cmd.n) as number | null),
          (cmd.al as number | undefined) ?? 0,
          encoder,
        ),
      );
    case 'hook':
      return hook(cmd.h ?? '', encoder);
    case 'nop':
      return encoder.parcel({ v: null });
    default:
      throw new Error(`httplib-ts/sync worker: unknown command ${cmd.c}`);
  }
}

/**
 * A call's reply: its value, or its exception; either way with the state the caller
 * mirrors (the exception may have changed it: a failed request closes the connection).
 */
async function settle(id: number, encoder: Encoder, work: () => Promise<Json>): Promise<Parcel> {
  let value: Json;
  try {
    value = await work();
  } catch (err) {
    return encoder.parcel({ e: encoder.value(err), st: stateOf(id, encoder) });
  }
  return encoder.parcel({ v: value, st: stateOf(id, encoder) });
}

// ---------------------------------------------------------------------------------------
// Test hooks: a worker that throws, exits or stops answering, or a reply JSON cannot hold.

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
    case 'unsendable':
      // A reply with a value JSON has no form for, as a raw attribute once was.
      return Promise.resolve(encoder.parcel({ v: 10n as unknown as Json }));
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
