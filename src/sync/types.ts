/**
 * The types of `httplib-ts/sync`, derived from the main entry's: every method that returns
 * a `Promise<T>` returns `T`, an `AsyncIterable` becomes an `Iterable`, the package's
 * classes in signatures become their blocking twins, and `signal` options (nothing could
 * fire while the thread is blocked) are gone. Nothing here is written a second time by
 * hand: a change to the async classes changes these types with it.
 *
 * Types only: this file emits no JavaScript.
 */
import type { ReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type * as httplib from '../index.ts';

/**
 * Members of the async classes that are public in TypeScript but `@internal` (hooks
 * between the package's own classes): the blocking classes do not have them.
 */
type InternalMember = 'begin' | 'readHeadOnly' | 'applyHead' | 'takeOwnership';

/** What the blocking `sock` attribute gives: where the worker's socket is connected. */
export interface SocketInfo {
  readonly localAddress: string | null;
  readonly localPort: number | null;
  readonly remoteAddress: string | null;
  readonly remotePort: number | null;
}

/** A value of the async API as the blocking API gives it. */
export type Twin<V> = V extends httplib.HTTPSConnection
  ? HTTPSConnection
  : V extends httplib.HTTPConnection
    ? HTTPConnection
    : V extends httplib.HTTPResponse
      ? HTTPResponse
      : V extends httplib.HTTPS
        ? HTTPS
        : V extends httplib.HTTP
          ? HTTP
          : V extends AsyncIterator<infer U>
            ? Iterator<U>
            : V extends AsyncIterable<infer U>
              ? Iterable<U>
              : V;

/** An options parameter without `signal` (refused by the blocking API); other parameters as they are. */
type NoSignal<P> = P extends object ? ('signal' extends keyof P ? Omit<P, 'signal'> : P) : P;
type Params<A extends unknown[]> = { [I in keyof A]: Twin<NoSignal<A[I]>> };

/** A method of the async API, blocking: its promise's value, returned. */
type BlockingMethod<F> = F extends (...args: infer A) => infer R
  ? (...args: Params<A>) => Twin<Awaited<R>>
  : F;

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** Whether a method must change: it returns a promise, or something holding the package's classes. */
type Changes<F> = F extends (...args: never[]) => infer R
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
type CtorParam<P> = P extends httplib.HTTPConnection
  ? Twin<P>
  : P extends object
    ? Omit<P, 'signal' | 'createConnection'>
    : P;
type CtorParams<A extends unknown[]> = { [I in keyof A]: CtorParam<A[I]> };

/** The blocking twin of a class of the async API: its statics, and a constructor of the twin instances. */
export type BlockingClass<C extends abstract new (...args: never[]) => unknown> = Omit<
  C,
  'prototype'
> & {
  new (...args: CtorParams<ConstructorParameters<C>>): Blocking<InstanceType<C>>;
  readonly prototype: Blocking<InstanceType<C>>;
};

export type HTTPConnection = Blocking<httplib.HTTPConnection>;
export type HTTPSConnection = Blocking<httplib.HTTPSConnection>;
export type HTTPResponse = Blocking<httplib.HTTPResponse>;
export type HTTP = Blocking<httplib.HTTP>;
export type HTTPS = Blocking<httplib.HTTPS>;

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

export type HTTPConnectionOptions = CtorParams<[httplib.HTTPConnectionOptions]>[0];
export type HTTPSConnectionOptions = CtorParams<[httplib.HTTPSConnectionOptions]>[0];
export type RequestOptions = NoSignal<httplib.RequestOptions>;
export type GetResponseOptions = NoSignal<httplib.GetResponseOptions>;
export type ReadOptions = NoSignal<httplib.ReadOptions>;
