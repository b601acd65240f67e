/**
 * The wire format between the calling thread and the worker of `httplib-ts/sync`: values
 * (call arguments, results, exceptions) as tagged JSON, with their bytes as attachments
 * placed after the JSON in shared memory, or, when large, in a `SharedArrayBuffer` of
 * their own sent over a `MessagePort` (as are `Blob`s, which can be shared but not read
 * without an event loop).
 *
 * Values are rebuilt on the other side as the same kind of value, so that what the
 * worker's async client sees is what the caller passed: the same primitive types, typed
 * arrays of the same class, plain objects, `Map`s, and an object's string form (its own
 * `toString`) without its identity. Errors cross with their class (looked up among the
 * package's exports, or the built-in error classes), message, own properties and cause,
 * and come out as instances of the receiving side's classes: `instanceof` holds against
 * the main entry's classes. An error that came from the caller's own code (a failing
 * iterable) goes back to the caller as the very same object (`$ref`).
 *
 * This file only converts values; it does not wait, and it starts no thread.
 */
import * as httplib from '../index.ts';

/** Slots of the control block (an `Int32Array` over a `SharedArrayBuffer`). */
export const TO_WORKER = 0;
export const TO_MAIN = 1;
export const LEN_TO_WORKER = 2;
export const LEN_TO_MAIN = 3;
export const BEAT = 4;
export const STATE = 5;
export const CTRL_SLOTS = 6;

/** `STATE` values. */
export const STARTING = 0;
export const READY = 1;
/** The worker failed (its error is the message in the worker→caller area). */
export const FAILED = 2;
/** The worker's thread ended (`process.exit` in it, or its event loop emptied). */
export const EXITED = 3;

/** A JSON value, as it goes into shared memory. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Attachments of one message, and the values that go over the port. */
export interface Parcel {
  json: Json;
  bins: Uint8Array[];
  ported: unknown[];
}

/** Posts the ported values of a message (SharedArrayBuffers, Blobs), in order. */
export function postPorted(
  port: { postMessage(value: unknown): void },
  ported: readonly unknown[],
): void {
  for (const value of ported) port.postMessage(value);
}

/** Attachments larger than this get a SharedArrayBuffer of their own. */
export const PORT_THRESHOLD = 256 * 1024;

/** Error classes by the name they are exported under, and back (both threads alike). */
const ERROR_CLASSES = new Map<string, ErrorConstructor>();
const ERROR_NAMES = new Map<unknown, string>();
function registerErrors(scope: string, module: object): void {
  for (const [name, value] of Object.entries(module)) {
    if (typeof value !== 'function' || !(value.prototype instanceof Error)) continue;
    if (ERROR_NAMES.has(value)) continue;
    ERROR_CLASSES.set(scope + name, value as ErrorConstructor);
    ERROR_NAMES.set(value, scope + name);
  }
}
registerErrors('', httplib);
registerErrors('ssl.', httplib.ssl);
for (const builtin of [
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  AggregateError,
]) {
  ERROR_NAMES.set(builtin, `builtin.${builtin.name}`);
  ERROR_CLASSES.set(`builtin.${builtin.name}`, builtin as ErrorConstructor);
}

/** The registered class an error is an instance of (the nearest one up its prototype chain). */
function errorClassName(err: Error): string {
  for (
    let proto = Object.getPrototypeOf(err);
    proto !== null;
    proto = Object.getPrototypeOf(proto)
  ) {
    const name = ERROR_NAMES.get(proto.constructor);
    if (name !== undefined && proto.constructor.prototype === proto) return name;
  }
  return 'builtin.Error';
}

const TYPED_ARRAYS: Record<string, new (b: ArrayBuffer, o: number, n: number) => ArrayBufferView> =
  {
    Int8Array,
    Uint8Array,
    Uint8ClampedArray,
    Int16Array,
    Uint16Array,
    Int32Array,
    Uint32Array,
    Float32Array,
    Float64Array,
    BigInt64Array,
    BigUint64Array,
    DataView,
  };
// Node 24's Float16Array, where there is one.
const float16: unknown = (globalThis as Record<string, unknown>).Float16Array;
if (typeof float16 === 'function') {
  TYPED_ARRAYS.Float16Array = float16 as (typeof TYPED_ARRAYS)[string];
}

/**
 * The built-in class of a view (a subclass of Uint16Array is a Uint16Array), so that the
 * other side rebuilds what the main entry would judge: by its own name, a subclass became
 * a Uint8Array there, and a header value refused here was sent as bytes.
 */
