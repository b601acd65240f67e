/**
 * Arguments of the `ssl` helpers that Python refuses are refused at the call that passed
 * them, with Python's exception (`ValueError` as `TypeError`, per API.md) and, where it
 * says something, Python's message, before anything is connected. Each case was found
 * by an argument-type fuzzer: the value was taken silently and then ignored, or failed
 * later at connect with a message from Node's internals. CPython 3.11 decided every case
 * (each test names what it does); where a setting reaches the wire, a real TLS server on
 * 127.0.0.1 checks it.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { HTTPSConnection, type HTTPSConnectionOptions, ssl } from '../../src/index.ts';
import { failOnEscapes } from './servers.ts';
import { httpsServer, makePki, type Pki } from './tls-peers.ts';

const TIMEOUT = 10;

function hello(_req: IncomingMessage, res: ServerResponse): void {
  res.end('hello');
}

/** One GET over a fresh connection: `status body`, or the error it rejected with. */
async function get(port: number, options: HTTPSConnectionOptions): Promise<string | Error> {
  const conn = new HTTPSConnection('localhost', port, { timeout: TIMEOUT, ...options });
  try {
    await conn.request('GET', '/');
    const response = await conn.getresponse();
    return `${response.status} ${(await response.read()).toString()}`;
  } catch (err) {
    return err as Error;
  } finally {
    conn.close();
  }
}

/** Assert that `call` throws `type` with exactly `message`. */
function throwsExactly(
  call: () => unknown,
  type: abstract new (...args: never[]) => Error,
  message: string,
): void {
  assert.throws(call, (err: unknown) => {
    assert.ok(err instanceof type, `${(err as Error).name}: ${(err as Error).message}`);
    assert.equal((err as Error).message, message);
    return true;
  });
}

