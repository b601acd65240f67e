/**
 * The audit of shared/API.md's "Where this package is deliberately stricter than CPython
 * 2.7" (issue 6, item 1; shared/reference/security.md §7 items 1–14): one named test per
 * rule, through the real client over real sockets on 127.0.0.1.
 *
 * Request side: every entry path a caller can put bytes into a request head through —
 * the constructor's host (HTTPConnection, HTTPSConnection, HTTP, HTTPS), the `host`
 * attribute set later, the legacy `HTTP.connect(host)`, the URL and the method of
 * `putrequest` and `request`, header names and values given to `putheader`, to `request`
 * as a plain object, a Map, pairs or a generator, and as coerced non-strings (objects
 * whose `toString`/`Symbol.toPrimitive` return CR/LF, Buffers, arrays), the tunnel host
 * and the tunnel headers — refuses CR, LF, NUL and the code points above 0xFF that the
 * latin1 encoder would truncate into CR/LF (U+010D U+010A, CVE-2018-12116), synchronously,
 * with the class API.md names, before anything is sent: afterwards the server must have
 * seen exactly one connection, the sentinel request's, holding only its bytes.
 *
 * Response side: the rules no other file holds yet are tested here (chunk sizes and
 * lengths past 2^53 - 1, the interim-response caps, unassigned 1xx codes); for the rules
 * that framing, keep-alive and hostile-servers already test, a test checks that the
 * named test is still there, so that this file stays the complete list.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import { describe } from 'node:test';
import { domainToASCII } from 'node:url';
import {
  BodyLengthMismatch,
  HTTP,
  HTTPConnection,
  type HTTPConnectionOptions,
  HTTPException,
  HTTPS,
  HTTPSConnection,
  IncompleteRead,
  InvalidURL,
} from '../../src/index.ts';
import { failOnEscapes, guarded, type RawServer, scriptedServer, timeLimited } from './servers.ts';
import { breaksConnection, headFails, NEXT, withSession } from './sessions.ts';

const HOST = '127.0.0.1';
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
const CONNECTED = 'HTTP/1.0 200 Connection established\r\n\r\n';

const { it } = timeLimited(30_000);

/** The connections of `withSession` and `breaksConnection`: a hang fails in 10 s. */
const TIMED: HTTPConnectionOptions = { timeout: 10 };

/** Run `fn` with a server answering every request with `OK`; close it afterwards. */
async function withServer(fn: (srv: RawServer) => Promise<void> | void): Promise<void> {
  const srv = await scriptedServer([OK, OK, OK, OK]);
  await guarded(
    () => srv.close(),
    async () => fn(srv),
  );
}

/**
 * Nothing reached the server: a correct request on a new connection (the sentinel)
 * must be the server's only connection (after `before` connections that must have
 * received nothing) and hold only its own bytes. A connect started
 * by a refused call would have been accepted first, and TCP keeps order within one.
 */
async function onlySentinel(srv: RawServer, before = 0): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 20));
  const conn = new HTTPConnection(HOST, srv.port, { timeout: 10 });
  try {
    await conn.request('GET', '/sentinel');
    const r = await conn.getresponse();
    assert.equal((await r.read()).toString(), 'ok');
  } finally {
    conn.close();
  }
  assert.equal(srv.sockets.length, before + 1, 'one connection only: the sentinel request');
  for (const bytes of srv.received.slice(0, before)) assert.equal(bytes.length, 0);
  assert.equal(
    (srv.received[before] as Buffer).toString('latin1'),
    `GET /sentinel HTTP/1.1\r\nHost: ${HOST}:${srv.port}\r\nAccept-Encoding: identity\r\n\r\n`,
  );
}

type ErrorClass = new (...args: never[]) => Error;

/**
 * A promise method refuses: `fn` does not throw, it returns a promise that rejects with
 * `cls` (API.md: promise methods never throw).
 */
async function rejects(fn: () => Promise<unknown>, cls: ErrorClass, what: string): Promise<void> {
  let pending: Promise<unknown>;
  try {
    pending = fn();
  } catch (err) {
    assert.fail(`${what}: threw synchronously (${String(err)}) instead of rejecting`);
  }
  await assert.rejects(pending, (err: unknown) => {
    assert.ok(err instanceof cls, `${what}: expected ${cls.name}, got ${String(err)}`);
    return true;
  });
}

/** `fn` throws `cls` synchronously (not a rejected promise). */
function refuses(fn: () => unknown, cls: ErrorClass, what: string): void {
  let result: unknown;
  try {
    result = fn();
  } catch (err) {
    assert.ok(err instanceof cls, `${what}: expected ${cls.name}, got ${String(err)}`);
    return;
  }
  assert.fail(`${what}: no synchronous ${cls.name} (returned ${String(result)})`);
}

