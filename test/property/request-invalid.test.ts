/**
 * Property (issue 6, item 2c, second half): random invalid input to every request-side
 * entry point is refused synchronously, with `InvalidURL` or `TypeError`, and nothing
 * reaches the server (a raw TCP server counts connections: it must see none).
 *
 * Entry points: the constructor's host and port, `putrequest` (method, url),
 * `putheader` (name, values, coerced values), `request()` (method, url, headers as an
 * object, a Map or pairs, values coerced from numbers, bytes and objects), and
 * `set_tunnel` (host, port, headers). Bad input is a valid string with one bad piece
 * inserted at a random place: CR, LF, NUL, other controls, DEL, SP, separators,
 * code points that latin1 would truncate to CR/LF (CVE-2018-12116), and code points
 * above 0xFF.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { HTTPConnection } from '../../src/client/http-connection.ts';
import { InvalidURL } from '../../src/protocol/errors.ts';
import { checkAsync } from './config.ts';
import { tokenArb } from './response-model.ts';

const FILE = 'test/property/request-invalid.test.ts';

/** Bad in every context below. */
const CONTROLS = ['\r', '\n', '\r\n', '\0', '\x01', '\x1f', '\r\nX-Injected: 1\r\n'];
/** Latin1 would turn these into CR LF: they must be refused before encoding. */
const WIDE = ['\u010d\u010a', '\u0100', '\u20ac', '\ud83d\ude00', '\ud800'];
const SEPARATORS = [
  '(',
  ')',
  ',',
  '/',
  ':',
  ';',
  '<',
  '=',
  '>',
  '?',
  '@',
  '[',
  '\\',
  ']',
  '{',
  '}',
  '"',
];

/** `base` with `bad` inserted at a random place. */
function inserted(base: fc.Arbitrary<string>, bad: readonly string[]): fc.Arbitrary<string> {
  return fc.tuple(base, fc.nat(), fc.constantFrom(...bad)).map(([s, at, b]) => {
    const i = at % (s.length + 1);
    return s.slice(0, i) + b + s.slice(i);
  });
}

const badMethod = fc.oneof(
  fc.constant(''),
  inserted(tokenArb, [...CONTROLS, ...WIDE, ...SEPARATORS, ' ', '\t', '\x7f', '\xe9']),
);
const goodPath = fc
  .string({ unit: fc.constantFrom(...'abc/?=&%.-_~'.split('')), maxLength: 12 })
  .map((p) => `/${p}`);
const badPath = inserted(goodPath, [...CONTROLS, ...WIDE, ' ', '\t', '\x7f', '\x80', '\xff']);
const badName = fc.oneof(
  fc.constant(''),
  inserted(tokenArb, [...CONTROLS, ...WIDE, ...SEPARATORS, ' ', '\t', '\x7f', '\xe9']),
);
const goodValue = fc.string({ unit: fc.constantFrom(...'abc xyz-=;,'.split('')), maxLength: 12 });
// Never a bare '\r\n' in the middle: before a space it starts a legal fold.
const badValueText = fc.oneof(
  inserted(goodValue, ['\0', '\r', '\n', '\r\nX', '\r\nX-Injected: 1', '\rx', '\n ', ...WIDE]),
  goodValue.map((v) => `${v}\r\n`),
);
/** A bad value as given: a string, or something whose coercion yields a bad string. */
const badValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: badValueText },
  badValueText.filter((t) => !/[\u0100-\uffff]/.test(t)).map((t) => Buffer.from(t, 'latin1')),
  badValueText.map((t) => ({ toString: () => t })),
);
const badHost = fc.oneof(
  inserted(fc.constantFrom('example.com', 'h', '127.0.0.1'), [
    '\r',
    '\n',
    '\0',
    ' ',
    '\t',
    '\x7f',
    '\x01',
  ]),
  fc.constantFrom('h:8x', 'h:+80', 'h: 80', 'h:99999', 'h:-1', 'h:0x50'),
);
const badPort = fc.constantFrom(-1, 65536, 1.5, Number.NaN, Number.POSITIVE_INFINITY);

type HeadersForm = 'pairs' | 'object' | 'map';
function headers(form: HeadersForm, pairs: Array<[string, unknown]>): unknown {
  if (form === 'map') return new Map(pairs);
  if (form === 'object') return Object.fromEntries(pairs);
  return pairs;
}
const formArb = fc.constantFrom<HeadersForm>('pairs', 'object', 'map');
const goodPair = fc.tuple(tokenArb, goodValue);

/** One invalid call: what it does to a fresh connection. */
type Call = { readonly label: string; readonly run: (conn: HTTPConnection) => unknown };

