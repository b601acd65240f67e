/**
 * The types of `httplib-ts/sync`, derived from the main entry's: every method that returns
 * a `Promise<T>` returns `T`, an `AsyncIterable` becomes an `Iterable`, the package's
 * classes in signatures become their blocking twins, and `signal` options (nothing could
 * fire while the thread is blocked) are gone. Nothing here is written a second time by
 * hand: a change to the async classes changes these types with it. The connection
 * classes' own declarations (connection.ts, legacy.ts), which are their public types so
 * that subclasses can override methods, are checked to be exactly these (`Differing`).
 *
 * Types only: this file emits no JavaScript.
 */
import type { ReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type * as httplib from '../index.ts';
import type {
  HTTPConnection as SyncHTTPConnection,
  HTTPSConnection as SyncHTTPSConnection,
} from './connection.ts';
import type { HTTP as SyncHTTP, HTTPS as SyncHTTPS } from './legacy.ts';

/**
 * Members of the async classes that are public in TypeScript but `@internal` (hooks
 * between the package's own classes): the blocking classes do not have them.
 */
export type InternalMember = 'begin' | 'readHeadOnly' | 'applyHead' | 'takeOwnership';

/** What the blocking `sock` attribute gives: where the worker's socket is connected. */
export interface SocketInfo {
  /** The local address of the worker's socket. */
  readonly localAddress: string | null;
  /** The local port of the worker's socket. */
  readonly localPort: number | null;
  /** The server's (or the proxy's) address. */
  readonly remoteAddress: string | null;
  /** The server's (or the proxy's) port. */
  readonly remotePort: number | null;
}

/**
 * One of the package's classes as its blocking twin; any other type as it is. The
 * connection classes' twins are classes (connection.ts, legacy.ts), not `Blocking<…>`: a
 * mapped type's members are properties, and TypeScript refuses a subclass's method over a
 * property (TS2425), so `override connect(): void { super.connect(); … }`, Python's way to
 * set socket options, would not compile. sync.ts checks that their members are exactly
 * `Blocking<…>`'s (`Differing`). Users cannot subclass the response: it is mapped.
 */
export type ClassTwin<V> = V extends httplib.HTTPSConnection
  ? SyncHTTPSConnection
  : V extends httplib.HTTPConnection
    ? SyncHTTPConnection
    : V extends httplib.HTTPResponse
      ? Blocking<httplib.HTTPResponse>
      : V extends httplib.HTTPS
        ? SyncHTTPS
        : V extends httplib.HTTP
          ? SyncHTTP
          : V;

/**
 * A value of the async API (a result, an attribute) as the blocking API gives it: the
 * package's classes as their twins, async iterators and iterables as synchronous ones.
 */
export type Twin<V> =
  V extends AsyncIterator<infer U>
    ? Iterator<U>
    : V extends AsyncIterable<infer U>
      ? V extends httplib.HTTPResponse
        ? ClassTwin<V>
        : Iterable<U>
      : ClassTwin<V>;

/**
 * The type of `signal` in the blocking API's options: no `AbortSignal` has it, so
 * passing one does not compile, and the compiler's message names it ("Property
 * ''httplib-ts/sync takes no signal: use timeout'' is missing in type 'AbortSignal'").
 */
export interface SignalRefused {
  /** Never present: nothing can abort a call while its thread is blocked. */
  readonly 'httplib-ts/sync takes no signal: use timeout': never;
}

/**
 * An options parameter without `signal` (refused by the blocking API: a `signal` other
 * than `undefined` does not compile, even where no other option is left); other
 * parameters as they are.
 */
export type NoSignal<P> = P extends object
  ? 'signal' extends keyof P
    ? Omit<P, 'signal'> & {
        /** Refused: nothing can abort a call while its thread is blocked (use `timeout`). */
        readonly signal?: SignalRefused | undefined;
      }
    : P
  : P;

/**
 * A parameter of a blocking method: a request body is the blocking API's
 * {@link RequestBody} (one that cannot be null, `send()`'s, its `NonNullable`), options
 * lose `signal`, the package's classes are their twins.
 */
export type Param<P> = httplib.RequestBody extends P
  ? RequestBody | Exclude<P, httplib.RequestBody>
  : NonNullable<httplib.RequestBody> extends P
    ? NonNullable<RequestBody> | Exclude<P, httplib.RequestBody>
    : ClassTwin<NoSignal<P>>;
/** The parameters of a blocking method: see {@link Param}. */
export type Params<A extends unknown[]> = { [I in keyof A]: Param<A[I]> };

/** A method of the async API, blocking: its promise's value, returned. */
export type BlockingMethod<F> = F extends (...args: infer A) => infer R
  ? (...args: Params<A>) => Twin<Awaited<R>>
  : F;

/**
 * `request()`, blocking. Written out: the main entry's is generic in the type of its
 * headers (so that an object typed by an interface is accepted), and {@link BlockingMethod}
 * would lose that (the compiler reads a generic method's parameters without it).
 */
export type BlockingRequest = <H extends httplib.HeadersInput<H>>(
  method: string,
  url: string,
  body?: RequestBody,
  headers?: H | null,
  options?: RequestOptions,
) => void;

/** Whether two types are each assignable to the other. */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** Whether a method must change: it returns a promise, or something holding the package's classes. */
export type Changes<F> = F extends (...args: never[]) => infer R
  ? [R] extends [PromiseLike<unknown>]
    ? true
    : Same<R, Twin<R>> extends true
      ? false
      : true
  : false;

/**
 * The blocking twin of an instance type of the async API: same members, with methods
 * returning promises blocking instead, `[Symbol.asyncIterator]` turned into
 * `[Symbol.iterator]`, and attributes holding the package's classes holding their twins.
 * Methods that need no change keep their exact signature (overloads included).
 */
export type Blocking<T> = {
  [K in keyof T as K extends InternalMember
    ? never
    : K extends typeof Symbol.asyncIterator
      ? typeof Symbol.iterator
      : K]: K extends 'sock'
    ? SocketInfo | null
    : K extends 'request'
      ? BlockingRequest
      : T[K] extends (...args: never[]) => unknown
        ? Changes<T[K]> extends true
          ? BlockingMethod<T[K]>
          : T[K]
        : Twin<T[K]>;
};

/**
 * A constructor parameter of the blocking classes: options without `signal` and without
 * `createConnection` (a function cannot cross threads), the package's classes as their twins.
 */
export type CtorParam<P> = P extends httplib.HTTPConnection
  ? Twin<P>
  : P extends object
    ? Omit<P, 'signal' | 'createConnection'>
    : P;
/** The constructor parameters of a blocking class: see {@link CtorParam}. */
export type CtorParams<A extends unknown[]> = { [I in keyof A]: CtorParam<A[I]> };

/**
 * The blocking twin of a class of the async API: its statics, and a constructor of the twin
 * instances. (`& unknown[]`: TypeScript before 5.4 does not see that the mapped parameters
 * are an array, and refuses the packed declarations with TS2370.)
 */
export type BlockingClass<C extends abstract new (...args: never[]) => unknown> = Omit<
  C,
  'prototype'
> & {
  new (...args: CtorParams<ConstructorParameters<C>> & unknown[]): Blocking<InstanceType<C>>;
  /** The blocking instances' prototype. */
  readonly prototype: Blocking<InstanceType<C>>;
};

/**
 * The blocking twin of a class users cannot construct (the main entry's `HTTPResponse`
 * has a private constructor): `instanceof` works, `new` does not typecheck.
 */
export type UnconstructibleClass<T> = (abstract new () => Blocking<T>) & {
  /** The blocking instances' prototype. */
  readonly prototype: Blocking<T>;
};

/**
 * The request bodies of the blocking API: the main entry's, less those only an event
 * loop can read (async iterables, `Readable`s other than `fs.ReadStream`), plus file
 * descriptors.
 */
export type RequestBody =
  | Exclude<httplib.RequestBody, AsyncIterable<unknown>>
  | ReadStream
  | FileHandle
  | number;

/** Options of the blocking `HTTPConnection`: the main entry's, without `signal` and `createConnection`. */
export type HTTPConnectionOptions = CtorParam<httplib.HTTPConnectionOptions>;
/** Options of the blocking `HTTPSConnection`: the main entry's, without `signal` and `createConnection`. */
export type HTTPSConnectionOptions = CtorParam<httplib.HTTPSConnectionOptions>;
/** Options of `request()` and `endheaders()`: the main entry's, without `signal`. */
export type RequestOptions = NoSignal<httplib.RequestOptions>;
/** Options of `getresponse()`: the main entry's, without `signal`. */
export type GetResponseOptions = NoSignal<httplib.GetResponseOptions>;
/** Options of a read: the main entry's, without `signal`. */
export type ReadOptions = NoSignal<httplib.ReadOptions>;

/** Whether `A` and `B` are the same type (identical: not only assignable each way). */
export type Exactly<A, B> =
  (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;

/** The names of the readonly members of `T` (getters without a setter included). */
export type ReadonlyKeys<T> = {
  [K in keyof T]-?: Exactly<{ [Q in K]: T[K] }, { -readonly [Q in K]: T[K] }> extends true
    ? never
    : K;
}[keyof T];

/**
 * The names of the members by which `C`, the instances of a blocking class, differ from
 * {@link Blocking}`<M>`, the main entry's `M` turned blocking: one has it and the other not,
 * their types are not identical (a method's parameter wider or narrower, a generic one
 * that is not: mere assignability would let a method's parameters differ), or one is
 * readonly and the other not. `never` when there is none.
 */
export type Differing<C, M> = {
  [K in keyof C | keyof Blocking<M>]: K extends keyof C
    ? K extends keyof Blocking<M>
      ? Exactly<Member<C, K>, Member<Blocking<M>, K>> extends true
        ? never
        : K
      : K
    : K;
}[keyof C | keyof Blocking<M>];

/** Member `K` of `T` as {@link Differing} compares it: its type, and whether it is readonly. */
export type Member<T, K extends keyof T> = [T[K], K extends ReadonlyKeys<T> ? 1 : 0];

/**
 * How the blocking class `C` differs from the main entry's `M` turned blocking
 * ({@link BlockingClass}): `'constructor'` when its constructor's parameters differ, and
 * the names of the statics one has and the other not, or of another type. `never` when
 * there is none.
 */
export type DifferingClass<
  C extends abstract new (
    ...args: never[]
  ) => unknown,
  M extends abstract new (
    ...args: never[]
  ) => unknown,
> =
  | (Exactly<ConstructorParameters<C>, CtorParams<ConstructorParameters<M>>> extends true
      ? never
      : 'constructor')
  | {
      [K in Exclude<keyof C | keyof M, 'prototype'>]: K extends keyof C
        ? K extends keyof M
          ? Exactly<C[K], M[K]> extends true
            ? never
            : K
          : K
        : K;
    }[Exclude<keyof C | keyof M, 'prototype'>];
