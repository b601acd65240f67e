/**
 * API.md: "a header value that is `undefined`, `null` or an object with no string form of
 * its own is refused with a `TypeError`" (issue 16), on every path a header value takes:
 * `request()`'s headers as a plain object, a `Map`, pairs and a generator; `putheader`
 * (one value, several); `set_tunnel`'s headers; `HTTPSConnection`; the legacy `HTTP` and
 * `HTTPS` classes. Each refusal names the header, and nothing reaches the server: a
 * correct request afterwards must be the only one the server ever saw. Before this rule,
 * `{ Authorization: maybeToken }` sent `Authorization: undefined` and `{ X: {} }` sent
 * `X: [object Object]`.
 *
 * The values a header may be (strings, numbers, bigints, bytes; from JavaScript also
 * booleans and objects with a `toString` of their own) are sent as their text.
 */
import assert from 'node:assert/strict';
import type * as http from 'node:http';
import { describe } from 'node:test';
import { HTTP, HTTPConnection, HTTPS, HTTPSConnection } from '../../src/index.ts';
import { httpServer, timeLimited } from './servers.ts';

const { it } = timeLimited(30_000);

/** The refused values, and how the message names each. */
const REFUSED: ReadonlyArray<readonly [string, unknown, RegExp]> = [
  ['undefined', undefined, /: undefined; /],
  ['null', null, /: null; /],
  ['a plain object', { name: 'Obj' }, /: an object with no string form of its own \(Object\); /],
  ['an empty object', {}, /: an object with no string form of its own \(Object\); /],
  ['an array', ['a', 'b'], /: an array \(/],
  // Before: sent as their numbers joined ('65,66'); a DataView was refused as an object.
  ['a Uint16Array', new Uint16Array([65, 66]), /: a Uint16Array, not bytes \(/],
  ['an Int8Array', new Int8Array([65]), /: an Int8Array, not bytes \(/],
  ['a Float64Array', new Float64Array([1.5]), /: a Float64Array, not bytes \(/],
  ['a DataView', new DataView(new ArrayBuffer(2)), /: a DataView, not bytes \(/],
];

/** The message of every refusal, for header `name`. */
function message(name: string, what: RegExp): RegExp {
  return new RegExp(
    `^Invalid value for header '${name}'${what.source}.*a header value is a string, a number, a bigint or bytes$`,
  );
}

/** A `request()` headers argument of each shape, holding a good header then `name: value`. */
const SHAPES: ReadonlyArray<readonly [string, (name: string, value: unknown) => never]> = [
  ['a plain object', (n, v) => ({ 'X-Ok': 'fine', [n]: v }) as never],
  [
    'a Map',
    (n, v) =>
      new Map<string, unknown>([
        ['X-Ok', 'fine'],
        [n, v],
      ]) as never,
  ],
  [
    'pairs',
    (n, v) =>
      [
        ['X-Ok', 'fine'],
        [n, v],
      ] as never,
  ],
  [
    'a generator',
    (n, v) =>
      (function* () {
        yield ['X-Ok', 'fine'];
        yield [n, v];
      })() as never,
  ],
];

/** `fn` (sync or async) fails with a TypeError whose message matches `pattern`. */
async function refused(fn: () => unknown, pattern: RegExp, what: string): Promise<void> {
  await assert.rejects(
    async () => fn(),
    (err: unknown) => {
      assert.ok(err instanceof TypeError, `${what}: expected a TypeError, got ${String(err)}`);
      assert.match(err.message, pattern, what);
      return true;
    },
  );
}

/** A node:http server recording each request's method, URL and raw headers. */
async function recordingServer() {
  const seen: Array<{ url: string; headers: string[] }> = [];
  const srv = await httpServer((req: http.IncomingMessage, res: http.ServerResponse) => {
    seen.push({ url: req.url ?? '', headers: req.rawHeaders });
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  return { srv, seen };
}

describe('header values that are not values: TypeError before anything is sent', () => {
  it('request(): every headers shape, every refused value; the connection stays usable', async () => {
    const { srv, seen } = await recordingServer();
    try {
      const conn = new HTTPConnection('127.0.0.1', srv.port, { timeout: 10 });
      for (const [shape, build] of SHAPES) {
        for (const [label, value, what] of REFUSED) {
          await refused(
            () => conn.request('GET', '/refused', null, build('Authorization', value)),
            message('Authorization', what),
            `${label} in ${shape}`,
          );
        }
      }
      // Nothing was sent, and the same connection sends the next request as usual.
      await conn.request('GET', '/after', null, { Authorization: 'Bearer t' });
      const r = await conn.getresponse();
      assert.equal((await r.read()).toString(), 'ok');
      conn.close();
      assert.deepEqual(
        seen.map((s) => s.url),
        ['/after'],
      );
      assert.equal(srv.connectionCount(), 1);
    } finally {
      await srv.close();
    }
  });

  it('putheader(): alone or among other values, on HTTPConnection, HTTPSConnection, HTTP and HTTPS; the request goes on without it', async () => {
    const { srv, seen } = await recordingServer();
    try {
      const conns = [
        new HTTPConnection('127.0.0.1', srv.port, { timeout: 10 }),
        new HTTPSConnection('127.0.0.1', srv.port, { timeout: 10 }),
        new HTTP('127.0.0.1', srv.port),
        new HTTPS('127.0.0.1', srv.port),
      ];
      for (const conn of conns) {
        conn.putrequest('GET', '/put');
        for (const [label, value, what] of REFUSED) {
          await refused(
            () => conn.putheader('X-Token', value as never),
            message('X-Token', what),
            `${conn.constructor.name}: ${label}`,
          );
          await refused(
            () => conn.putheader('X-Token', 'first', value as never),
            message('X-Token', what),
            `${conn.constructor.name}: ${label} after a good value`,
          );
        }
        conn.close();
      }
      // Python's putheader leaves the request open after a refused value: finish one.
      const conn = conns[0] as HTTPConnection;
      conn.putrequest('GET', '/finished');
      assert.throws(() => conn.putheader('X-Token', undefined as never), TypeError);
      conn.putheader('X-Token', 'good');
      await conn.endheaders();
      const r = await conn.getresponse();
      assert.equal((await r.read()).toString(), 'ok');
      conn.close();
      assert.deepEqual(seen, [
        {
          url: '/finished',
          headers: [
            'Host',
            `127.0.0.1:${srv.port}`,
            'Accept-Encoding',
            'identity',
            'X-Token',
            'good',
          ],
        },
      ]);
      assert.equal(srv.connectionCount(), 1);
    } finally {
      await srv.close();
    }
  });

  it('set_tunnel(): a refused tunnel header throws there, and the tunnel is not set', async () => {
    const { srv } = await recordingServer();
    try {
      for (const [label, value, what] of REFUSED) {
        for (const [shape, build] of SHAPES) {
          const conn = new HTTPSConnection('127.0.0.1', srv.port);
          await refused(
            () => conn.set_tunnel('origin.test', 443, build('Proxy-Authorization', value)),
            message('Proxy-Authorization', what),
            `${label} in ${shape}`,
          );
          assert.equal((conn as unknown as { _tunnel_host: unknown })._tunnel_host, null);
          conn.close();
        }
      }
      assert.equal(srv.connectionCount(), 0);
    } finally {
      await srv.close();
    }
  });

  it('a header name that is undefined or null is refused too (not sent as "undefined")', async () => {
    const { srv } = await recordingServer();
    try {
      const conn = new HTTPConnection('127.0.0.1', srv.port);
      conn.putrequest('GET', '/');
      for (const name of [undefined, null, {}]) {
        assert.throws(
          () => conn.putheader(name as never, 'v'),
          (err: unknown) => err instanceof TypeError && /^Invalid header name: /.test(err.message),
        );
      }
      conn.close();
      assert.equal(srv.connectionCount(), 0);
    } finally {
      await srv.close();
    }
  });
});

describe('header values that are values: sent as their text', () => {
  it('strings, numbers, bigints and bytes (and, from JavaScript, booleans and objects with their own toString)', async () => {
    const { srv, seen } = await recordingServer();
    try {
      const conn = new HTTPConnection('127.0.0.1', srv.port, { timeout: 10 });
      await conn.request('GET', '/typed', null, {
        'X-String': 'text',
        'X-Number': 42,
        'X-Float': 1.5,
        'X-Bigint': 2n ** 70n,
        'X-Bytes': Buffer.from('caf\xe9', 'latin1'),
        'X-Uint8Array': new Uint8Array([0x61, 0x62]),
        'X-Clamped': new Uint8ClampedArray([0x63, 0x64]) as never,
      });
      await (await conn.getresponse()).read();
      conn.putrequest('GET', '/loose');
      conn.putheader('X-Bool', true as never);
      conn.putheader('X-Url', new URL('http://example.test/p') as never);
      conn.putheader('Content-Length', 0);
      await conn.endheaders();
      await (await conn.getresponse()).read();
      conn.close();
      const typed = seen[0]?.headers ?? [];
      assert.deepEqual(typed.slice(4), [
        'X-String',
        'text',
        'X-Number',
        '42',
        'X-Float',
        '1.5',
        'X-Bigint',
        '1180591620717411303424',
        'X-Bytes',
        'caf\xe9',
        'X-Uint8Array',
        'ab',
        'X-Clamped',
        'cd',
      ]);
      const loose = seen[1]?.headers ?? [];
      assert.deepEqual(loose.slice(4, 8), ['X-Bool', 'true', 'X-Url', 'http://example.test/p']);
    } finally {
      await srv.close();
    }
  });
});
