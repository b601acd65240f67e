/**
 * Options of the wrong type fail at the call that passed them, with a TypeError that
 * names the option and what it got, before anything is connected or sent: the
 * TypeScript-only constructor options (`signal`, `createConnection`, `debugOutput`), a
 * call's `signal` (a rejection, never a throw), what a `createConnection` hook returns,
 * and the `ssl` file arguments (a number is not a path: Node's fs would read it as a file
 * descriptor). Each case was accepted before, and failed later with an unrelated message
 * (`signal.addEventListener is not a function`), not at all, or with a crash.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HTTP, HTTPConnection, HTTPMessage, HTTPS, HTTPSConnection, ssl } from '../../src/index.ts';
import { failOnEscapes, type RawServer, rawServer } from './servers.ts';

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';

describe('options of the wrong type', () => {
  let server: RawServer;
  failOnEscapes();
  before(async () => {
    server = await rawServer((socket) => {
      socket.on('data', () => socket.write(OK));
    });
  });
  after(() => server.close());

  const received = (): number => server.received.reduce((n, b) => n + b.length, 0);

  it('constructor: signal, createConnection and debugOutput are checked', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ signal: { aborted: false } }, /^signal must be an AbortSignal, got Object$/],
      [{ signal: 'stop' }, /^signal must be an AbortSignal, got string$/],
      [{ createConnection: {} }, /^createConnection must be a function, got Object$/],
      [{ createConnection: 'net' }, /^createConnection must be a function, got string$/],
      [{ debugOutput: 1 }, /^debugOutput must be a function or a writable stream, got number$/],
      [{ debugOutput: {} }, /^debugOutput must be a function or a writable stream, got Object$/],
    ];
    for (const Cls of [HTTPConnection, HTTPSConnection]) {
      for (const [options, message] of cases) {
        assert.throws(
          () => new Cls('127.0.0.1', server.port, options),
          (err: unknown) => err instanceof TypeError && message.test(err.message),
          `${Cls.name} ${JSON.stringify(options)}`,
        );
      }
    }
    // The right types, and null/undefined ("not given"), are taken.
    const controller = new AbortController();
    for (const options of [
      { signal: controller.signal, debugOutput: process.stdout },
      { signal: null, createConnection: null, debugOutput: null },
      { signal: undefined, debugOutput: (_text: string) => {} },
    ]) {
      new HTTPConnection('127.0.0.1', server.port, options as object).close();
    }
  });

  it("a call's signal that is not an AbortSignal: that call rejects, nothing is sent", async () => {
    const conn = new HTTPConnection('127.0.0.1', server.port, { timeout: 10 });
    const bad = { signal: { aborted: false } as unknown as AbortSignal };
    const refused = (err: unknown): boolean =>
      err instanceof TypeError && err.message === 'signal must be an AbortSignal, got Object';
    try {
      const before = received();
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['request', () => conn.request('GET', '/', null, {}, bad)],
        ['getresponse', () => conn.getresponse(bad)],
      ];
      for (const [name, call] of calls) {
        let pending: Promise<unknown> | undefined;
        assert.doesNotThrow(() => {
          pending = call();
        }, name);
        await assert.rejects(pending as Promise<unknown>, refused, name);
      }
      conn.putrequest('GET', '/');
      await assert.rejects(conn.endheaders(null, bad), refused, 'endheaders');
      await assert.rejects(conn.send('x', bad), refused, 'send');
      assert.equal(received(), before, 'not a byte was sent');
      assert.equal(conn.sock, null, 'nothing was connected');

      // Reads: refused even when the bytes are already there (no wait would need it).
      const good = new HTTPConnection('127.0.0.1', server.port, { timeout: 10 });
      try {
        await good.request('GET', '/');
        const response = await good.getresponse();
        await assert.rejects(response.read(null, bad), refused, 'read');
        await assert.rejects(response.readinto(Buffer.alloc(2), bad), refused, 'readinto');
        await assert.rejects(response.read1(-1, bad), refused, 'read1');
        await assert.rejects(response.peek(1, bad), refused, 'peek');
        await assert.rejects(response.readline(-1, bad), refused, 'readline');
        // The refused reads took nothing: the body is all there.
        assert.equal((await response.read()).toString(), 'hello');
      } finally {
        good.close();
      }
    } finally {
      conn.close();
    }
  });

  it('a refused call in the middle of another, and after close(): the other goes on, then the close error never replaces the TypeError', async () => {
    const conn = new HTTPConnection('127.0.0.1', server.port, { timeout: 10 });
    const bad = { signal: 'stop' as unknown as AbortSignal };
    const refused = /^TypeError: signal must be an AbortSignal, got string$/;
    try {
      await conn.request('GET', '/');
      // getresponse() not awaited: a bad call made while it reads the head is refused at
      // once (it does not wait for the head), and the read it interrupted is unharmed.
      const pending = conn.getresponse();
      await assert.rejects(conn.request('GET', '/', null, null, bad), refused);
      await assert.rejects(conn.getresponse(bad), refused);
      const response = await pending;
      // Two refused reads at once leave the body to a good one.
      await Promise.all([
        assert.rejects(response.read(null, bad), refused),
        assert.rejects(response.read(null, bad), refused),
      ]);
      assert.equal((await response.read()).toString(), 'hello');
      conn.close();
      // After close(): still the argument's TypeError, from every promise method.
      await assert.rejects(conn.request('GET', '/', null, null, bad), refused);
      await assert.rejects(conn.getresponse(bad), refused);
      await assert.rejects(conn.send('x', bad), refused);
      await assert.rejects(response.read(null, bad), refused);
    } finally {
      conn.close();
    }
  });

  it('a createConnection hook that returns no socket: the call rejects, close() is safe', async () => {
    const made: unknown[] = [undefined, null, 42, { write() {} }];
    for (const value of made) {
      const conn = new HTTPConnection('127.0.0.1', server.port, {
        createConnection: () => value as never,
      });
      await assert.rejects(
        conn.request('GET', '/'),
        (err: unknown) =>
          err instanceof TypeError &&
          /^createConnection must return a socket \(a stream\.Duplex\), got /.test(err.message),
      );
      // (Before: undefined got as far as the reader, and close() then threw from an
      // abort listener: an uncaught exception.)
      conn.close();
      conn.close();
    }
    await new Promise((resolve) => setImmediate(resolve));
  });

  it('a method or URL that is not a string: request() rejects (never throws), nothing moves or is sent', async () => {
    const conn = new HTTPConnection('127.0.0.1', server.port, { timeout: 10 });
    try {
      const before = received();
      for (const method of [1, true, null, undefined, Buffer.from('GET'), ['GET']]) {
        let pending: Promise<void> | undefined;
        assert.doesNotThrow(() => {
          pending = conn.request(method as never, '/');
        });
        await assert.rejects(pending as Promise<void>, (err: unknown) => {
          return err instanceof TypeError && /^method must be a string, got /.test(err.message);
        });
      }
      // NaN too: true in Python, so not `url or '/'`'s '/' but a TypeError there as well.
      for (const url of [-1, true, 10n, {}, Buffer.from('/'), NaN]) {
        await assert.rejects(
          conn.request('GET', url as never),
          /^TypeError: url must be a string, got /,
        );
      }
      assert.equal(received(), before, 'not a byte was sent');
      // The connection was left as it was: a good request goes.
      await conn.request('GET', '/');
      assert.equal((await (await conn.getresponse()).read()).toString(), 'hello');
      // Python's `url or '/'`: null and '' mean '/'.
      conn.putrequest('GET', null as never, { skip_host: true, skip_accept_encoding: true });
      conn.putheader('Host', 'h');
      await conn.endheaders();
      await (await conn.getresponse()).read();
      assert.match(
        server.received.at(-1)?.toString('latin1') ?? '',
        /GET \/ HTTP\/1\.1\r\nHost: h\r\n\r\n$/,
      );
    } finally {
      conn.close();
    }
  });

  it('options that are not an object are refused (a positional argument from Python is not ignored)', async () => {
    // Python 3's HTTPConnection(host, port, timeout); 2.7's HTTPS(host, port, key_file).
    const refused =
      /takes its options as an object \(\{ name: value \}, Python's keyword arguments\), got /;
    assert.throws(() => new HTTPConnection('127.0.0.1', server.port, 10 as never), refused);
    assert.throws(() => new HTTPSConnection('localhost', 443, 'key.pem' as never), refused);
    assert.throws(() => new HTTPS('localhost', 443, 'key.pem' as never), refused);
    // null is "no options", as undefined.
    new HTTPConnection('127.0.0.1', server.port, null as never).close();
    new HTTPSConnection('localhost', 443, null as never).close();
    new HTTPS('localhost', 443, null as never).close();
    const conn = new HTTPConnection('127.0.0.1', server.port, { timeout: 10 });
    try {
      const before = received();
      // putrequest(method, url, skip_host) in Python: refused before the state moves.
      assert.throws(() => conn.putrequest('GET', '/', 1 as never), refused);
      await assert.rejects(conn.request('GET', '/', null, null, 'x' as never), refused);
      await assert.rejects(conn.getresponse(5 as never), refused);
      assert.equal(received(), before, 'not a byte was sent');
      await conn.request('GET', '/');
      const response = await conn.getresponse();
      await assert.rejects(response.read(null, 5 as never), refused);
      await assert.rejects(response.readinto(Buffer.alloc(1), 'x' as never), refused);
      assert.equal((await response.read()).toString(), 'hello');
    } finally {
      conn.close();
    }
  });

  it('an option a call does not have is refused, as Python refuses an unexpected keyword argument (a misspelt timeout is not ignored)', async () => {
    const unexpected = (call: string, key: string) => (err: unknown) =>
      err instanceof TypeError &&
      err.message.startsWith(`${call} got an unexpected keyword argument '${key}' (its options: `);
    assert.throws(
      () => new HTTPConnection('127.0.0.1', server.port, { timout: 5 } as never),
      unexpected('HTTPConnection()', 'timout'),
    );
    // Whatever its value: Python refuses `timout=None` too.
    assert.throws(
      () => new HTTPConnection('127.0.0.1', server.port, { timeout: 5, extra: undefined } as never),
      unexpected('HTTPConnection()', 'extra'),
    );
    // HTTPSConnection has its own options, and HTTPConnection's.
    assert.throws(
      () => new HTTPSConnection('localhost', 443, { contex: null } as never),
      unexpected('HTTPSConnection()', 'contex'),
    );
    new HTTPSConnection('localhost', 443, { timeout: 1, check_hostname: false }).close();
    assert.throws(
      () => new HTTPS('localhost', 443, { strict: true, timeout: 1 } as never),
      unexpected('HTTPS()', 'timeout'),
    );
    // A subclass of the caller's may take options of its own and pass them all on.
    class Mine extends HTTPConnection {
      readonly tag: string;
      constructor(options: { tag: string; timeout: number }) {
        super('127.0.0.1', server.port, options);
        this.tag = options.tag;
      }
    }
    const mine = new Mine({ tag: 'x', timeout: 10 });
    assert.equal(mine.timeout, 10);
    mine.close();
    const conn = new HTTPConnection('127.0.0.1', server.port, { timeout: 10 });
    try {
      const before = received();
      assert.throws(
        () => conn.putrequest('GET', '/', { skip_hots: true } as never),
        unexpected('putrequest()', 'skip_hots'),
      );
      conn.close();
      let pending: Promise<unknown> | undefined;
      assert.doesNotThrow(() => {
        pending = conn.request('GET', '/', null, null, { encode_chunkd: true } as never);
      });
      await assert.rejects(pending as Promise<unknown>, unexpected('request()', 'encode_chunkd'));
      await assert.rejects(
        conn.getresponse({ sginal: null } as never),
        unexpected('getresponse()', 'sginal'),
      );
      assert.equal(received(), before, 'not a byte was sent');
      await conn.request('GET', '/');
      const response = await conn.getresponse();
      await assert.rejects(
        response.read(null, { timeout: 1 } as never),
        unexpected('a read', 'timeout'),
      );
      await assert.rejects(
        response.readinto(Buffer.alloc(1), { x: 1 } as never),
        unexpected('a read', 'x'),
      );
      assert.equal((await response.read()).toString(), 'hello');
      conn.putrequest('POST', '/');
      await assert.rejects(
        conn.endheaders(null, { encode_chunked: false, y: 1 } as never),
        unexpected('endheaders()', 'y'),
      );
    } finally {
      conn.close();
    }
  });

  it('options whose getter throws: the promise methods reject with that error', async () => {
    const boom = new Error('getter');
    const hostile = {
      get signal(): AbortSignal {
        throw boom;
      },
      get encode_chunked(): boolean {
        throw boom;
      },
    };
    // getresponse() and send() take a signal only (another option is refused first).
    const signalOnly = {
      get signal(): AbortSignal {
        throw boom;
      },
    };
    const conn = new HTTPConnection('127.0.0.1', server.port, { timeout: 10 });
    try {
      const calls: Array<() => Promise<unknown>> = [
        () => conn.request('GET', '/', null, null, hostile),
        () => conn.getresponse(signalOnly),
        () => {
          conn.putrequest('GET', '/');
          return conn.endheaders(null, hostile);
        },
        () => conn.send('x', signalOnly),
      ];
      for (const call of calls) {
        let pending: Promise<unknown> | undefined;
        assert.doesNotThrow(() => {
          pending = call();
        });
        await assert.rejects(pending as Promise<unknown>, (err: unknown) => err === boom);
      }
    } finally {
      conn.close();
    }
  });

  // NaN too: Python's bool(nan) is True.
  for (const yes of [1, 'yes', NaN]) {
    it(`flags are Python's truthy values: skip_host, skip_accept_encoding, encode_chunked = ${String(yes)}`, async () => {
      const conn = new HTTPConnection('127.0.0.1', server.port, { timeout: 10 });
      try {
        conn.putrequest('GET', '/', {
          skip_host: yes as never,
          skip_accept_encoding: yes as never,
        });
        conn.putheader('Host', 'given');
        await conn.endheaders();
        await (await conn.getresponse()).read();
        assert.match(
          server.received.at(-1)?.toString('latin1') ?? '',
          /GET \/ HTTP\/1\.1\r\nHost: given\r\n\r\n$/,
        );
        // encode_chunked with the caller's Transfer-Encoding: the body is framed (with 1,
        // it went out raw before, and the server read "x" as a chunk size).
        await conn.request(
          'POST',
          '/',
          'xyz',
          { 'Transfer-Encoding': 'chunked' },
          {
            encode_chunked: yes as never,
          },
        );
        await (await conn.getresponse()).read();
        assert.match(
          server.received.at(-1)?.toString('latin1') ?? '',
          /\r\n\r\n3\r\nxyz\r\n0\r\n\r\n$/,
        );
        // And 0 stays false: the Host header the module adds.
        conn.putrequest('GET', '/', { skip_host: 0 as never });
        await conn.endheaders();
        await (await conn.getresponse()).read();
        assert.match(
          server.received.at(-1)?.toString('latin1') ?? '',
          /\r\nHost: 127\.0\.0\.1:\d+\r\n/,
        );
      } finally {
        conn.close();
      }
    });
  }

  it('hostname_checks_common_name takes NaN as true, 0 as false', () => {
    const context = ssl.create_default_context();
    context.hostname_checks_common_name = NaN as never;
    assert.equal(context.hostname_checks_common_name, true);
    context.hostname_checks_common_name = 0 as never;
    assert.equal(context.hostname_checks_common_name, false);
  });

  it('the port attribute set after construction is checked when connecting, as the constructor checks it', async () => {
    const conn = new HTTPConnection('127.0.0.1', server.port, { timeout: 10 });
    try {
      const before = server.received.length;
      for (const [port, shown] of [
        ['8080', "'8080'"],
        [8080.5, '8080.5'],
        [-1, '-1'],
        [70000, '70000'],
        [null, 'null'],
      ] as const) {
        conn.port = port as never;
        let pending: Promise<void> | undefined;
        assert.doesNotThrow(() => {
          pending = conn.request('GET', '/');
        });
        await assert.rejects(pending as Promise<void>, (err: unknown) => {
          assert.ok(err instanceof TypeError, String(err));
          assert.equal(err.message, `port must be an integer 0-65535, got ${shown}`);
          return true;
        });
        conn.close();
      }
      assert.equal(server.received.length, before, 'nothing was sent');
      conn.port = server.port;
      await conn.request('GET', '/');
      assert.equal((await (await conn.getresponse()).read()).toString(), 'hello');
    } finally {
      conn.close();
    }
  });

  it('the timeout attribute: undefined is no timeout; a string is refused when connecting', async () => {
    const conn = new HTTPConnection('127.0.0.1', server.port, { timeout: 10 });
    try {
      conn.timeout = undefined as never;
      await conn.request('GET', '/');
      assert.equal((await (await conn.getresponse()).read()).toString(), 'hello');
      conn.close();
      conn.timeout = 'x' as never;
      await assert.rejects(
        conn.request('GET', '/'),
        /^TypeError: timeout must be a number of seconds or null, got string$/,
      );
    } finally {
      conn.close();
    }
  });

  it('connect() with a bad timeout or debuglevel attribute: a rejected promise, never a throw; then it works', async () => {
    // Before: a bigint or a symbol made connect() itself throw ("Cannot mix BigInt..."),
    // as did a symbol debuglevel once set_tunnel() was called.
    const cases: Array<[string, (c: HTTPConnection) => void, RegExp]> = [
      [
        'timeout = 1n',
        (c) => {
          c.timeout = 1n as never;
        },
        /timeout must be a number of seconds or null, got bigint/,
      ],
      [
        'timeout = Symbol()',
        (c) => {
          c.timeout = Symbol('t') as never;
        },
        /timeout must be a number of seconds or null, got symbol/,
      ],
      [
        'debuglevel = Symbol(), tunnelling',
        (c) => {
          c.set_tunnel('127.0.0.1', server.port);
          c.debuglevel = Symbol('d') as never;
        },
        /Symbol/,
      ],
    ];
    for (const [name, spoil, expected] of cases) {
      const conn = new HTTPConnection('127.0.0.1', server.port, { timeout: 10 });
      try {
        spoil(conn);
        let pending: Promise<void> | undefined;
        assert.doesNotThrow(() => {
          pending = conn.connect();
        }, name);
        await assert.rejects(
          pending as Promise<void>,
          (err: unknown) => err instanceof TypeError && expected.test(err.message),
          name,
        );
        assert.equal(conn.sock, null, name);
      } finally {
        conn.close();
      }
    }
  });

  it('the timeout attribute set to a bad value on an open connection: every call that waits rejects, nothing is sent', async () => {
    // Before, the value reached the waits: the response head "timed out after NaN s" at
    // once (and -1 or a string the same), where a connect refused it with a TypeError.
    const conn = new HTTPConnection('127.0.0.1', server.port, { timeout: 10 });
    try {
      await conn.connect();
      for (const bad of [Number.NaN, -1, 'abc']) {
        conn.timeout = bad as never;
        const before = received();
        const refused =
          /^TypeError: timeout (must be a number of seconds or null|value must be non-negative)/;
        await assert.rejects(conn.request('GET', '/'), refused);
        conn.putrequest('GET', '/');
        await assert.rejects(conn.endheaders(), refused);
        await assert.rejects(conn.send('x'), refused);
        await assert.rejects(conn.getresponse(), refused);
        assert.equal(received(), before, 'not a byte was sent');
        // The request started is still there: a good timeout lets it go on.
        conn.timeout = 10;
        await conn.endheaders();
        assert.equal((await (await conn.getresponse()).read()).toString(), 'hello');
      }
    } finally {
      conn.close();
    }
  });

  it('text() with an unknown encoding rejects before reading; header names must be strings', async () => {
    const conn = new HTTPConnection('127.0.0.1', server.port, { timeout: 10 });
    try {
      await conn.request('GET', '/');
      const response = await conn.getresponse();
      await assert.rejects(
        response.text('klingon' as never),
        /^TypeError: Unknown encoding: klingon$/,
      );
      assert.equal(await response.text(), 'hello', 'the body was not consumed');
      assert.throws(() => response.getheader(1 as never), /a header name must be a string/);
      assert.throws(() => response.msg.get_all(null as never), /a header name must be a string/);
      assert.equal(response.getheader('content-length'), '5');
    } finally {
      conn.close();
    }
    assert.throws(() => new HTTPMessage('Host: x' as never), /takes the header lines/);
  });

  it('set_debuglevel() takes a number (bigint, boolean, null as Python compares them)', () => {
    const conn = new HTTPConnection('127.0.0.1', server.port);
    for (const level of ['x', {}, Symbol('s'), () => 1]) {
      assert.throws(
        () => conn.set_debuglevel(level as never),
        (err: unknown) =>
          err instanceof TypeError && /^set_debuglevel\(\) takes a number, got /.test(err.message),
      );
    }
    assert.equal(conn.debuglevel, 0, 'a refused level changes nothing');
    for (const level of [1, 0, 10n, true, null]) {
      conn.set_debuglevel(level as never);
      assert.equal(conn.debuglevel, level);
    }
    conn.close();
  });

  it('the legacy HTTP class: a positional strict is still taken', async () => {
    const h = new HTTP('127.0.0.1', server.port, 1 as never);
    try {
      h.putrequest('GET', '/');
      await h.endheaders();
      const [status] = await h.getreply();
      assert.equal(status, 200);
    } finally {
      h.close();
    }
  });

  it('ssl file arguments must be paths, as in Python (a number is not a descriptor)', () => {
    const context = ssl.create_default_context();
    const cases: Array<[() => void, RegExp]> = [
      [() => context.load_cert_chain(0 as never), /^certfile should be/],
      [() => context.load_cert_chain('client.pem', 3 as never), /^keyfile should be/],
      [() => context.load_verify_locations(0 as never), /^cafile should be/],
      [() => context.load_verify_locations(null, 7 as never), /^capath should be/],
      [
        () => context.load_verify_locations(null, null, 5 as never),
        /^cadata should be an ASCII string or a bytes-like object$/,
      ],
    ];
    for (const [call, message] of cases) {
      assert.throws(call, (err: unknown) => err instanceof TypeError && message.test(err.message));
    }
    // A path that does not exist is the OS error, as Python's FileNotFoundError.
    assert.throws(
      () => context.load_cert_chain('/nonexistent/client.pem'),
      (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT',
    );
  });
});