function viewKind(view: ArrayBufferView): string {
  for (
    let proto = Object.getPrototypeOf(view);
    proto !== null;
    proto = Object.getPrototypeOf(proto)
  ) {
    const name = (proto.constructor as { name?: unknown } | undefined)?.name;
    if (typeof name === 'string' && TYPED_ARRAYS[name] === proto.constructor) return name;
  }
  return 'DataView';
}

/**
 * What can go to the other side and come back as the same value by reference (`$ref`):
 * objects, functions and symbols not in the global registry (those cross by their key).
 */
export function canHoldWeakly(v: unknown): v is WeakKey {
  if (typeof v === 'symbol') return Symbol.keyFor(v) === undefined;
  return (typeof v === 'object' && v !== null) || typeof v === 'function';
}

/**
 * Keeps `value`, thrown by the caller's code, in `kept` (a call's `CallScope.thrown`); the
 * id it crosses with (`r`), so that it comes back as itself (`$ref`), or null when it
 * cannot be held (a primitive crosses as itself anyway).
 */
export function keepThrown(kept: Map<number, unknown>, value: unknown): number | null {
  if (!canHoldWeakly(value)) return null;
  const ref = kept.size + 1;
  kept.set(ref, value);
  return ref;
}

/**
 * Turns values into tagged JSON plus attachments. `refs` names what the other side threw
 * (an error, a symbol, a function) and wants back as the same value. `kept` (the caller's,
 * for a call's arguments) keeps what the caller's own code threw while it was encoded (a
 * toString), so that the other side, throwing it again, sends that very value back.
 */
export class Encoder {
  readonly bins: Uint8Array[] = [];
  readonly ported: unknown[] = [];
  private readonly refs: WeakMap<WeakKey, number> | null;
  private readonly kept: (() => Map<number, unknown>) | null;

  constructor(
    refs: WeakMap<WeakKey, number> | null = null,
    kept: (() => Map<number, unknown>) | null = null,
  ) {
    this.refs = refs;
    this.kept = kept;
  }

  parcel(json: Json): Parcel {
    return { json, bins: this.bins, ported: this.ported };
  }

  /** Bytes as an attachment: inline, or in a SharedArrayBuffer of their own when large. */
  bytes(view: ArrayBufferView | ArrayBuffer | SharedArrayBuffer): Json {
    const u8 = ArrayBuffer.isView(view)
      ? new Uint8Array(view.buffer, view.byteOffset, view.byteLength)
      : new Uint8Array(view);
    if (u8.byteLength >= PORT_THRESHOLD) {
      const sab = new SharedArrayBuffer(u8.byteLength);
      new Uint8Array(sab).set(u8);
      this.ported.push(sab);
      return { $p: this.ported.length - 1 };
    }
    this.bins.push(u8);
    return { $b: this.bins.length - 1 };
  }

  /** `value()` of each argument, in order (a command's `a`). */
  values(list: readonly unknown[]): Json[] {
    return list.map((v) => this.value(v));
  }