describe('ssl arguments of the wrong type or value', { timeout: 60_000 }, () => {
  failOnEscapes();
  let pki: Pki;
  before(async () => {
    pki = await makePki();
    fs.writeFileSync(
      pki.file('client-and-key.pem'),
      Buffer.concat([pki.read('client.pem'), pki.read('client.key')]),
    );
  });
  after(() => pki?.remove());

  const caContext = (): ssl.SSLContext =>
    ssl.create_default_context({ cafile: pki.file('ca.pem') });

  describe('minimum_version and maximum_version', () => {
    it('a value that is not a TLSVersion is refused when assigned, as in Python', () => {
      // Python: TypeError "'str' object cannot be interpreted as an integer" for a
      // non-integer, ValueError "Unsupported TLS/SSL version 0x305" for another integer.
      const cases: Array<[unknown, string]> = [
        ['TLSv1_3', 'an ssl.TLSVersion value (an integer), got string'],
        [1.5, 'an ssl.TLSVersion value (an integer), got number'],
        [Number.NaN, 'an ssl.TLSVersion value (an integer), got number'],
        [{}, 'an ssl.TLSVersion value (an integer), got Object'],
        [null, 'an ssl.TLSVersion value (an integer), got null'],
        [undefined, 'an ssl.TLSVersion value (an integer), got undefined'],
        [true, 'an ssl.TLSVersion value (an integer), got boolean'],
        [0x305, 'Unsupported TLS/SSL version 0x305'],
        [0, 'Unsupported TLS/SSL version 0x0'],
        [0x2ff, 'Unsupported TLS/SSL version 0x2ff'],
        [-3, 'Unsupported TLS/SSL version 0xfffffffd'],
      ];
      for (const name of ['minimum_version', 'maximum_version'] as const) {
        const context = ssl.create_default_context();
        const before = context[name];
        for (const [value, message] of cases) {
          const expected = message.startsWith('Unsupported')
            ? message
            : `${name} must be ${message}`;
          throwsExactly(
            () => {
              (context as unknown as Record<string, unknown>)[name] = value;
            },
            TypeError,
            expected,
          );
          assert.equal(context[name], before, `${name} unchanged after ${String(value)}`);
        }
      }
    });

    it('every TLSVersion value is taken; the crossed bounds read back as Python’s do', () => {
      const context = ssl.create_default_context();
      for (const version of Object.values(ssl.TLSVersion)) {
        context.minimum_version = version;
        context.maximum_version = version;
      }
      // Python 3.11: minimum_version = MAXIMUM_SUPPORTED reads back TLSv1_3,
      // maximum_version = MINIMUM_SUPPORTED reads back TLSv1; the others as given.
      context.minimum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED;
      assert.equal(context.minimum_version, ssl.TLSVersion.TLSv1_3);
      context.maximum_version = ssl.TLSVersion.MINIMUM_SUPPORTED;
      assert.equal(context.maximum_version, ssl.TLSVersion.TLSv1);
      context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED;
      assert.equal(context.minimum_version, ssl.TLSVersion.MINIMUM_SUPPORTED);
      context.maximum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED;
      assert.equal(context.maximum_version, ssl.TLSVersion.MAXIMUM_SUPPORTED);
    });

    it('a TLS 1.3 minimum fails the handshake with a TLS-1.2-only server; TLS 1.2 succeeds', async () => {
      const tls12 = await httpsServer({ ...pki.pair('server'), maxVersion: 'TLSv1.2' }, hello);
      try {
        for (const minimum of [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.MAXIMUM_SUPPORTED]) {
          const strict = caContext();
          strict.minimum_version = minimum;
          const err = await get(tls12.port, { context: strict });
          assert.ok(err instanceof ssl.SSLError, `minimum ${minimum}: ${String(err)}`);
        }
        // The string the fuzzer gave was taken and ignored: the connection succeeded.
        const context = caContext();
        assert.throws(() => {
          (context as unknown as Record<string, unknown>).minimum_version = 'TLSv1_3';
        }, TypeError);
        assert.equal(tls12.sessions.length, 0, 'no handshake completed');
        context.minimum_version = ssl.TLSVersion.TLSv1_2;
        assert.equal(await get(tls12.port, { context }), '200 hello');
        assert.deepEqual(
          tls12.sessions.map((s) => s.protocol),
          ['TLSv1.2'],
        );
      } finally {
        await tls12.close();
      }
    });

    it('bounds that leave no version: SSLError NO_PROTOCOLS_AVAILABLE, as Python’s handshake, and nothing connected', async () => {
      // Python 3.11 (OpenSSL 3): maximum SSLv3, or a minimum above the maximum, fails
      // with [SSL: NO_PROTOCOLS_AVAILABLE] before a byte is sent. Here the maximum of
      // SSLv3 was taken as no bound, and the connection went out with TLS 1.3.
      const server = await httpsServer(pki.pair('server'), hello);
      try {
        const V = ssl.TLSVersion;
        for (const [minimum, maximum] of [
          [V.MINIMUM_SUPPORTED, V.SSLv3],
          [V.TLSv1_3, V.TLSv1_2],
          [V.MAXIMUM_SUPPORTED, V.TLSv1_2],
          [V.TLSv1_2, V.MINIMUM_SUPPORTED],
        ] as const) {
          const context = caContext();
          context.minimum_version = minimum;
          context.maximum_version = maximum;
          const err = await get(server.port, { context });
          assert.ok(err instanceof ssl.SSLError, `${minimum}..${maximum}: ${String(err)}`);
          assert.equal((err as ssl.SSLError).reason, 'NO_PROTOCOLS_AVAILABLE');
        }
        assert.equal(server.connectionCount(), 0, 'nothing was connected');
        // One version left is enough.
        const context = caContext();
        context.minimum_version = V.TLSv1_3;
        context.maximum_version = V.TLSv1_3;
        assert.equal(await get(server.port, { context }), '200 hello');
      } finally {
        await server.close();
      }
    });

    it('TLS that fails to start in OpenSSL (no cipher for the maximum version) rejects, never escapes', async () => {
      // The TLS socket's own 'connect' listener starts the handshake; OpenSSL refused to
      // (no cipher left for TLS 1.2) and the socket's 'error' came after the connect
      // wait had stopped listening: an uncaught exception that ended the process.
      const server = await httpsServer(pki.pair('server'), hello);
      try {
        const context = caContext();
        context.maximum_version = ssl.TLSVersion.TLSv1_2;
        context.set_ciphers('PSK');
        const err = await get(server.port, { context });
        assert.ok(err instanceof ssl.SSLError, String(err));
        assert.equal((err as ssl.SSLError).reason, 'NO_CIPHERS_AVAILABLE');
        // The same context works once a cipher is left.
        context.set_ciphers('ECDHE+AESGCM');
        assert.equal(await get(server.port, { context }), '200 hello');
      } finally {
        await server.close();
      }
    });
  });

  it('set_alpn_protocols() takes an iterable of ASCII strings of 1 to 255 characters', async () => {
    const server = await httpsServer(
      { ...pki.pair('server'), ALPNProtocols: ['h2', 'http/1.1'] },
      hello,
    );
    try {
      const context = caContext();
      context.set_alpn_protocols(['http/1.1']);
      // Python 3.11: TypeError ("encoding without a string argument", "'int' object is
      // not iterable") for these, UnicodeEncodeError for non-ASCII.
      const typeErrors: Array<[unknown, string]> = [
        [[1], 'ALPN protocols must be strings, got number'],
        [[{}], 'ALPN protocols must be strings, got Object'],
        [[null], 'ALPN protocols must be strings, got null'],
        [['http/1.1', Buffer.from('h2')], 'ALPN protocols must be strings, got Buffer'],
        [Buffer.from('h2'), 'ALPN protocols must be strings, got number'],
        [['é'], 'ALPN protocols must be ASCII, got "é"'],
        [1, 'alpn_protocols must be an iterable of strings, got number'],
        [null, 'alpn_protocols must be an iterable of strings, got null'],
        [undefined, 'alpn_protocols must be an iterable of strings, got undefined'],
        [{ length: 1, 0: 'h2' }, 'alpn_protocols must be an iterable of strings, got Object'],
      ];
      for (const [value, message] of typeErrors) {
        throwsExactly(() => context.set_alpn_protocols(value as string[]), TypeError, message);
      }
      // Python: SSLError('ALPN protocols must be 1 to 255 in length').
      for (const value of [[''], ['h2', 'x'.repeat(256)]]) {
        throwsExactly(
          () => context.set_alpn_protocols(value),
          ssl.SSLError,
          'ALPN protocols must be 1 to 255 in length',
        );
      }
      // The refused calls left the setting as it was: http/1.1 is offered.
      assert.equal(await get(server.port, { context }), '200 hello');
      // Any iterable, as in Python: a generator, a Set (without ALPN from the client,
      // the server records none).
      const fromGenerator = caContext();
      fromGenerator.set_alpn_protocols(
        (function* () {
          yield 'http/1.1';
        })(),
      );
      const fromSet = caContext();
      fromSet.set_alpn_protocols(new Set(['x'.repeat(255), 'http/1.1']));
      for (const c of [fromGenerator, fromSet]) {
        assert.equal(await get(server.port, { context: c }), '200 hello');
      }
      assert.deepEqual(
        server.sessions.map((s) => s.alpnProtocol),
        ['http/1.1', 'http/1.1', 'http/1.1'],
      );
    } finally {
      await server.close();
    }
  });

  it('set_ciphers() takes a string that selects a cipher; else it throws at the call', async () => {
    const server = await httpsServer(pki.pair('server'), (req, res) => {
      res.end((req.socket as TLSSocket).getCipher().name);
    });
    try {
      const cipher = 'ECDHE-RSA-AES128-GCM-SHA256';
      const context = caContext();
      context.maximum_version = ssl.TLSVersion.TLSv1_2;
      context.set_ciphers(cipher);
      // Python 3.11: TypeError "set_ciphers() argument must be str, not int"; null and
      // undefined reset the list here before.
      const typeErrors: Array<[unknown, string]> = [
        [1, 'number'],
        [{}, 'Object'],
        [true, 'boolean'],
        [null, 'null'],
        [undefined, 'undefined'],
        [Buffer.from('DEFAULT'), 'Buffer'],
      ];
      for (const [value, name] of typeErrors) {
        throwsExactly(
          () => context.set_ciphers(value as string),
          TypeError,
          `set_ciphers() argument must be a string, not ${name}`,
        );
      }
      // Python: SSLError('No cipher can be selected.') for a list that selects none,
      // TLS 1.3 suite names only included (Node takes those, and connect then failed
      // with ERR_SSL_NO_CIPHER_MATCH).
      for (const value of ['', ' ', 'TLS_AES_128_GCM_SHA256', 'NO-SUCH-CIPHER']) {
        throwsExactly(() => context.set_ciphers(value), ssl.SSLError, 'No cipher can be selected.');
      }
      // The refused calls left the list as it was.
      assert.equal(await get(server.port, { context }), `200 ${cipher}`);
      // A list with a TLS 1.2 cipher and a TLS 1.3 suite is taken, as in Python.
      const mixed = caContext();
      mixed.set_ciphers(`${cipher}:TLS_AES_128_GCM_SHA256`);
      assert.equal(await get(server.port, { context: mixed }), '200 TLS_AES_128_GCM_SHA256');
    } finally {
      await server.close();
    }
  });

  it('load_cert_chain() password: a string, bytes, or a function returning one, as in Python', async () => {
    const server = await httpsServer(pki.clientCertServer(true), hello);
    try {
      const cert = pki.file('client.pem');
      const encrypted = pki.file('client-enc.key');
      const context = caContext();
      // Python 3.11: TypeError "password should be a string or callable" (these were
      // turned into strings here: '[object Object]', '-1', 'true', or a crash).
      for (const password of [{}, -1, true, 1.5, Symbol('pw'), new DataView(new ArrayBuffer(1))]) {
        throwsExactly(
          () => context.load_cert_chain(cert, encrypted, password as string),
          TypeError,
          'password should be a string or callable',
        );
      }
      // Python: TypeError "password callback must return a string" for a function's
      // other result; ValueError (a TypeError here) over 1024 bytes.
      for (const result of [1, null, undefined, {}]) {
        throwsExactly(
          () => context.load_cert_chain(cert, encrypted, () => result as string),
          TypeError,
          'password callback must return a string',
        );
      }
      for (const password of ['x'.repeat(1025), () => 'é'.repeat(513)]) {
        throwsExactly(
          () => context.load_cert_chain(cert, encrypted, password),
          TypeError,
          'password cannot be longer than 1024 bytes',
        );
      }
      // A wrong password of the right type is Python's SSLError.
      assert.throws(() => context.load_cert_chain(cert, encrypted, 'wrong'), ssl.SSLError);
      // A key that is not encrypted needs no password: the function is not called.
      let called = false;
      context.load_cert_chain(cert, pki.file('client.key'), () => {
        called = true;
        return 1 as unknown as string;
      });
      assert.equal(called, false);
      // Every form Python takes: the server sees the client certificate each time.
      const secret = Buffer.from('s3cret');
      for (const password of [
        's3cret',
        secret,
        new Uint8Array(secret),
        () => 's3cret',
        () => secret,
      ]) {
        const c = caContext();
        c.load_cert_chain(cert, encrypted, password);
        assert.equal(await get(server.port, { context: c }), '200 hello');
      }
      assert.deepEqual(
        server.sessions.map((s) => s.authorized),
        [true, true, true, true, true],
      );
    } finally {
      await server.close();
    }
  });

  it('purpose must be a Purpose value; null options are the defaults, other options a TypeError', async () => {
    // Python 3.11: TypeError(purpose) for anything but a Purpose, None included, from
    // create_default_context, _create_unverified_context and load_default_certs. These
    // built a server-side context here (or ignored the value), found only at connect.
    const purposes: Array<[unknown, string]> = [
      ['server_auth', '"server_auth"'],
      [{}, 'Object'],
      [1, 'number'],
      [null, 'null'],
    ];
    for (const [purpose, got] of purposes) {
      const message = `purpose must be ssl.Purpose.SERVER_AUTH or ssl.Purpose.CLIENT_AUTH, got ${got}`;
      const options = { purpose } as unknown as ssl.DefaultContextOptions;
      throwsExactly(() => ssl.create_default_context(options), TypeError, message);
      throwsExactly(() => ssl._create_unverified_context(options), TypeError, message);
      throwsExactly(
        () => ssl.create_default_context().load_default_certs(purpose as ssl.PurposeName),
        TypeError,
        message,
      );
    }
    for (const [options, got] of [
      ['x', 'string'],
      [1, 'number'],
      [true, 'boolean'],
      [[], 'Array'],
    ] as const) {
      for (const fn of ['create_default_context', '_create_unverified_context'] as const) {
        throwsExactly(
          () => ssl[fn](options as unknown as ssl.DefaultContextOptions),
          TypeError,
          `${fn}() options must be an object, got ${got}`,
        );
      }
    }
    // An option they do not have is refused (Python: unexpected keyword argument): a
    // misspelt cafile quietly kept the default roots.
    for (const fn of ['create_default_context', '_create_unverified_context'] as const) {
      throwsExactly(
        () => ssl[fn]({ cafle: 'ca.pem' } as unknown as ssl.DefaultContextOptions),
        TypeError,
        `${fn}() got an unexpected keyword argument 'cafle' (its options: purpose, cafile, capath, cadata)`,
      );
    }
    // null (Python's None) is no options at all: the defaults, both checks on or off.
    const verified = ssl.create_default_context(null);
    assert.equal(verified.protocol, ssl.PROTOCOL_TLS_CLIENT);
    assert.equal(verified.verify_mode, ssl.CERT_REQUIRED);
    assert.equal(verified.check_hostname, true);
    const unverified = ssl._create_unverified_context(null);
    assert.equal(unverified.verify_mode, ssl.CERT_NONE);
    assert.equal(unverified.check_hostname, false);
    ssl.create_default_context().load_default_certs(ssl.Purpose.CLIENT_AUTH);
    ssl.create_default_context({ purpose: undefined, cafile: null });
    const server = await httpsServer(pki.pair('server'), hello);
    try {
      // The default store does not trust the test CA; the unverified context checks nothing.
      assert.ok(
        (await get(server.port, { context: verified })) instanceof ssl.SSLCertVerificationError,
      );
      assert.equal(await get(server.port, { context: unverified }), '200 hello');
    } finally {
      await server.close();
    }
  });

  it('check_hostname takes any value by its truth as Python’s: NaN and a Symbol are true', async () => {
    // Python 3.11: context.check_hostname = float('nan') reads back True (a nonzero
    // float); object() True; 0, '' and None False. HTTPSConnection(check_hostname=x)
    // sets the context's by the same truth. Here NaN turned the check off, and a Symbol
    // given to HTTPSConnection failed at connect with 'Cannot convert a Symbol value to
    // a string'.
    const server = await httpsServer(pki.pair('wrongname'), hello);
    try {
      const truths: Array<[unknown, boolean]> = [
        [Number.NaN, true],
        [Symbol('on'), true],
        [{}, true],
        ['x', true],
        [1, true],
        [0, false],
        ['', false],
        [null, false],
      ];
      for (const [value, truth] of truths) {
        const context = caContext();
        (context as unknown as Record<string, unknown>).check_hostname = value;
        assert.equal(context.check_hostname, truth, String(value));
        const fromContext = await get(server.port, { context });
        const viaOption = caContext();
        viaOption.check_hostname = !truth;
        const conn = new HTTPSConnection('localhost', server.port, {
          context: viaOption,
          check_hostname: value as boolean,
        });
        assert.equal(conn.check_hostname, value === null ? !truth : truth, String(value));
        conn.close();
        const fromOption = await get(server.port, {
          context: viaOption,
          check_hostname: value as boolean,
        });
        for (const result of [fromContext, ...(value === null ? [] : [fromOption])]) {
          if (truth) {
            assert.ok(
              result instanceof ssl.SSLCertVerificationError,
              `${String(value)}: ${result}`,
            );
          } else {
            assert.equal(result, '200 hello', String(value));
          }
        }
      }
    } finally {
      await server.close();
    }
  });

  it("an empty cafile, capath or keyfile is a path that fails to load, as in Python; create_default_context's cafile '' is none", () => {
    const context = caContext();
    const enoent = (err: unknown) => {
      assert.equal((err as NodeJS.ErrnoException).code, 'ENOENT', String(err));
      return true;
    };
    // Python 3.11: FileNotFoundError (2.7: IOError). Before: a TypeError "cannot be all
    // omitted", and the key looked for in certfile, as if none had been given.
    assert.throws(() => context.load_verify_locations(''), enoent);
    assert.throws(() => context.load_cert_chain(pki.file('client-and-key.pem'), ''), enoent);
    // Python: SSLError [X509: INVALID_DIRECTORY] invalid directory.
    assert.throws(
      () => context.load_verify_locations(null, ''),
      (err: unknown) => {
        assert.ok(err instanceof ssl.SSLError, String(err));
        assert.equal(err.reason, 'INVALID_DIRECTORY');
        return true;
      },
    );
    // Python's create_default_context tests cafile by its truth: '' loads nothing.
    assert.equal(ssl.create_default_context({ cafile: '' }).verify_mode, ssl.CERT_REQUIRED);
  });

  it('a cafile, certfile or keyfile of more than 16 MiB (a device, an endless file) is an SSLError, read no further', async () => {
    const big = pki.file('big.pem');
    // Sparse: 17 MiB by its size, no disk used. Before: read whole, then "no certificate found".
    fs.writeFileSync(big, '');
    fs.truncateSync(big, 17 * 1024 * 1024);
    const tooLarge = (name: string, file: string) => (err: unknown) => {
      assert.ok(err instanceof ssl.SSLError, String(err));
      assert.equal(
        err.message,
        `${name} '${file}' holds more than 16 MiB: not a certificate or key file`,
      );
      return true;
    };
    assert.throws(() => ssl.create_default_context({ cafile: big }), tooLarge('cafile', big));
    const context = caContext();
    assert.throws(() => context.load_cert_chain(big), tooLarge('certfile', big));
    assert.throws(
      () => context.load_cert_chain(pki.file('client.pem'), big),
      tooLarge('keyfile', big),
    );
    // A file with no size of its own (a FIFO, as /dev/zero is a device) is read no
    // further than the bound: before, /dev/zero was read until memory ran out (this
    // writer gives 40 MiB and ends, so that the old reading ended too).
    if (process.platform === 'win32') return;
    const fifo = pki.file('endless.pem');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', 'head -c 41943040 /dev/zero > "$0"', fifo], {
      stdio: 'ignore',
    });
    const ended = once(writer, 'close');
    try {
      assert.throws(() => context.load_verify_locations(fifo), tooLarge('cafile', fifo));
    } finally {
      // Its reader gone, the writer ends (SIGPIPE).
      writer.kill();
      await ended;
    }
  });
});
