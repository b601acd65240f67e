/**
 * Client sessions against a scripted server (servers.ts), for the tests of how a
 * response is read and when its connection must be dropped (framing, stricter-rules):
 *
 * - `withSession(replies, fn)`: a connection to a `scriptedServer(replies)`, closed with
 *   its responses and the server afterwards (through `guarded`);
 * - `breaksConnection(first, run)`: `run` provokes and checks an error on the first
 *   connection, which must then be dropped; the next request must go on a new one;
 * - `headFails(s, cls, check)`: `getresponse()` rejects with `cls`;
 * - `expectNext(s, n)`: `GET /next` gets its own answer (`NEXT`) on connection `n`.
 */
import assert from 'node:assert/strict';
import type * as net from 'node:net';
import { HTTPConnection, type HTTPConnectionOptions, type HTTPResponse } from '../../src/index.ts';
import { guarded, peerClosed, type RawServer, type Reply, scriptedServer } from './servers.ts';

/** The answer to the request that follows a scenario (always `GET /next`). */
export const NEXT = 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext';

export interface Session {
  readonly conn: HTTPConnection;
  readonly srv: RawServer;
  /** `request()` then `getresponse()`; the response is closed when the test ends. */
  get(url?: string, method?: string): Promise<HTTPResponse>;
  /** Close `r` too when the test ends; returns it. */
  keep(r: HTTPResponse): HTTPResponse;
}

/** Run `fn` against a scripted server (`replies[i]` for connection `i`), then clean up. */
export async function withSession(
  replies: Reply[][],
  fn: (s: Session) => Promise<void>,
  options: HTTPConnectionOptions = {},
): Promise<void> {
  const srv = await scriptedServer(replies);
  const conn = new HTTPConnection('127.0.0.1', srv.port, options);
  const responses: HTTPResponse[] = [];
  const session: Session = {
    conn,
    srv,
    async get(url = '/', method = 'GET') {
      await conn.request(method, url);
      return session.keep(await conn.getresponse());
    },
    keep(r) {
      responses.push(r);
      return r;
    },
  };
  await guarded(
    async () => {
      for (const r of responses) r.close();
      conn.close();
      await srv.close();
    },
    () => fn(session),
  );
}

/**
 * `GET /next` is answered correctly, and it went out as the first request of
 * connection number `connections` (1-based) when it is a new one.
 */
export async function expectNext(s: Session, connections: number): Promise<void> {
  const before = s.srv.sockets.length;
  const r = await s.get('/next');
  assert.equal(r.status, 200);
  assert.equal((await r.read()).toString(), 'next');
  assert.equal(s.srv.sockets.length, connections, 'connections opened');
  const sent = (s.srv.received[connections - 1] as Buffer).toString('latin1');
  assert.match(sent, /GET \/next HTTP\/1\.1\r\n/, 'the request went on the expected connection');
  if (connections > before) assert.match(sent, /^GET \/next /, 'a new connection for it');
}

/**
 * A scenario that must break the connection: `run` provokes (and checks) the error,
 * then the connection must be dropped (no `sock`, the server sees it closed) and the
 * next request must open a new connection and get its own response.
 */
export async function breaksConnection(
  first: Reply[],
  run: (s: Session) => Promise<void>,
  options: HTTPConnectionOptions = {},
): Promise<void> {
  await withSession(
    [first, [NEXT]],
    async (s) => {
      await run(s);
      assert.equal(s.conn.sock, null, 'the broken connection is dropped');
      await peerClosed(s.srv.sockets[0] as net.Socket);
      await expectNext(s, 2);
    },
    options,
  );
}

/** `getresponse()` must reject with `cls` (checked further by `check`). */
export async function headFails(
  s: Session,
  cls: new (...args: never[]) => Error,
  check: (err: Error) => void = () => {},
): Promise<void> {
  await s.conn.request('GET', '/');
  await assert.rejects(s.conn.getresponse(), (err: unknown) => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
    check(err);
    return true;
  });
}