  value(v: unknown): Json {
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return v;
      case 'number':
        return Number.isFinite(v) && !Object.is(v, -0)
          ? v
          : { $n: String(Object.is(v, -0) ? '-0' : v) };
      case 'undefined':
        return { $u: 1 };
      case 'bigint':
        return { $i: v.toString() };
      case 'symbol': {
        // A registered symbol is the same on both sides; another one only by reference.
        const key = Symbol.keyFor(v);
        if (key !== undefined) return { $sym: key, g: 1 };
        const ref = this.refs?.get(v);
        return ref !== undefined ? { $ref: ref } : { $sym: v.description ?? null };
      }
      case 'function': {
        const ref = this.refs?.get(v);
        return ref !== undefined ? { $ref: ref } : { $obj: 'Function', s: safeString(v) };
      }
      default:
        break;
    }
    if (v === null) return null;
    const o = v as object;
    const ref = this.refs?.get(o);
    if (ref !== undefined) return { $ref: ref };
    // A cycle (a self-signed certificate is its own issuer), or a structure too deep to
    // be data: what crosses is its class name.
    if (this.path.includes(o) || this.path.length > 64)
      return { $obj: constructorName(o), s: null };
    this.path.push(o);
    try {
      return this.object(o);
    } finally {
      this.path.pop();
    }
  }

  /** The objects being encoded, outermost first (to find cycles). */
  private readonly path: object[] = [];

  private object(o: object): Json {
    if (Array.isArray(o)) return { $a: o.map((x) => this.value(x)) };
    if (Buffer.isBuffer(o)) return { $buf: this.bytes(o) };
    if (ArrayBuffer.isView(o)) return { $view: this.bytes(o), t: viewKind(o) };
    if (o instanceof ArrayBuffer || o instanceof SharedArrayBuffer) {
      return { $ab: this.bytes(o), shared: o instanceof SharedArrayBuffer };
    }
    if (o instanceof Error) return this.error(o);
    if (o instanceof httplib.HTTPMessage) return { $msg: [...o.headers] };
    if (o instanceof Map) {
      return { $map: [...o].map(([k, x]) => [this.value(k), this.value(x)] as Json) };
    }
    if (o instanceof Blob) {
      this.ported.push(portable(o));
      return { $blob: this.ported.length - 1 };
    }
    const proto: unknown = Object.getPrototypeOf(o);
    if (proto === Object.prototype || proto === null) {
      const entries: Json[] = [];
      const form = stringForm(o);
      for (const key of Object.keys(o)) {
        // A string form of its own crosses as its result (`s`), not as a function.
        if (form !== null && (key === 'toString' || key === 'valueOf')) continue;
        entries.push([key, this.value((o as Record<string, unknown>)[key])]);
      }
      const out: Record<string, Json> = proto === null ? { $null: entries } : { $o: entries };
      return this.withStringForm(out, form);
    }
    // Any other object: its class name and its own string form (what String() makes of
    // it), which is all that a header value or a message needs of it.
    return this.withStringForm({ $obj: constructorName(o), s: null }, stringForm(o));
  }

  /**
   * `out` with what String() made of the object: its text (`s`), or what it threw (`x`),
   * which the other side's String() throws again, so that a header value whose toString
   * throws fails the call there as it does here (before: it went out as `undefined`); with
   * its id (`r`), it comes back as the very value thrown (before: a copy, not an instance
   * of the caller's class).
   */
  private withStringForm(out: Record<string, Json>, form: StringForm): Json {
    if (form === null) return out;
    if ('text' in form) out.s = form.text;
    else {
      out.x = this.value(form.thrown);
      const ref = this.kept === null ? null : keepThrown(this.kept(), form.thrown);
      if (ref !== null) out.r = ref;
    }
    return out;
  }

  /** An error: its class, message, stack, own properties (with their enumerability) and cause. */
  error(err: Error): Json {
    const props: Json[] = [];
    for (const key of Object.getOwnPropertyNames(err)) {
      if (key === 'stack') continue;
      const desc = Object.getOwnPropertyDescriptor(err, key);
      if (desc === undefined || !('value' in desc)) continue;
      props.push([key, this.value(desc.value), desc.enumerable === true]);
    }
    return {
      $err: errorClassName(err),
      props,
      stack: typeof err.stack === 'string' ? err.stack : null,
    };
  }
}

/** Rebuilds what an `Encoder` made, from the JSON, the attachments and the ported values. */
export class Decoder {
  private readonly bins: Uint8Array[];
  private readonly ported: readonly unknown[];
  private readonly refs: ReadonlyMap<number, unknown> | null;
  /** Rebuilds the values of tags this file does not know (the worker's request bodies). */
  extensions: Readonly<
    Record<string, (tagged: Record<string, Json>, decoder: Decoder) => unknown>
  > = {};

  private readonly copyPorted: boolean;
  /** Where values that crossed with an id (`r`) are noted, to go back by it (`Encoder.refs`). */
  private readonly remember: WeakMap<WeakKey, number> | null;

  constructor(
    bins: Uint8Array[],
    ported: readonly unknown[],
    refs: ReadonlyMap<number, unknown> | null,
    copyPorted: boolean,
    remember: WeakMap<WeakKey, number> | null = null,
  ) {
    this.bins = bins;
    this.ported = ported;
    this.refs = refs;
    this.copyPorted = copyPorted;
    this.remember = remember;
  }

  /**
   * The bytes of an attachment, copied out of the shared area (which the next message
   * overwrites). A large attachment came in a SharedArrayBuffer of its own: it is used as
   * it is unless `copyPorted` (values handed to the caller are never shared memory).
   */
  bytes(ref: Json): Uint8Array {
    const r = ref as { $b?: number; $p?: number };
    if (r.$p !== undefined) {
      const shared = new Uint8Array(this.ported[r.$p] as SharedArrayBuffer);
      return this.copyPorted ? shared.slice() : shared;
    }
    return (this.bins[r.$b as number] as Uint8Array).slice();
  }

  /** `value()` of each item, in order (a command's `a`). */
  values(list: readonly Json[]): unknown[] {
    return list.map((x) => this.value(x));
  }