function callArb(port: number): fc.Arbitrary<Call> {
  return fc
    .oneof(
      badHost.map((h) => ({
        label: `new HTTPConnection(${JSON.stringify(h)})`,
        run: () => new HTTPConnection(h),
      })),
      badPort.map((p) => ({
        label: `new HTTPConnection(h, ${p})`,
        run: () => new HTTPConnection('127.0.0.1', p),
      })),
      fc.tuple(badMethod, goodPath).map(([m, u]) => ({
        label: `putrequest(${JSON.stringify(m)})`,
        run: (c: HTTPConnection) => c.putrequest(m, u),
      })),
      badPath.map((u) => ({
        label: `putrequest(GET, ${JSON.stringify(u)})`,
        run: (c: HTTPConnection) => c.putrequest('GET', u),
      })),
      fc.tuple(badName, goodValue).map(([n, v]) => ({
        label: `putheader(${JSON.stringify(n)})`,
        run: (c: HTTPConnection) => {
          c.putrequest('GET', '/');
          return c.putheader(n, v);
        },
      })),
      fc
        .tuple(tokenArb, fc.array(goodValue, { maxLength: 2 }), badValue, fc.nat())
        .map(([n, vs, bad, at]) => ({
          label: `putheader(${n}, …${String(bad)})`,
          run: (c: HTTPConnection) => {
            c.putrequest('GET', '/');
            const values: unknown[] = [...vs];
            values.splice(at % (values.length + 1), 0, bad);
            return c.putheader(n, ...(values as never[]));
          },
        })),
      fc.tuple(badMethod, goodPath).map(([m, u]) => ({
        label: `request(${JSON.stringify(m)})`,
        run: (c: HTTPConnection) => c.request(m, u),
      })),
      badPath.map((u) => ({
        label: `request(GET, ${JSON.stringify(u)})`,
        run: (c: HTTPConnection) => c.request('GET', u, 'body'),
      })),
      fc
        .tuple(
          fc.array(goodPair, { maxLength: 3 }),
          fc.oneof(fc.tuple(badName, goodValue), fc.tuple(tokenArb, badValue)),
          fc.nat(),
          formArb,
        )
        .map(([good, bad, at, form]) => ({
          label: `request(GET, /, headers ${form} with ${JSON.stringify(String(bad[0]))}: ${JSON.stringify(String(bad[1]))})`,
          run: (c: HTTPConnection) => {
            const pairs: Array<[string, unknown]> = [...good];
            pairs.splice(at % (pairs.length + 1), 0, bad);
            return c.request('POST', '/', 'x', headers(form, pairs) as never);
          },
        })),
      badHost.map((h) => ({
        label: `set_tunnel(${JSON.stringify(h)})`,
        run: (c: HTTPConnection) => c.set_tunnel(h),
      })),
      badPort.map((p) => ({
        label: `set_tunnel(h, ${p})`,
        run: (c: HTTPConnection) => c.set_tunnel('example.com', p),
      })),
      fc
        .tuple(fc.oneof(fc.tuple(badName, goodValue), fc.tuple(tokenArb, badValue)), formArb)
        .map(([bad, form]) => ({
          label: `set_tunnel(h, 443, ${form} with ${JSON.stringify(String(bad[0]))}: ${JSON.stringify(String(bad[1]))})`,
          run: (c: HTTPConnection) =>
            c.set_tunnel('example.com', 443, headers(form, [bad]) as never),
        })),
    )
    .map((call) => ({ ...call, label: `${call.label} [port ${port}]` }));
}

describe('property: invalid request input is refused before a byte is sent', () => {
  let server: net.Server;
  let port = 0;
  let connections = 0;
  before(async () => {
    server = net.createServer((socket) => {
      connections++;
      socket.on('error', () => {});
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('InvalidURL or TypeError, thrown synchronously, and no connection', async () => {
    await checkAsync(
      FILE,
      fc.asyncProperty(
        // Built here, not at load time: the port is known once before() has run.
        callArb(port),
        async (call) => {
          const conn = new HTTPConnection('127.0.0.1', port, { timeout: 2 });
          let threw: unknown = null;
          let returned: unknown;
          try {
            returned = call.run(conn);
          } catch (err) {
            threw = err;
          }
          if (returned instanceof Promise) returned.catch(() => {});
          try {
            assert.ok(threw !== null, `${call.label}: did not throw synchronously`);
            assert.ok(
              threw instanceof InvalidURL || threw instanceof TypeError,
              `${call.label}: threw ${String(threw)}`,
            );
            assert.equal(conn.sock, null, `${call.label}: a socket was opened`);
          } finally {
            conn.close();
          }
          await new Promise((resolve) => setImmediate(resolve));
          assert.equal(connections, 0, `${call.label}: the server saw a connection`);
        },
      ),
      6000,
    );
    // The server does count: one valid request reaches it.
    const conn = new HTTPConnection('127.0.0.1', port, { timeout: 2 });
    await conn.request('GET', '/').catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 50));
    conn.close();
    assert.equal(connections, 1);
  });
});