/** `request(method, url)` rejects with `cls`, `putrequest(method, url)` of HTTPConnection and HTTP throws it. */
async function refusesRequestLine(
  srv: RawServer,
  method: string,
  url: string,
  cls: ErrorClass,
  what: string,
): Promise<void> {
  const conn = new HTTPConnection(HOST, srv.port);
  await rejects(() => conn.request(method, url), cls, `request ${what}`);
  conn.close();
  refuses(() => conn.putrequest(method, url), cls, `putrequest ${what}`);
  conn.close();
  const h = new HTTP(HOST, srv.port);
  refuses(() => h.putrequest(method, url), cls, `HTTP.putrequest ${what}`);
  h.close();
}

/**
 * What an attacker appends: CR/LF in every form, NUL, and code points above 0xFF whose
 * low bytes are CR and LF (the latin1 encoder would write them as `\r\n`).
 */
const INJECTIONS: ReadonlyArray<readonly [string, string]> = [
  ['CRLF', '\r\nX-Injected: 1'],
  ['LF', '\nX-Injected: 1'],
  ['CR', '\rX-Injected: 1'],
  ['NUL', '\x00'],
  ['U+010D U+010A', '\u010d\u010aX-Injected: 1'],
];

/** The injections but the last: in a host, code points above 0xFF are IDNA-encoded. */
const HOST_INJECTIONS = INJECTIONS.filter(([label]) => label !== 'U+010D U+010A');

/** Every way a header value reaches `request()` or `putheader` as a non-string. */
const COERCED: ReadonlyArray<readonly [string, (text: string) => unknown]> = [
  ['a string', (t) => t],
  ['an object whose toString returns it', (t) => ({ toString: () => t })],
  ['an object whose Symbol.toPrimitive returns it', (t) => ({ [Symbol.toPrimitive]: () => t })],
  ['a String object', (t) => new String(t)],
  ['an array holding it', (t) => [t]],
  ['a Buffer of its latin1 bytes', (t) => Buffer.from(t, 'latin1')],
  ['a Uint8Array of its latin1 bytes', (t) => new Uint8Array(Buffer.from(t, 'latin1'))],
];

/** Every shape of `request()`'s headers, holding one `[name, value]`. */
const CONTAINERS: ReadonlyArray<readonly [string, (name: string, value: unknown) => unknown]> = [
  ['a plain object', (n, v) => ({ 'X-Ok': 'fine', [n]: v })],
  ['a null-prototype object', (n, v) => Object.assign(Object.create(null), { [n]: v })],
  [
    'a Map',
    (n, v) =>
      new Map<string, unknown>([
        ['X-Ok', 'fine'],
        [n, v],
      ]),
  ],
  [
    'pairs',
    (n, v) => [
      ['X-Ok', 'fine'],
      [n, v],
    ],
  ],
  [
    'a generator of pairs',
    (n, v) =>
      (function* () {
        yield ['X-Ok', 'fine'] as const;
        yield [n, v] as const;
      })(),
  ],
];

/** Names that are not RFC 9110 tokens. */
const BAD_NAMES: readonly string[] = [
  'X-A\r\nX-Injected',
  'X-A\n',
  'X\rA',
  'X\x00A',
  'X A',
  'X:A',
  '',
  'X-\u010d\u010a',
  'Ü',
];