  value(j: Json): unknown {
    if (j === null || typeof j !== 'object') return j;
    if (Array.isArray(j)) return j.map((x) => this.value(x));
    const o = j as Record<string, Json>;
    if ('$a' in o) return (o.$a as Json[]).map((x) => this.value(x));
    if ('$o' in o || '$null' in o) {
      const out: Record<string, unknown> = '$null' in o ? Object.create(null) : {};
      for (const [k, x] of (o.$o ?? o.$null) as Array<[string, Json]>) {
        // defineProperty: a key `__proto__` is an ordinary own key, as it was.
        Object.defineProperty(out, k, {
          value: this.value(x),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      const text = this.toStringOf(o);
      if (text !== null) {
        Object.defineProperty(out, 'toString', {
          value: text,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    if ('$u' in o) return undefined;
    if ('$n' in o) return o.$n === '-0' ? -0 : Number(o.$n);
    if ('$i' in o) return BigInt(o.$i as string);
    if ('$sym' in o) {
      if (o.g === 1) return Symbol.for(o.$sym as string);
      return Symbol(o.$sym === null ? undefined : (o.$sym as string));
    }
    if ('$buf' in o) {
      const b = this.bytes(o.$buf as Json);
      return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    }
    if ('$view' in o) {
      const b = this.bytes(o.$view as Json);
      const Ctor = TYPED_ARRAYS[o.t as string] ?? Uint8Array;
      const per =
        'BYTES_PER_ELEMENT' in Ctor
          ? (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT
          : 1;
      return new Ctor(
        b.buffer as ArrayBuffer,
        b.byteOffset,
        Ctor === DataView ? b.byteLength : b.byteLength / per,
      );
    }
    if ('$ab' in o) {
      const b = this.bytes(o.$ab as Json);
      const out =
        o.shared === true ? new SharedArrayBuffer(b.byteLength) : new ArrayBuffer(b.byteLength);
      new Uint8Array(out).set(b);
      return out;
    }
    if ('$msg' in o) return new httplib.HTTPMessage(o.$msg as string[]);
    if ('$map' in o) {
      return new Map(
        (o.$map as Array<[Json, Json]>).map(([k, x]) => [this.value(k), this.value(x)]),
      );
    }
    if ('$blob' in o) return this.ported[o.$blob as number];
    if ('$ref' in o) {
      const found = this.refs?.get(o.$ref as number);
      return found ?? new Error('httplib-ts/sync: an error object went missing between threads');
    }
    if ('$err' in o) return this.error(o);
    if ('$obj' in o) return standIn(o.$obj as string, this.toStringOf(o));
    for (const tag of Object.keys(o)) {
      const rebuild = this.extensions[tag];
      if (rebuild !== undefined) return rebuild(o, this);
    }
    throw new TypeError(`httplib-ts/sync: unknown value tag ${Object.keys(o).join()}`);
  }

  /** The `toString` that gives the crossed text (`s`) or throws the crossed error (`x`). */
  private toStringOf(o: Record<string, Json>): (() => string) | null {
    if (typeof o.s === 'string') {
      const text = o.s;
      return () => text;
    }
    if (!('x' in o)) return null;
    const thrown = this.value(o.x as Json);
    if (typeof o.r === 'number' && canHoldWeakly(thrown)) this.remember?.set(thrown, o.r);
    return () => {
      throw thrown;
    };
  }

  private error(o: Record<string, Json>): Error {
    const Ctor = ERROR_CLASSES.get(o.$err as string) ?? Error;
    const err = Object.create(Ctor.prototype) as Error;
    for (const [key, value, enumerable] of o.props as Array<[string, Json, boolean]>) {
      Object.defineProperty(err, key, {
        value: this.value(value),
        enumerable,
        writable: true,
        configurable: true,
      });
    }
    Object.defineProperty(err, 'stack', {
      value: o.stack,
      enumerable: false,
      writable: true,
      configurable: true,
    });
    return err;
  }
}

/**
 * An object's own enumerable fields that are data (primitives, arrays, bytes, plain
 * objects), encoded; fields holding objects of a class (a cache such as an SSL context's
 * TLS sessions, a Map, a function) are what a thread keeps for itself and are left out.
 * How SSL contexts cross.
 */
export function ownFields(obj: object, encoder: Encoder): Json {
  const out: Json[] = [];
  for (const [key, value] of Object.entries(obj)) {
    if (!isData(value)) continue;
    out.push([key, encoder.value(value)]);
  }
  return out;
}

function isData(value: unknown): boolean {
  if (typeof value === 'function') return false;
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return true;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Sets the fields `ownFields` gave on `target`. */
export function setFields(target: object, fields: Json, decoder: Decoder): void {
  for (const [key, value] of fields as Array<[string, Json]>) {
    (target as Record<string, unknown>)[key] = decoder.value(value);
  }
}

function constructorName(o: object): string {
  const ctor: unknown = Object.getPrototypeOf(o)?.constructor;
  return typeof ctor === 'function' && ctor.name !== '' ? ctor.name : 'Object';
}

/** What String() makes of an object: its text, or what it threw. */
type StringForm = { readonly text: string } | { readonly thrown: unknown } | null;

/** `o`'s own string form (null: it has none, only Object.prototype's). */
function stringForm(o: object): StringForm {
  const own = (o as { toString?: unknown }).toString;
  if (own === Object.prototype.toString && !(Symbol.toPrimitive in o)) return null;
  try {
    return { text: String(o) };
  } catch (err) {
    return { thrown: err };
  }
}

/**
 * `blob`, which the port can hand to the worker; a file-backed Blob (`fs.openAsBlob`) is
 * refused with a TypeError of our own, while nothing is sent. Node cannot clone one (its
 * file is this thread's), and cannot read it without this thread's event loop: posted, it
 * threw Node's internal 'File-backed Blobs are not cloneable' from the call, or, as the
 * answer to the worker's question for an item, left the worker waiting for an answer that
 * the next command was then taken for. (A Blob cut or made from one cannot be told from
 * others: Node does not mark it.)
 */
function portable(blob: Blob): Blob {
  try {
    structuredClone(blob);
  } catch (cause) {
    throw Object.assign(
      new TypeError(
        'httplib-ts/sync cannot send a file-backed Blob (fs.openAsBlob): Node cannot hand it to ' +
          'the worker thread that sends the body, nor read it while this thread is blocked. Send ' +
          'the file itself (fs.createReadStream(path), or a file descriptor), its bytes, or use ' +
          'the async API',
        { cause },
      ),
      { code: 'ERR_HTTPLIB_SYNC_FILE_BLOB' },
    );
  }
  return blob;
}

function safeString(v: unknown): string | null {
  try {
    return String(v);
  } catch {
    return null;
  }
}

/**
 * Stands in for an object of class `name` that could not cross: an instance of a class
 * of that name, whose `toString` gives what the original's gave (or, without a string
 * form of its own, Object.prototype's).
 */
function standIn(name: string, text: (() => string) | null): object {
  if (name === 'Function') {
    const fn = function standInFunction(): void {};
    if (text !== null) fn.toString = text;
    return fn;
  }
  const Ctor = { [name]: class {} }[name] as new () => object;
  const obj = new Ctor();
  if (text !== null) {
    Object.defineProperty(Ctor.prototype, 'toString', {
      value: text,
      writable: true,
      configurable: true,
    });
  }
  return obj;
}

// ---------------------------------------------------------------------------------------
// A message in a shared area: `[sizes of the attachments, json]` as JSON (UTF-8), then
// the attachments, back to back from the next multiple of 8.

/** Writes `parcel` into `area`; returns its length in bytes, or null if it does not fit. */
export function writeParcel(area: Buffer, parcel: Parcel): number | null {
  const sizes = parcel.bins.map((b) => b.byteLength);
  const text = JSON.stringify(sizes.length === 0 ? [parcel.json] : [parcel.json, sizes]);
  let binLength = 0;
  for (const size of sizes) binLength += size;
  // A UTF-8 string takes at most 3 bytes per UTF-16 unit: count exactly only when close.
  if (text.length * 3 + 8 + binLength > area.length) {
    if (align(Buffer.byteLength(text)) + binLength > area.length) return null;
  }
  const n = area.write(text, 0, 'utf8');
  let pos = align(n);
  for (const b of parcel.bins) {
    area.set(b, pos);
    pos += b.byteLength;
  }
  return n;
}

/** Reads a message written by `writeParcel`: the JSON and views of its attachments (not copies). */
export function readParcel(area: Buffer, length: number): { json: Json; bins: Uint8Array[] } {
  const [json, sizes] = JSON.parse(area.toString('utf8', 0, length)) as [Json, number[]?];
  const bins: Uint8Array[] = [];
  if (sizes !== undefined) {
    let pos = area.byteOffset + align(length);
    for (const size of sizes) {
      bins.push(new Uint8Array(area.buffer, pos, size));
      pos += size;
    }
  }
  return { json, bins };
}

function align(n: number): number {
  return (n + 7) & ~7;
}
