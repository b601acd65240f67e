/**
 * Making the worker's object of a blocking connection (connection.ts, legacy.ts): the
 * constructor and its arguments (a recipe, kept to make it again in a new worker), and
 * the caller's SSL context, whose fields go to the worker under an id both threads share.
 */
import { contextFields } from '../client/tls-verify.ts';
import type * as httplib from '../index.ts';
import { enqueue, exclusive, transact } from './channel.ts';
import { type ConnectionState, settle } from './remote.ts';
import { type Decoder, Encoder, type Json, ownFields } from './wire.ts';

/** Ids for the caller's SSL contexts, shared with the worker. */
export const contextIds = new WeakMap<httplib.ssl.SSLContext, number>();
let nextContextId = 1;

/** How to make the worker's object again: a constructor and its arguments. */
export interface Recipe {
  readonly cls: string;
  readonly args: unknown[];
  readonly context: httplib.ssl.SSLContext | null;
}

/** What a `new` command returns, applied by the twin's constructor (or by legacy.ts). */
export interface Created {
  readonly id: number;
  readonly conn: number | undefined;
  readonly state: ConnectionState;
  readonly attributes: Json;
  readonly context: Json;
  /** The id of the SSL context (HTTPS), shared with the worker. */
  readonly contextId: number | undefined;
  /** The caller's context, which takes the worker's context's fields. */
  readonly given?: httplib.ssl.SSLContext | null;
  readonly decoder: Decoder;
}

/** Makes the worker's object for `recipe` (a `ctx` item first carries the SSL context). */
export function create(recipe: Recipe): Created {
  const encoder = new Encoder();
  const command: Record<string, Json> = {
    c: 'new',
    cls: recipe.cls,
    a: encoder.values(recipe.args),
  };
  const https = recipe.cls === 'HTTPSConnection' || recipe.cls === 'HTTPS';
  const contextId = !https
    ? undefined
    : recipe.context !== null
      ? sendContext(recipe.context)
      : nextContextId++;
  if (contextId !== undefined) command.n = contextId;
  // One blocking call (a constructor made from inside another call is refused).
  const reply = exclusive(() => transact(command, encoder, null));
  settle(reply);
  const j = reply.json;
  return {
    id: j.v as number,
    conn: j.conn as number | undefined,
    state: j.st as unknown as ConnectionState,
    attributes: j.at ?? [],
    context: j.ctx ?? null,
    contextId,
    given: recipe.context,
    decoder: reply.decoder,
  };
}

/** Queue the caller's SSL context for the worker; returns its id. */
export function sendContext(context: httplib.ssl.SSLContext): number {
  let id = contextIds.get(context);
  if (id === undefined) {
    id = nextContextId++;
    contextIds.set(context, id);
  }
  const contextId = id;
  enqueue((encoder) => ({
    c: 'ctx',
    id: contextId,
    a: ownFields(contextFields(context), encoder),
  }));
  return id;
}

/**
 * legacy.ts passes this as the host to make the connection twin of an existing worker
 * object (the connection inside a legacy `HTTP`).
 */
export const BIND: unique symbol = Symbol('httplib-ts/sync bind');

/** What legacy.ts passes as the options with `BIND`. */
export interface Bound {
  /** The worker's connection (`id`: the connection's). */
  readonly created: Created;
  /** Makes the legacy object again in a new worker; what it returns, for its connection. */
  readonly remake: () => Created;
}