describe('STRICTER, request side: refused before a byte is sent (sync methods throw, promise methods reject)', () => {
  describe('the host', () => {
    it('constructor host with CR/LF/NUL/SP/DEL/TAB → InvalidURL (HTTPConnection, HTTPSConnection, HTTP, HTTPS)', () => {
      const hosts = [
        ...HOST_INJECTIONS.map(([, p]) => `${HOST}${p}`),
        'exa mple.com',
        'host\x7f',
        'a\tb',
        '127.0.0.1:80\r\n',
        '[::1\r\n]',
      ];
      for (const host of hosts) {
        const what = JSON.stringify(host);
        refuses(() => new HTTPConnection(host), InvalidURL, `HTTPConnection(${what})`);
        refuses(() => new HTTPSConnection(host), InvalidURL, `HTTPSConnection(${what})`);
        refuses(() => new HTTP(host), InvalidURL, `HTTP(${what})`);
        refuses(() => new HTTPS(host), InvalidURL, `HTTPS(${what})`);
      }
    });

    it('legacy HTTP.connect(host) with CR/LF/NUL → InvalidURL, no lookup, no connection', async () => {
      await withServer(async (srv) => {
        for (const [label, payload] of HOST_INJECTIONS) {
          const h = new HTTP();
          await rejects(() => h.connect(`${HOST}${payload}`, srv.port), InvalidURL, label);
          await rejects(() => h.connect(`${HOST}${payload}:${srv.port}`), InvalidURL, label);
          h.close();
        }
        await onlySentinel(srv);
      });
    });

    it('the host attribute set after construction with CR/LF → request() throws InvalidURL, nothing sent', async () => {
      await withServer(async (srv) => {
        for (const [label, payload] of HOST_INJECTIONS) {
          const conn = new HTTPConnection(HOST, srv.port);
          conn.host = `${HOST}${payload}`;
          await rejects(() => conn.request('GET', '/'), InvalidURL, label);
          conn.close();
        }
        await onlySentinel(srv);
      });
    });

    it('the port or host attribute changed on a kept-alive connection: request() rejects with TypeError, nothing more on the open socket', async () => {
      await withServer(async (srv) => {
        const conn = new HTTPConnection(HOST, srv.port, { timeout: 10 });
        try {
          await conn.request('GET', '/first');
          assert.equal((await (await conn.getresponse()).read()).toString(), 'ok');
          // Python sends the automatic Host line through putheader, which refuses CR/LF;
          // before, a port set on a kept-alive socket went out verbatim in `Host:`.
          for (const [attr, value, message] of [
            ['port', `81\r\nX-Injected: yes`, /^port must be an integer 0-65535, got '81\\r\\nX/],
            ['port', 'abc', /^port must be an integer 0-65535, got 'abc'$/],
            ['port', -5, /^port must be an integer 0-65535, got -5$/],
            ['port', 1.5, /^port must be an integer 0-65535, got 1.5$/],
            ['port', 99999, /^port must be an integer 0-65535, got 99999$/],
            ['host', 123, /^host must be a string, got 123$/],
            ['host', null, /^host must be a string, got null$/],
          ] as const) {
            const saved = conn[attr];
            (conn as unknown as Record<string, unknown>)[attr] = value;
            await assert.rejects(conn.request('GET', '/second'), (err: unknown) => {
              assert.ok(err instanceof TypeError, String(err));
              assert.match(err.message, message);
              return true;
            });
            (conn as unknown as Record<string, unknown>)[attr] = saved;
          }
          await conn.request('GET', '/third');
          assert.equal((await (await conn.getresponse()).read()).toString(), 'ok');
        } finally {
          conn.close();
        }
        assert.equal(srv.sockets.length, 1, 'one connection, kept alive');
        assert.deepEqual(
          [...(srv.received[0] as Buffer).toString('latin1').matchAll(/^GET (\S+)/gm)].map(
            (m) => m[1],
          ),
          ['/first', '/third'],
        );
      });
    });

    it('a host with code points above 0xFF is sent IDNA-encoded, never as truncated latin1, or refused by request() with TypeError', async () => {
      await withServer(async (srv) => {
        const route: HTTPConnectionOptions['createConnection'] = () => net.connect(srv.port, HOST);
        const host = 'ex\u010d\u010aample.test';
        const conn = new HTTPConnection(host, 8080, { createConnection: route });
        await conn.request('GET', '/idna');
        const r = await conn.getresponse();
        assert.equal((await r.read()).toString(), 'ok');
        conn.close();
        const sent = (srv.received[0] as Buffer).toString('latin1');
        assert.equal(sent.split('\r\n')[1], `Host: ${domainToASCII(host)}:8080`);
        assert.match(sent.split('\r\n')[1] as string, /^Host: xn--[a-z0-9-]+\.test:8080$/);
        // Hosts that IDNA cannot encode: request() refuses them before connecting.
        for (const bad of ['a\u2028b.test', 'a\u0085b.test', '\ud800.test']) {
          const c = new HTTPConnection(bad, 8080, { createConnection: route });
          await rejects(() => c.request('GET', '/'), TypeError, JSON.stringify(bad));
          c.close();
        }
        assert.equal(srv.sockets.length, 1, 'no connection for the refused hosts');
      });
    });
  });

  describe('the URL and the method', () => {
    it('a URL with CR/LF/NUL/SP/DEL or a code point above 0xFF → InvalidURL from putrequest and request (HTTPConnection, HTTP)', async () => {
      await withServer(async (srv) => {
        const urls = [...INJECTIONS.map(([, p]) => `/a${p}`), '/a b', '/\x7f', '/\u0100', '/😀'];
        for (const url of urls) {
          await refusesRequestLine(srv, 'GET', url, InvalidURL, JSON.stringify(url));
        }
        await onlySentinel(srv);
      });
    });

    it('a method that is not an RFC 9110 token → TypeError from putrequest and request (HTTPConnection, HTTP)', async () => {
      await withServer(async (srv) => {
        const methods = [
          ...INJECTIONS.map(([, p]) => `GET${p}`),
          'GET /evil HTTP/1.1\r\nX:',
          'GE T',
          '',
          'G(ET',
          'GÉT',
          'G\u0100T',
        ];
        for (const method of methods) {
          await refusesRequestLine(srv, method, '/', TypeError, JSON.stringify(method));
        }
        await onlySentinel(srv);
      });
    });
  });

  describe('header names and values', () => {
    it('putheader: a value with NUL or CR/LF not in a fold, as a string or coerced → TypeError (HTTPConnection, HTTP)', async () => {
      await withServer(async (srv) => {
        const conn = new HTTPConnection(HOST, srv.port);
        const h = new HTTP(HOST, srv.port);
        conn.putrequest('GET', '/');
        h.putrequest('GET', '/');
        for (const [label, payload] of INJECTIONS) {
          for (const [how, make] of COERCED) {
            const what = `${label} in ${how}`;
            refuses(() => conn.putheader('X-A', make(`a${payload}`) as never), TypeError, what);
            refuses(
              () => conn.putheader('X-A', 'fine', make(`a${payload}`) as never),
              TypeError,
              what,
            );
            refuses(
              () => h.putheader('X-A', make(`a${payload}`) as never),
              TypeError,
              `HTTP: ${what}`,
            );
          }
        }
        // A value ending in a bare CR or LF, or a fold without its CR.
        for (const value of ['a\r', 'a\n', 'a\r\n', 'a\n b', 'a\r b']) {
          refuses(() => conn.putheader('X-A', value), TypeError, JSON.stringify(value));
        }
        conn.close();
        h.close();
        await onlySentinel(srv);
      });
    });

    it('putheader: a name that is not a token, as a string or coerced → TypeError', async () => {
      await withServer(async (srv) => {
        const conn = new HTTPConnection(HOST, srv.port);
        conn.putrequest('GET', '/');
        for (const name of BAD_NAMES) {
          for (const [how, make] of COERCED) {
            if (name === '' && how === 'an array holding it') continue; // [''] is ''
            refuses(
              () => conn.putheader(make(name) as string, 'v'),
              TypeError,
              `${JSON.stringify(name)} as ${how}`,
            );
          }
        }
        conn.close();
        await onlySentinel(srv);
      });
    });

    for (const [container, build] of CONTAINERS) {
      it(`request() headers as ${container}: a value with NUL or CR/LF, as a string or coerced → TypeError`, async () => {
        await withServer(async (srv) => {
          const conn = new HTTPConnection(HOST, srv.port);
          for (const [label, payload] of INJECTIONS) {
            for (const [how, make] of COERCED) {
              await rejects(
                () => conn.request('GET', '/', null, build('X-A', make(`a${payload}`)) as never),
                TypeError,
                `${label} in ${how}`,
              );
            }
          }
          conn.close();
          await onlySentinel(srv);
        });
      });

      it(`request() headers as ${container}: a name that is not a token → TypeError`, async () => {
        await withServer(async (srv) => {
          const conn = new HTTPConnection(HOST, srv.port);
          for (const name of BAD_NAMES) {
            await rejects(
              () => conn.request('GET', '/', null, build(name, 'v') as never),
              TypeError,
              JSON.stringify(name),
            );
          }
          conn.close();
          await onlySentinel(srv);
        });
      });
    }

    it('request() headers: a name that is not a string (Map key, pair) → TypeError', async () => {
      await withServer(async (srv) => {
        const conn = new HTTPConnection(HOST, srv.port);
        const evilName = { toString: () => 'X\r\nX-Injected' };
        await rejects(
          () => conn.request('GET', '/', null, new Map([[evilName, 'v']]) as never),
          TypeError,
          'Map',
        );
        await rejects(
          () => conn.request('GET', '/', null, [[evilName, 'v']] as never),
          TypeError,
          'pairs',
        );
        await rejects(
          () => conn.request('GET', '/', null, [['X-A']] as never),
          TypeError,
          'short pair',
        );
        await rejects(
          () => conn.request('GET', '/', null, 'X-A: v' as never),
          TypeError,
          'a string',
        );
        conn.close();
        await onlySentinel(srv);
      });
    });

    it('a fold (CRLF + SP/HT) is the only CR/LF a value may hold, and it is sent as given', async () => {
      await withServer(async (srv) => {
        const conn = new HTTPConnection(HOST, srv.port);
        await conn.request('GET', '/', null, [
          ['X-Fold', 'a\r\n b'],
          ['X-Tab', 'c\r\n\td'],
          ['X-High', 'caf\u00e9 \u00ff'],
        ]);
        await (await conn.getresponse()).read();
        conn.close();
        assert.match(
          (srv.received[0] as Buffer).toString('latin1'),
          /\r\nX-Fold: a\r\n b\r\nX-Tab: c\r\n\td\r\nX-High: caf\xe9 \xff\r\n\r\n$/,
        );
      });
    });
  });

  describe('the tunnel', () => {
    it('set_tunnel host with CR/LF/NUL → InvalidURL; the proxy sees no connection (HTTPConnection, HTTPSConnection)', async () => {
      await withServer(async (srv) => {
        for (const make of [
          () => new HTTPConnection(HOST, srv.port),
          () => new HTTPSConnection(HOST, srv.port),
        ]) {
          for (const [label, payload] of HOST_INJECTIONS) {
            const conn = make();
            refuses(() => conn.set_tunnel(`localhost${payload}`, 443), InvalidURL, label);
            refuses(() => conn.set_tunnel(`localhost${payload}:443`), InvalidURL, label);
            // No tunnel was set: nothing to connect through.
            assert.equal((conn as unknown as { _tunnel_host: string | null })._tunnel_host, null);
            conn.close();
          }
        }
        await onlySentinel(srv);
      });
    });

    for (const [container, build] of CONTAINERS) {
      it(`set_tunnel headers as ${container}: a bad name, or a value with NUL or CR/LF (string or coerced) → TypeError; the proxy sees no connection`, async () => {
        await withServer(async (srv) => {
          for (const conn of [
            new HTTPConnection(HOST, srv.port),
            new HTTPSConnection(HOST, srv.port),
          ]) {
            for (const [label, payload] of INJECTIONS) {
              for (const [how, make] of COERCED) {
                refuses(
                  () =>
                    conn.set_tunnel(
                      'localhost',
                      443,
                      build('Proxy-Authorization', make(`Basic x${payload}`)) as never,
                    ),
                  TypeError,
                  `${label} in ${how}`,
                );
              }
            }
            for (const name of BAD_NAMES) {
              refuses(
                () => conn.set_tunnel('localhost', 443, build(name, 'v') as never),
                TypeError,
                JSON.stringify(name),
              );
            }
            conn.close();
          }
          await onlySentinel(srv);
        });
      });
    }

    it('set_tunnel headers are read and converted once: a generator is not found empty at connect, a changing toString is not converted again', async () => {
      const replies = [
        [CONNECTED, OK],
        [CONNECTED, OK],
      ];
      await withSession(
        replies,
        async ({ conn: gen, srv }) => {
          gen.set_tunnel(
            'origin.test',
            8080,
            (function* () {
              yield ['Proxy-Authorization', 'Basic dXNlcjpwdw=='] as const;
            })(),
          );
          await gen.request('GET', '/gen');
          assert.equal((await (await gen.getresponse()).read()).toString(), 'ok');
          gen.close();

          let calls = 0;
          const turning = { toString: () => (++calls === 1 ? 'harmless' : 'a\r\nX-Injected: 1') };
          const conn = new HTTPConnection(HOST, srv.port, { timeout: 10 });
          conn.set_tunnel('origin.test', 8080, { 'X-Note': turning as never });
          await conn.request('GET', '/turning');
          assert.equal((await (await conn.getresponse()).read()).toString(), 'ok');
          conn.close();
          assert.equal(calls, 1);

          assert.match(
            (srv.received[0] as Buffer).toString('latin1'),
            /^CONNECT origin\.test:8080 HTTP\/1\.0\r\nProxy-Authorization: Basic dXNlcjpwdw==\r\n\r\nGET \/gen /,
          );
          assert.match(
            (srv.received[1] as Buffer).toString('latin1'),
            /^CONNECT origin\.test:8080 HTTP\/1\.0\r\nX-Note: harmless\r\n\r\nGET \/turning /,
          );
        },
        TIMED,
      );
    });

    it('a tunnel host with code points above 0xFF goes IDNA-encoded into CONNECT and Host', async () => {
      await withSession(
        [[CONNECTED, OK]],
        async ({ conn, srv }) => {
          const host = 'ex\u010d\u010aample.test';
          conn.set_tunnel(host, 8080);
          await conn.request('GET', '/');
          await (await conn.getresponse()).read();
          conn.close();
          const ascii = domainToASCII(host);
          assert.match(ascii, /^xn--/);
          const sent = (srv.received[0] as Buffer).toString('latin1');
          assert.ok(
            sent.startsWith(
              `CONNECT ${ascii}:8080 HTTP/1.0\r\n\r\nGET / HTTP/1.1\r\nHost: ${ascii}:8080\r\n`,
            ),
            JSON.stringify(sent),
          );
        },
        TIMED,
      );
    });
  });
});

// ---------------------------------------------------------------------------------------
// A Content-Length of the caller's that its body belies

describe("STRICTER, request side: a body longer than the caller's Content-Length is refused", () => {
  failOnEscapes();

  // Python sends it all: the server reads the bytes past the declared length as the
  // start of the next request. Every length the value could be read as counts: the
  // smallest is the most the body may hold.
  for (const [what, body, declared, limit] of [
    ['a string', 'abcdef', '3', 3],
    ['bytes', Buffer.from('abcdef'), 2, 2],
    ['a Blob', new Blob(['abcdef']), '5', 5],
    ['a folded value', 'abcdef', '5\r\n ', 5],
    ['a list', 'abcdef', '5, 5', 5],
    ['digits a lenient parser reads', 'abcdef', '5abc', 5],
    ['two fields, one of them right', 'abcdef', ['6', '4'], 4],
  ] as const) {
    it(`${what} (Content-Length: ${JSON.stringify(declared)}): BodyLengthMismatch before a byte is sent`, async () => {
      const srv = await scriptedServer([OK]);
      await guarded(
        () => srv.close(),
        async () => {
          const conn = new HTTPConnection(HOST, srv.port, { timeout: 10 });
          const headers = (name: string): Array<[string, string | number]> =>
            typeof declared === 'object' ? declared.map((v) => [name, v]) : [[name, declared]];
          await rejects(
            () => conn.request('POST', '/a', body, headers('Content-Length')),
            BodyLengthMismatch,
            what,
          );
          await assert.rejects(
            conn.request('POST', '/a', body, headers('content-length')),
            (err: unknown) =>
              err instanceof BodyLengthMismatch &&
              err.declared === limit &&
              err.got === 6 &&
              err.code === 'ERR_HTTPLIB_BODY_LENGTH_MISMATCH',
          );
          conn.close();
          await onlySentinel(srv);
        },
      );
    });
  }

  it('a file longer than it: BodyLengthMismatch before a byte is sent', async () => {
    const srv = await scriptedServer([OK]);
    const dir = fs.mkdtempSync(`${os.tmpdir()}/httplib-declared-`);
    await guarded(
      async () => {
        await srv.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
      async () => {
        const path = `${dir}/body.txt`;
        fs.writeFileSync(path, 'abcdef');
        const conn = new HTTPConnection(HOST, srv.port, { timeout: 10 });
        const file = await fs.promises.open(path);
        try {
          await rejects(
            () => conn.request('PUT', '/f', file, { 'Content-Length': 3 }),
            BodyLengthMismatch,
            'FileHandle',
          );
          await rejects(
            () => conn.request('PUT', '/f', fs.createReadStream(path), { 'Content-Length': 5 }),
            BodyLengthMismatch,
            'ReadStream',
          );
        } finally {
          await file.close();
          conn.close();
        }
        // The connection is opened before the file's stat is in; nothing went out on it.
        const opened = srv.sockets.length;
        await onlySentinel(srv, opened);
      },
    );
  });

  it('an iterable longer than it: BodyLengthMismatch, nothing past it sent, the connection not reused', async () => {
    await withSession(
      [[], [OK]],
      async ({ conn, srv }) => {
        await assert.rejects(
          conn.request('POST', '/it', ['abc', 'def'], { 'Content-Length': 4 }),
          (err: unknown) => err instanceof BodyLengthMismatch && err.declared === 4,
        );
        await conn.request('GET', '/next');
        assert.equal((await (await conn.getresponse()).read()).toString(), 'ok');
        assert.equal(srv.sockets.length, 2, 'the next request went out on a new connection');
        // The first connection is closed: all it carried has arrived. The piece that
        // fits went out; nothing of the one that goes past the declared length.
        while (!srv.sockets[0]?.readableEnded) await new Promise((r) => setTimeout(r, 5));
        const sent = (srv.received[0] as Buffer).toString('latin1');
        assert.ok(sent.endsWith('Content-Length: 4\r\n\r\nabc'), sent);
      },
      TIMED,
    );
  });

  it('hostile call patterns: without await, twice at once, after close(), close() while it is sent', async () => {
    await withSession(
      [[], [OK, OK]],
      async ({ conn, srv }) => {
        // Without await, and twice at once: each rejects on its own (nothing escapes), and
        // the connection's state is as it was.
        const first = conn.request('POST', '/a', 'abcdef', { 'Content-Length': 3 });
        const second = conn.request('POST', '/a', 'abcdef', { 'Content-Length': 3 });
        await assert.rejects(first, BodyLengthMismatch);
        await assert.rejects(second, BodyLengthMismatch);
        // After close(): refused the same, nothing connects for it.
        conn.close();
        await assert.rejects(
          conn.request('POST', '/a', 'abcdef', { 'Content-Length': 3 }),
          BodyLengthMismatch,
        );
        assert.equal(srv.sockets.length, 0, 'no connection was opened');
        // close() while an iterable goes past its length is being sent: the caller's close.
        let pulled = 0;
        const slow = (async function* () {
          for (;;) {
            pulled++;
            await new Promise((resolve) => setTimeout(resolve, 20));
            yield 'ab';
          }
        })();
        const sending = conn.request('POST', '/it', slow, { 'Content-Length': 1000 });
        while (pulled < 2) await new Promise((resolve) => setTimeout(resolve, 5));
        conn.close();
        await assert.rejects(sending, { name: 'AbortError' });
        // Then requests as before, on a new connection.
        await conn.request('GET', '/next');
        assert.equal((await (await conn.getresponse()).read()).toString(), 'ok');
      },
      TIMED,
    );
  });

  it("a body sent in parts, values that hold no length, the body's own length: sent as given", async () => {
    await withSession(
      [[OK, OK, OK, OK, OK, OK, OK]],
      async ({ conn, srv }) => {
        for (const [body, value] of [
          ['abcdef', ' 6 '],
          ['abcdef', '006'],
          ['abc', 'three'],
        ] as const) {
          await conn.request('POST', '/v', body, { 'Content-Length': value });
          await (await conn.getresponse()).read();
        }
        // Python's pattern: the first part with the whole length, the rest with send()
        // (with no body at all, an empty one, an iterable).
        for (const first of [null, '', 'hel', ['h', 'el']]) {
          await conn.request('POST', '/parts', first, { 'Content-Length': 5 });
          await conn.send(first === null || first === '' ? 'hello' : 'lo');
          await (await conn.getresponse()).read();
        }
        const sent = (srv.received[0] as Buffer).toString('latin1');
        assert.match(sent, /Content-Length: {2}6 \r\n\r\nabcdefPOST/);
        assert.match(sent, /Content-Length: three\r\n\r\nabcPOST/);
        assert.equal(sent.split('Content-Length: 5\r\n\r\nhello').length, 5, sent);
      },
      TIMED,
    );
  });
});

// ---------------------------------------------------------------------------------------
// Response side

function interims(n: number, extra = ''): string {
  return `HTTP/1.1 100 Continue\r\n${extra}\r\n`.repeat(n);
}

describe('STRICTER, response side: each an HTTPException, and the connection is closed', () => {
  for (const size of ['20000000000000', 'fffffffffffffffff', '1'.repeat(40)]) {
    it(`a chunk size that overflows 2^53 - 1 (${size}) → IncompleteRead caused by "chunk size too large"`, async () => {
      const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
      await breaksConnection(
        [`${head}3\r\nabc\r\n${size}\r\nxyz\r\n`],
        async (s) => {
          const r = await s.get();
          await assert.rejects(r.read(), (err: unknown) => {
            assert.ok(err instanceof IncompleteRead, String(err));
            assert.equal(err.partial.toString(), 'abc');
            assert.ok(err.cause instanceof HTTPException);
            assert.match((err.cause as Error).message, /chunk size too large/);
            return true;
          });
        },
        TIMED,
      );
    });
  }

  it('a chunk size with many leading zeros is still plain hex (no overflow from the digit count)', async () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    const reply = `${head}${'0'.repeat(40)}5\r\nabcde\r\n0\r\n\r\n`;
    await withSession(
      [[reply, NEXT]],
      async ({ conn, srv }) => {
        await conn.request('GET', '/');
        assert.equal((await (await conn.getresponse()).read()).toString(), 'abcde');
        await conn.request('GET', '/next');
        assert.equal((await (await conn.getresponse()).read()).toString(), 'next');
        assert.equal(srv.sockets.length, 1);
      },
      TIMED,
    );
  });

  for (const value of ['9007199254740992', '99999999999999999999999']) {
    it(`a Content-Length past 2^53 - 1 (${value}) → HTTPException "Content-Length too large"`, async () => {
      await breaksConnection(
        [`HTTP/1.1 200 OK\r\nContent-Length: ${value}\r\n\r\nabc`],
        (s) =>
          headFails(s, HTTPException, (err) =>
            assert.match(err.message, /Content-Length too large/),
          ),
        TIMED,
      );
    });
  }

  it('100 interim (1xx) responses are skipped; more than 100 → HTTPException "got more than 100 interim responses"', async () => {
    await withSession(
      [[`${interims(100, 'X-I: 1\r\n')}${OK}`, NEXT]],
      async ({ conn }) => {
        await conn.request('GET', '/');
        const r = await conn.getresponse();
        assert.equal(r.status, 200);
        assert.equal(r.getheader('X-I'), null);
        assert.equal((await r.read()).toString(), 'ok');
      },
      TIMED,
    );
    await breaksConnection(
      [`${interims(101)}${OK}`],
      (s) =>
        headFails(s, HTTPException, (err) =>
          assert.equal(err.message, 'got more than 100 interim responses'),
        ),
      TIMED,
    );
  });

  it('more than 100 header lines inside an interim response → HTTPException "got more than 100 headers" (CVE-2021-3737)', async () => {
    const lines = Array.from({ length: 101 }, (_, i) => `X-${i}: v\r\n`).join('');
    await breaksConnection(
      [`HTTP/1.1 100 Continue\r\n${lines}\r\n${OK}`],
      (s) =>
        headFails(s, HTTPException, (err) =>
          assert.equal(err.message, 'got more than 100 headers'),
        ),
      TIMED,
    );
  });

  it('every 1xx but 101 is interim and skipped: unassigned 104, 150 and 199 too, and the connection is kept', async () => {
    const reply =
      'HTTP/1.1 104 Upload Resumption Supported\r\n\r\n' +
      'HTTP/1.1 150 Whatever\r\nX-I: 1\r\n\r\n' +
      'HTTP/1.1 199 Last\r\n\r\n' +
      OK;
    await withSession(
      [[reply, NEXT]],
      async ({ conn, srv }) => {
        await conn.request('GET', '/');
        const r = await conn.getresponse();
        assert.equal(r.status, 200);
        assert.equal((await r.read()).toString(), 'ok');
        await conn.request('GET', '/next');
        assert.equal((await (await conn.getresponse()).read()).toString(), 'next');
        assert.equal(srv.sockets.length, 1);
      },
      TIMED,
    );
  });

  /**
   * Rules another file already tests through the real client: [rule, file, a piece of
   * that test's source that names it]. Each check fails if the test was renamed or
   * removed, so that this list stays complete.
   */
  const heldElsewhere: ReadonlyArray<readonly [string, string, string]> = [
    [
      'a Content-Length that is not plain digits',
      'framing.test.ts',
      'is an HTTPException`, async () => {',
    ],
    [
      'several Content-Length fields that differ',
      'framing.test.ts',
      "it('conflicting Content-Length fields are an HTTPException'",
    ],
    [
      'a chunk size that is not plain hex',
      'framing.test.ts',
      '): IncompleteRead caused by a framing error`',
    ],
    ['a header line with no colon', 'framing.test.ts', "it('a header line without a colon'"],
    ['a header line with a bare CR', 'framing.test.ts', "it('a bare CR inside a header value'"],
    [
      'a head cut short by the server closing (never an empty 200)',
      'framing.test.ts',
      "it('a head cut short by the server closing is RemoteDisconnected, never an empty 200'",
    ],
    [
      'a head cut short by the server closing, at every byte',
      'hostile-servers.test.ts',
      'closes mid-head at every byte',
    ],
    [
      'every 1xx except 101 is skipped (100, 102, 103)',
      'framing.test.ts',
      "it('interim 100, 102 and 103 responses are skipped'",
    ],
    [
      'a 101 is returned with an empty body and its connection is never reused',
      'framing.test.ts',
      "it('101 is returned with an empty body and its connection is never reused'",
    ],
    [
      'Content-Length with Transfer-Encoding: chunked is read as chunked, not reused',
      'framing.test.ts',
      "it('chunked with Content-Length is read as chunked and its connection is not reused'",
    ],
    [
      'bytes on an idle kept-alive connection make it unusable',
      'keep-alive.test.ts',
      "it('a response arriving on an idle connection is never returned to the next request'",
    ],
    [
      'bytes on an idle kept-alive connection make it unusable (hostile shapes)',
      'hostile-servers.test.ts',
      'on an idle kept-alive connection',
    ],
    [
      'folded header values are joined with one space',
      'framing.test.ts',
      "assert.equal(r.getheader('x-folded'), 'first second')",
    ],
    [
      'a declared length never makes the library allocate more than it has received',
      'hostile-servers.test.ts',
      'Content-Length: 9007199254740991',
    ],
    [
      'strict: false still reads a response with no HTTP/ status line as HTTP/0.9',
      'framing.test.ts',
      "it('without strict: status 200, version 9, no headers, everything is body'",
    ],
  ];
  for (const [rule, file, snippet] of heldElsewhere) {
    it(`${rule}: held by ${file}`, () => {
      const source = fs.readFileSync(new URL(file, import.meta.url), 'utf8');
      assert.ok(source.includes(snippet), `${file} no longer has: ${snippet}`);
    });
  }
});
