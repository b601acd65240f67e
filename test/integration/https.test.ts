/**
 * HTTPSConnection and the ssl helpers against real node:https servers (issue 4): a test
 * PKI made by openssl at test time (test/fixtures/tls/make-certs.sh), real TLS, no
 * mocks. Certificate and host-name verification by default, every way of trusting the
 * test CA, each kind of bad certificate with the reason in the error, the opt-outs,
 * client certificates, SNI, TLS versions, ALPN, session resumption and the handshake
 * timeout.
 *
 * Python 3's `ssl` is the reference for the errors: a failed verification is
 * `SSLCertVerificationError` (an `SSLError`) with OpenSSL's `verify_code` and
 * `verify_message`; other TLS failures are `SSLError`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import diagnostics_channel from 'node:diagnostics_channel';
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { createSecureContext } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { caStoreStats } from '../../src/client/ca-store.ts';
import { toSSLError } from '../../src/client/ssl-errors.ts';
import {
  AbortError,
  HTTPConnection,
  HTTPS,
  HTTPS_PORT,
  HTTPSConnection,
  type HTTPSConnectionOptions,
  ssl,
  TimeoutError,
} from '../../src/index.ts';
import { peerClosed, rawServer } from './servers.ts';
import { connectProxy, type HttpsServer, httpsServer, makePki, type Pki } from './tls-peers.ts';

/** Every request of these tests is bounded, so a regression fails instead of hanging. */
const TIMEOUT = 10;

/** Echoes what the server saw: the Host header and the request line. */
function echo(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Content-Type', 'text/plain');
  res.end(`${req.method} ${req.url} host=${req.headers.host ?? '-'}`);
}

/** One GET over a fresh connection; resolves with `status body`, closes the connection. */
async function get(
  host: string,
  port: number,
  options: HTTPSConnectionOptions = {},
  headers: Record<string, string> = {},
): Promise<string> {
  const conn = new HTTPSConnection(host, port, { timeout: TIMEOUT, ...options });
  try {
    await conn.request('GET', '/', null, headers);
    const response = await conn.getresponse();
    const body = await response.read();
    return `${response.status} ${body.toString('latin1')}`;
  } finally {
    conn.close();
  }
}

/** The error a GET rejects with (the test fails if it does not reject). */
async function getError(
  host: string,
  port: number,
  options: HTTPSConnectionOptions = {},
): Promise<Error> {
  try {
    const result = await get(host, port, options);
    assert.fail(`expected a TLS failure, got ${result}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    assert.ok(err instanceof Error);
    return err;
  }
}

/** Assert a certificate verification failure with OpenSSL's code and reason. */
function assertVerifyError(err: Error, code: number, why: RegExp): void {
  assert.ok(err instanceof ssl.SSLCertVerificationError, `${err.name}: ${err.message}`);
  assert.ok(err instanceof ssl.SSLError);
  assert.equal(err.name, 'SSLCertVerificationError');
  assert.equal(err.verify_code, code, err.message);
  assert.match(err.verify_message, why);
  assert.match(err.message, /^\[SSL: CERTIFICATE_VERIFY_FAILED\] certificate verify failed: /);
  assert.match(err.message, why);
  assert.equal(err.reason, 'CERTIFICATE_VERIFY_FAILED');
}

describe('HTTPSConnection against node:https (issue 4)', { timeout: 60_000 }, () => {
  let pki: Pki;
  /** Servers by certificate name, made once for the whole file. */
  const servers: Record<string, HttpsServer> = {};
  const caContext = (): ssl.SSLContext =>
    ssl.create_default_context({ cafile: pki.file('ca.pem') });

  before(async () => {
    pki = await makePki();
    for (const name of ['server', 'wrongname', 'expired', 'selfsigned', 'proxy']) {
      servers[name] = await httpsServer(pki.pair(name), echo);
    }
  });
  after(async () => {
    for (const s of Object.values(servers)) await s.close();
    pki?.remove();
  });
  const port = (name: string): number => (servers[name] as HttpsServer).port;

  describe('trusting the test CA', () => {
    it('create_default_context({cafile}) verifies the server', async () => {
      assert.equal(
        await get('localhost', port('server'), { context: caContext() }),
        `200 GET / host=localhost:${port('server')}`,
      );
    });

    it('create_default_context({capath}) and load_verify_locations(capath=…) verify it', async () => {
      const fromDefault = ssl.create_default_context({ capath: pki.file('capath') });
      assert.match(await get('localhost', port('server'), { context: fromDefault }), /^200 /);
      const context = new ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT);
      context.load_verify_locations(null, pki.file('capath'));
      assert.match(await get('localhost', port('server'), { context }), /^200 /);
    });

    it('cadata as PEM text and as DER bytes verify it', async () => {
      const pem = pki.read('ca.pem').toString('latin1');
      const der = new X509Certificate(pem).raw;
      for (const cadata of [pem, der, new Uint8Array(der)]) {
        const context = new ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT);
        context.load_verify_locations(null, null, cadata);
        assert.match(await get('localhost', port('server'), { context }), /^200 /);
        const viaDefault = ssl.create_default_context({ cadata });
        assert.match(await get('localhost', port('server'), { context: viaDefault }), /^200 /);
      }
    });

    it('cadata as DER of any length (its base64 filling the last PEM line exactly too)', async () => {
      // Base64 of DER lengths 48k-2 .. 48k fills whole 64-character lines. Self-signed
      // certificates for localhost, each trusted as its own anchor, with a common name
      // padded to reach each of those lengths.
      const run = promisify(execFile);
      // Each character of the name adds 2 bytes (subject and issuer), a serial of 128
      // instead of 1 adds 1 (DER integers are signed: 0x00 0x80).
      const make = async (cn: string, serial: number): Promise<Buffer> => {
        const out = pki.file(`padded-${cn.length}-${serial}.pem`);
        await run('openssl', [
          'req',
          '-x509',
          '-key',
          pki.file('selfsigned.key'),
          '-set_serial',
          String(serial),
          '-subj',
          `/CN=${cn}`,
          '-addext',
          'subjectAltName=DNS:localhost',
          '-days',
          '30',
          '-out',
          out,
        ]);
        return pki.read(`padded-${cn.length}-${serial}.pem`);
      };
      const base = new X509Certificate(await make('a', 1)).raw.length;
      for (const residue of [46, 47, 0]) {
        const delta = (((residue - base) % 48) + 48) % 48;
        const cert = await make('a'.repeat(1 + (delta >> 1)), delta % 2 === 1 ? 128 : 1);
        const der = new X509Certificate(cert).raw;
        assert.equal(der.length % 48, residue);
        const server = await httpsServer({ key: pki.read('selfsigned.key'), cert }, echo);
        try {
          const context = new ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT);
          context.load_verify_locations(null, null, der);
          assert.match(await get('localhost', server.port, { context }), /^200 /);
        } finally {
          await server.close();
        }
      }
    });

    it('a damaged certificate in cafile or cadata is an SSLError at the call, as OpenSSL refuses it for Python', () => {
      const pem = pki.read('ca.pem').toString('latin1');
      const lines = pem.trimEnd().split('\n');
      // Cut in the middle of its base64, the END line kept.
      const cut = `${lines.slice(0, 6).join('\n')}\n${lines.at(-1)}\n`;
      const junk = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
      const der = new X509Certificate(pem).raw;
      const notACertificate = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]);
      const writeFile = (name: string, text: string): string => {
        writeFileSync(pki.file(name), text);
        return pki.file(name);
      };
      const cases: Array<[string, (c: ssl.SSLContext) => void, RegExp]> = [
        [
          'cafile cut short',
          (c) => c.load_verify_locations(writeFile('cut.pem', cut)),
          /^\[X509\] PEM lib: certificate 1 of 1 in .*cut\.pem is not a valid X\.509/,
        ],
        [
          'cafile with a good and a damaged certificate',
          (c) => c.load_verify_locations(writeFile('mixed.pem', pem + junk)),
          /^\[X509\] PEM lib: certificate 2 of 2 in .*mixed\.pem is not a valid X\.509/,
        ],
        [
          'cadata PEM',
          (c) => c.load_verify_locations(null, null, junk),
          /^\[PEM\] ASN1 lib: certificate 1 of 1 in cadata is not a valid X\.509/,
        ],
        [
          'cadata DER that is not a certificate',
          (c) => c.load_verify_locations(null, null, notACertificate),
          /^not enough data: cadata does not contain a certificate$/,
        ],
        [
          'cadata DER, a good certificate then one that is not',
          (c) => c.load_verify_locations(null, null, Buffer.concat([der, notACertificate])),
          /^\[ASN1\] nested asn1 error: the DER at byte \d+ of cadata is not a valid X\.509/,
        ],
      ];
      for (const [what, load, message] of cases) {
        const context = new ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT);
        assert.throws(
          () => load(context),
          (err: unknown) => err instanceof ssl.SSLError && message.test(err.message),
          what,
        );
      }
    });

    it('certificates already checked are not parsed again, and a file changed in place is checked again', async () => {
      // Parsing every CA of a system bundle at each context creation cost ~20 ms (db4a1f3).
      const pem = pki.read('ca.pem').toString('latin1');
      const der = new X509Certificate(pem).raw;
      const bundle = pki.file('bundle.pem');
      writeFileSync(bundle, pem + pki.read('server.pem').toString('latin1'));
      const loads: Array<[string, () => ssl.SSLContext]> = [
        ['cafile', () => ssl.create_default_context({ cafile: bundle })],
        ['cadata PEM', () => ssl.create_default_context({ cadata: `${pem}` })],
        ['cadata DER', () => ssl.create_default_context({ cadata: Buffer.from(der) })],
      ];
      for (const [what, load] of loads) {
        load();
        const parsed = caStoreStats.parsed;
        const context = load();
        assert.equal(caStoreStats.parsed, parsed, `${what}: parsed again`);
        if (what === 'cafile') {
          assert.equal(
            await get('localhost', port('server'), { context }),
            `200 GET / host=localhost:${port('server')}`,
          );
        }
      }
      // Same name, size and time stamp, a damaged certificate: still refused.
      const { mtime, size } = statSync(bundle);
      const text = readFileSync(bundle, 'latin1');
      const at = text.indexOf('\n', text.indexOf('BEGIN CERTIFICATE')) + 10;
      writeFileSync(bundle, `${text.slice(0, at)}-${text.slice(at + 1)}`);
      utimesSync(bundle, mtime, mtime);
      assert.equal(statSync(bundle).size, size);
      assert.throws(
        () => ssl.create_default_context({ cafile: bundle }),
        (err: unknown) =>
          err instanceof ssl.SSLError && /^\[X509\] PEM lib: certificate 1 of 2/.test(err.message),
      );
    });

    it('an IP literal host verifies against the certificate’s IP SAN', async () => {
      assert.equal(
        await get('127.0.0.1', port('server'), { context: caContext() }),
        `200 GET / host=127.0.0.1:${port('server')}`,
      );
    });
  });

  describe('verification fails by default', () => {
    it('the default context (Node’s CA store) does not trust the test CA', async () => {
      const err = await getError('localhost', port('server'));
      // OpenSSL as Python sees it: the issuer of the only certificate is unknown.
      assertVerifyError(err, 20, /unable to get local issuer certificate/);
    });

    it('a bare SSLContext(PROTOCOL_TLS_CLIENT) trusts no CA at all', async () => {
      const err = await getError('localhost', port('server'), {
        context: new ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT),
      });
      assertVerifyError(err, 20, /unable to get local issuer certificate/);
    });

    it('a self-signed certificate', async () => {
      const err = await getError('localhost', port('selfsigned'), { context: caContext() });
      assertVerifyError(err, 18, /self-signed certificate/);
    });

    it('an expired certificate (even with check_hostname off)', async () => {
      let err = await getError('localhost', port('expired'), { context: caContext() });
      assertVerifyError(err, 10, /certificate has expired/);
      err = await getError('localhost', port('expired'), {
        context: caContext(),
        check_hostname: false,
      });
      assertVerifyError(err, 10, /expired/);
    });

    it('a certificate signed by an unknown CA', async () => {
      const err = await getError('localhost', port('proxy'), { context: caContext() });
      assertVerifyError(err, 20, /unable to get local issuer certificate/);
    });

    it('a host-name mismatch, for a name and for an IP literal', async () => {
      let err = await getError('localhost', port('wrongname'), { context: caContext() });
      assertVerifyError(err, 62, /Hostname mismatch, certificate is not valid for 'localhost'/);
      err = await getError('127.0.0.1', port('wrongname'), { context: caContext() });
      assertVerifyError(
        err,
        64,
        /IP address mismatch, certificate is not valid for '127\.0\.0\.1'/,
      );
    });

    it('the certificate is checked against the connection host, not a Host header', async () => {
      const conn = new HTTPSConnection('localhost', port('wrongname'), {
        timeout: TIMEOUT,
        context: caContext(),
      });
      try {
        await assert.rejects(
          conn.request('GET', '/', null, { Host: 'fakehostname.invalid' }),
          ssl.SSLCertVerificationError,
        );
      } finally {
        conn.close();
      }
      const seen = (servers.server as HttpsServer).sessions.length;
      assert.match(
        await get('localhost', port('server'), { context: caContext() }, { Host: 'other.invalid' }),
        /^200 GET \/ host=other\.invalid$/,
      );
      assert.equal(servers.server?.sessions[seen]?.servername, 'localhost');
    });

    it('a failed verification closes the connection', async () => {
      const conn = new HTTPSConnection('localhost', port('selfsigned'), {
        timeout: TIMEOUT,
        context: caContext(),
      });
      await assert.rejects(conn.connect(), ssl.SSLCertVerificationError);
      assert.equal(conn.sock, null);
      conn.close();
    });
  });

  describe('opting out', () => {
    it('check_hostname: false accepts the wrong name (the chain is still verified)', async () => {
      assert.match(
        await get('localhost', port('wrongname'), { context: caContext(), check_hostname: false }),
        /^200 /,
      );
      const err = await getError('localhost', port('selfsigned'), {
        context: caContext(),
        check_hostname: false,
      });
      assertVerifyError(err, 18, /self-signed/);
    });

    it('a context with check_hostname = false accepts the wrong name', async () => {
      const context = caContext();
      context.check_hostname = false;
      assert.equal(context.verify_mode, ssl.CERT_REQUIRED);
      assert.match(await get('localhost', port('wrongname'), { context }), /^200 /);
    });

    it('check_hostname: true overrides a context with check_hostname = false', async () => {
      const context = caContext();
      context.check_hostname = false;
      const err = await getError('localhost', port('wrongname'), { context, check_hostname: true });
      assertVerifyError(err, 62, /Hostname mismatch/);
    });

    it('_create_unverified_context() accepts every bad certificate', async () => {
      const context = ssl._create_unverified_context();
      assert.equal(context.verify_mode, ssl.CERT_NONE);
      assert.equal(context.check_hostname, false);
      for (const name of ['server', 'wrongname', 'expired', 'selfsigned', 'proxy']) {
        assert.equal(
          await get('localhost', port(name), { context }),
          `200 GET / host=localhost:${port(name)}`,
          name,
        );
      }
    });

    it('check_hostname: true with an unverified context is a TypeError', () => {
      assert.throws(
        () =>
          new HTTPSConnection('localhost', 443, {
            context: ssl._create_unverified_context(),
            check_hostname: true,
          }),
        TypeError,
      );
      const context = caContext();
      assert.throws(() => {
        context.verify_mode = ssl.CERT_NONE;
      }, TypeError);
    });
  });

  describe('client certificates', () => {
    let mtls: HttpsServer;
    before(async () => {
      mtls = await httpsServer(pki.clientCertServer(true), (req, res) => {
        const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
        res.end(`client=${peer.subject?.CN ?? '-'}`);
      });
    });
    after(() => mtls.close());

    it('load_cert_chain(cert, encrypted key, password) authenticates', async () => {
      const context = caContext();
      context.load_cert_chain(pki.file('client.pem'), pki.file('client-enc.key'), 's3cret');
      assert.equal(
        await get('localhost', mtls.port, { context }),
        '200 client=httplib-ts test client',
      );
      // The password may also come from a function, as in Python.
      const viaFunction = caContext();
      viaFunction.load_cert_chain(pki.file('client.pem'), pki.file('client-enc.key'), () =>
        Buffer.from('s3cret'),
      );
      assert.match(await get('localhost', mtls.port, { context: viaFunction }), /^200 /);
    });

    it('without a client certificate the request fails with SSLError', async () => {
      const err = await getError('localhost', mtls.port, { context: caContext() });
      assert.ok(err instanceof ssl.SSLError, `${err.name}: ${err.message}`);
    });

    it('a wrong password throws SSLError at once, and the context stays as it was', () => {
      const context = caContext();
      assert.throws(
        () => context.load_cert_chain(pki.file('client.pem'), pki.file('client-enc.key'), 'nope'),
        ssl.SSLError,
      );
      assert.throws(
        () => context.load_cert_chain(pki.file('client.pem'), pki.file('client-enc.key')),
        ssl.SSLError,
      );
      // A key that does not match the certificate.
      assert.throws(
        () => context.load_cert_chain(pki.file('client.pem'), pki.file('server.key')),
        ssl.SSLError,
      );
    });

    it("load_cert_chain and load_verify_locations failures: Python 3's library, reason and message", () => {
      const noCertificate = pki.file('no-certificate.pem');
      writeFileSync(noCertificate, pki.read('client.key'));
      // [what, call, library, reason, message] as python3 (3.11) has them, less `(_ssl.c:NNNN)`.
      const cases: Array<[string, () => void, string | null, string | null, RegExp]> = [
        [
          'a certificate without its key',
          () => caContext().load_cert_chain(pki.file('client.pem')),
          'SSL',
          null,
          /^\[SSL\] PEM lib: cannot load certificate chain: /,
        ],
        [
          'a wrong password',
          () =>
            caContext().load_cert_chain(pki.file('client.pem'), pki.file('client-enc.key'), 'x'),
          'SSL',
          null,
          /^\[SSL\] PEM lib: cannot load certificate chain: /,
        ],
        [
          "a key that is not the certificate's",
          () => caContext().load_cert_chain(pki.file('client.pem'), pki.file('server.key')),
          'X509',
          'KEY_VALUES_MISMATCH',
          /^\[X509: KEY_VALUES_MISMATCH\] key values mismatch$/,
        ],
        [
          'a cafile with no certificate',
          () => caContext().load_verify_locations(noCertificate),
          'X509',
          'NO_CERTIFICATE_OR_CRL_FOUND',
          /^\[X509: NO_CERTIFICATE_OR_CRL_FOUND\] no certificate or crl found in .*no-certificate\.pem$/,
        ],
        [
          'cadata text with no certificate',
          () => caContext().load_verify_locations(null, null, 'no certificate here'),
          null,
          null,
          /^no start line: cadata does not contain a certificate$/,
        ],
      ];
      for (const [what, load, library, reason, message] of cases) {
        assert.throws(load, (err: unknown) => {
          // Before: library null everywhere, reason PEM_LIB for every chain.
          assert.ok(err instanceof ssl.SSLError, `${what}: ${String(err)}`);
          assert.deepEqual([err.library, err.reason], [library, reason], what);
          assert.match(err.message, message, what);
          return true;
        });
      }
    });

    it("a key of another type than the certificate's (EC for RSA) throws Python's SSLError at once", () => {
      // OpenSSL keeps keys of each type apart and does not check this one against the
      // certificate (Node, Deno): the handshake would have failed later, for no clear reason.
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const ecKey = pki.file('client-ec.key');
      writeFileSync(ecKey, privateKey.export({ type: 'pkcs8', format: 'pem' }));
      const context = caContext();
      assert.throws(
        () => context.load_cert_chain(pki.file('client.pem'), ecKey),
        (err: unknown) => {
          // Python 2.7 and 3 (OpenSSL 3.0); before: [SSL] ... key values mismatch, reason PEM_LIB.
          assert.ok(err instanceof ssl.SSLError, String(err));
          assert.deepEqual(
            [err.library, err.reason, err.message],
            [
              'SSL',
              'NO_CERTIFICATE_ASSIGNED',
              '[SSL: NO_CERTIFICATE_ASSIGNED] no certificate assigned',
            ],
          );
          return true;
        },
      );
      // The key after the certificate in one file, and a chain: the leaf is the one checked.
      const chain = pki.file('client-chain.pem');
      writeFileSync(chain, Buffer.concat([pki.read('client.pem'), pki.read('ca.pem')]));
      context.load_cert_chain(chain, pki.file('client.key'));
    });

    it('the deprecated key_file/cert_file work and emit a DeprecationWarning', async () => {
      const warnings: Error[] = [];
      const onWarning = (w: Error): void => {
        warnings.push(w);
      };
      process.on('warning', onWarning);
      try {
        assert.equal(
          await get('localhost', mtls.port, {
            context: caContext(),
            key_file: pki.file('client.key'),
            cert_file: pki.file('client.pem'),
          }),
          '200 client=httplib-ts test client',
        );
        // process.emitWarning emits on the next tick: it has run by now.
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        process.off('warning', onWarning);
      }
      const deprecations = warnings.filter((w) => w.name === 'DeprecationWarning');
      assert.equal(deprecations.length, 1, warnings.map((w) => w.message).join('; '));
      assert.match(deprecations[0]?.message ?? '', /key_file and cert_file are deprecated/);
      // Emitted once per process (test/sync/https.test.ts checks that), by this code.
      assert.equal(
        (deprecations[0] as NodeJS.ErrnoException | undefined)?.code,
        'DEP_HTTPLIB_KEY_CERT_FILE',
      );
    });

    it('key_file without cert_file: a TypeError from the constructor, as Python (not an SSLError at connect)', () => {
      for (const make of [
        () => new HTTPSConnection('localhost', mtls.port, { key_file: pki.file('client.key') }),
        () => new HTTPS('localhost', mtls.port, { key_file: pki.file('client.key') }),
      ]) {
        assert.throws(make, (err: unknown) => {
          assert.ok(err instanceof TypeError, String(err));
          assert.match(err.message, /^key_file needs cert_file/);
          return true;
        });
      }
    });
    it("empty key_file/cert_file names load nothing, as Python's `if key_file or cert_file`", async () => {
      // Asks for a client certificate, takes a connection without one.
      const optional = await httpsServer(pki.clientCertServer(false), (req, res) => {
        const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
        res.end(`client=${peer.subject?.CN ?? '-'}`);
      });
      try {
        for (const files of [
          { key_file: '', cert_file: '' },
          { key_file: '' },
          { cert_file: '' },
        ]) {
          // Before: ENOENT open '' from the constructor, or key_file's TypeError.
          const conn = new HTTPSConnection('localhost', optional.port, {
            timeout: TIMEOUT,
            context: caContext(),
            ...files,
          });
          assert.deepEqual(
            [conn.key_file, conn.cert_file],
            [files.key_file ?? null, files.cert_file ?? null],
          );
          await conn.request('GET', '/');
          assert.equal((await (await conn.getresponse()).read()).toString(), 'client=-');
          conn.close();
          const legacy = new HTTPS('localhost', optional.port, { context: caContext(), ...files });
          legacy.putrequest('GET', '/');
          await legacy.endheaders();
          assert.equal((await legacy.getreply())[0], 200);
          assert.equal((await legacy.getfile()?.read())?.toString(), 'client=-');
          legacy.close();
        }
        // A key file with an empty certificate name is loaded, and fails as in Python
        // (2.7: IOError, 3: FileNotFoundError, from load_cert_chain('', key_file)).
        assert.throws(
          () =>
            new HTTPSConnection('localhost', optional.port, {
              key_file: pki.file('client.key'),
              cert_file: '',
            }),
          { code: 'ENOENT' },
        );
      } finally {
        await optional.close();
      }
    });
  });

  describe('SNI, versions, ALPN, resumption', () => {
    it('SNI is the host name, and none for an IP literal', async () => {
      const server = servers.server as HttpsServer;
      const before = server.sessions.length;
      await get('localhost', server.port, { context: caContext() });
      await get('127.0.0.1', server.port, { context: caContext() });
      const [byName, byIp] = server.sessions.slice(before);
      assert.equal(byName?.servername, 'localhost');
      assert.ok(byIp !== undefined);
      assert.ok(!byIp.servername, `no SNI for an IP, got ${String(byIp.servername)}`);
    });

    it('a server limited to TLS 1.1 is refused (TLS 1.2 minimum)', async () => {
      const old = await httpsServer(
        {
          ...pki.pair('server'),
          minVersion: 'TLSv1',
          maxVersion: 'TLSv1.1',
          ciphers: 'DEFAULT@SECLEVEL=0',
        },
        echo,
      );
      try {
        for (const context of [caContext(), ssl._create_unverified_context()]) {
          const err = await getError('localhost', old.port, { context });
          assert.ok(err instanceof ssl.SSLError, `${err.name}: ${err.message}`);
          assert.ok(!(err instanceof ssl.SSLCertVerificationError));
        }
        assert.equal(old.sessions.length, 0);
      } finally {
        await old.close();
      }
    });

    it('minimum_version and maximum_version are honoured', async () => {
      const server = servers.server as HttpsServer;
      const context = caContext();
      context.maximum_version = ssl.TLSVersion.TLSv1_2;
      let before = server.sessions.length;
      await get('localhost', server.port, { context });
      assert.equal(server.sessions[before]?.protocol, 'TLSv1.2');

      const fresh = caContext();
      before = server.sessions.length;
      await get('localhost', server.port, { context: fresh });
      assert.equal(server.sessions[before]?.protocol, 'TLSv1.3');

      const tls12only = await httpsServer({ ...pki.pair('server'), maxVersion: 'TLSv1.2' }, echo);
      try {
        const strict = caContext();
        strict.minimum_version = ssl.TLSVersion.TLSv1_3;
        const err = await getError('localhost', tls12only.port, { context: strict });
        assert.ok(err instanceof ssl.SSLError, `${err.name}: ${err.message}`);
        assert.equal(tls12only.sessions.length, 0);
      } finally {
        await tls12only.close();
      }
    });

    it('set_alpn_protocols(["http/1.1"]) is offered to the server', async () => {
      const alpn = await httpsServer({ ...pki.pair('server'), ALPNProtocols: ['http/1.1'] }, echo);
      try {
        const context = caContext();
        context.set_alpn_protocols(['http/1.1']);
        await get('localhost', alpn.port, { context });
        // Without ALPN from the client, none is negotiated.
        await get('localhost', alpn.port, { context: caContext() });
        assert.deepEqual(
          alpn.sessions.map((s) => s.alpnProtocol),
          ['http/1.1', false],
        );
      } finally {
        await alpn.close();
      }
    });

    it('the second connection from one context resumes its TLS session', async () => {
      for (const version of [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2]) {
        const server = await httpsServer(pki.pair('server'), echo);
        try {
          const context = caContext();
          context.maximum_version = version;
          for (let i = 0; i < 3; i++) {
            assert.match(await get('localhost', server.port, { context }), /^200 /);
          }
          // Another context has no session to offer.
          const other = caContext();
          other.maximum_version = version;
          await get('localhost', server.port, { context: other });
          assert.deepEqual(
            server.sessions.map((s) => s.reused),
            [false, true, true, false],
            `version ${version}`,
          );
        } finally {
          await server.close();
        }
      }
    });

    it('a session is only offered to the server it came from', async () => {
      const a = await httpsServer(pki.pair('server'), echo);
      const b = await httpsServer(pki.pair('server'), echo);
      try {
        const context = caContext();
        await get('localhost', a.port, { context });
        await get('localhost', b.port, { context });
        await get('127.0.0.1', a.port, { context });
        assert.deepEqual(
          a.sessions.map((s) => s.reused),
          [false, false],
        );
        assert.deepEqual(
          b.sessions.map((s) => s.reused),
          [false],
        );
      } finally {
        await a.close();
        await b.close();
      }
    });
  });

  describe('the handshake, the port and the store', () => {
    it('a server that never answers the ClientHello times out within timeout', async () => {
      const silent = await rawServer(() => {});
      try {
        const conn = new HTTPSConnection('localhost', silent.port, {
          timeout: 0.5,
          context: caContext(),
        });
        const start = performance.now();
        await assert.rejects(conn.connect(), TimeoutError);
        const elapsed = performance.now() - start;
        assert.ok(elapsed >= 450, `fired after ${elapsed} ms`);
        assert.ok(elapsed < 2500, `fired after ${elapsed} ms`);
        assert.equal(conn.sock, null);
        // The server did get a ClientHello, and the client closed the socket.
        await peerClosed(silent.sockets[0] as net.Socket);
        assert.equal(silent.received[0]?.[0], 0x16, 'a TLS handshake record');
        conn.close();
      } finally {
        await silent.close();
      }
    });

    it('the handshake counts against timeout when requesting too', async () => {
      const silent = await rawServer(() => {});
      try {
        const conn = new HTTPSConnection('127.0.0.1', silent.port, {
          timeout: 0.3,
          context: ssl._create_unverified_context(),
        });
        await assert.rejects(conn.request('GET', '/'), TimeoutError);
        conn.close();
      } finally {
        await silent.close();
      }
    });

    it("a plain-HTTP server on the HTTPS port: SSLError WRONG_VERSION_NUMBER, with Python's words", async () => {
      const plain = await rawServer((s) =>
        s.once('data', () => s.end('HTTP/1.0 400 Bad Request\r\n\r\n')),
      );
      try {
        const err = await getError('localhost', plain.port, { context: caContext() });
        assert.ok(err instanceof ssl.SSLError, `${err.name}: ${err.message}`);
        assert.equal(err.reason, 'WRONG_VERSION_NUMBER');
        // Python's short name of OpenSSL's library (before: OpenSSL's 'SSL routines').
        assert.equal(err.library, 'SSL');
        // Python's words (`[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)`,
        // less its source line). Before: OpenSSL's queue line, with a thread id and the
        // build's source path, different on every run.
        assert.equal(err.message, '[SSL: WRONG_VERSION_NUMBER] wrong version number');
      } finally {
        await plain.close();
      }
    });

    it("an OpenSSL error of another library: Python's short library name and reason", () => {
      // Node's error names the library as OpenSSL does ('asn1 encoding routines'), and its
      // code holds the reason; Python's has the ERR_LIB_ name and the mnemonic.
      let thrown: unknown;
      try {
        createSecureContext({
          cert: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
        });
      } catch (e) {
        thrown = e;
      }
      assert.equal((thrown as { library?: string }).library, 'asn1 encoding routines');
      const err = toSSLError(thrown);
      assert.ok(err instanceof ssl.SSLError, String(err));
      assert.equal(err.library, 'ASN1');
      assert.equal(err.reason, 'HEADER_TOO_LONG');
      assert.equal(err.message, '[ASN1: HEADER_TOO_LONG] header too long');
      assert.equal(err.cause, thrown);
    });

    it('a peer that closes (FIN, no alert) during the handshake: SSLError UNEXPECTED_EOF_WHILE_READING, as Python’s SSLEOFError', async () => {
      // Reads the ClientHello, then ends its side: no reset happened.
      const closing = await rawServer((s) => s.once('data', () => s.end()));
      // A proxy that accepts the CONNECT, then does the same with the ClientHello.
      const proxy = await rawServer((s) =>
        s.once('data', () => {
          s.write('HTTP/1.1 200 Connection established\r\n\r\n');
          s.once('data', () => s.end());
        }),
      );
      try {
        const direct = new HTTPSConnection('localhost', closing.port, {
          timeout: TIMEOUT,
          context: caContext(),
        });
        const tunnelled = new HTTPSConnection('127.0.0.1', proxy.port, {
          timeout: TIMEOUT,
          context: caContext(),
        });
        tunnelled.set_tunnel('localhost', 443);
        for (const conn of [direct, tunnelled]) {
          const err = await conn.request('GET', '/').then(
            () => assert.fail('the request succeeded'),
            (e: unknown) => e,
          );
          assert.ok(err instanceof ssl.SSLError, String(err));
          assert.equal(err.reason, 'UNEXPECTED_EOF_WHILE_READING');
          assert.equal(err.library, 'SSL');
          assert.equal(
            err.message,
            '[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol',
          );
          conn.close();
        }
      } finally {
        await closing.close();
        await proxy.close();
      }
    });

    it('close() from an httplib:connect subscriber, before the handshake: AbortError, and the next request goes through', async () => {
      const proxy = await connectProxy();
      let closing = true;
      const closeIt = (message: unknown): void => {
        if (closing) (message as { connection: HTTPConnection }).connection.close();
      };
      diagnostics_channel.subscribe('httplib:connect', closeIt);
      try {
        const options = { timeout: TIMEOUT, context: caContext() };
        const direct = new HTTPSConnection('localhost', port('server'), options);
        const hooked = new HTTPSConnection('localhost', port('server'), {
          ...options,
          createConnection: ({ port: p }) => net.connect(p, '127.0.0.1'),
        });
        const tunnelled = new HTTPSConnection('127.0.0.1', proxy.port, options);
        tunnelled.set_tunnel('localhost', port('server'));
        for (const conn of [direct, hooked, tunnelled]) {
          closing = true;
          const err = await conn.request('GET', '/').then(
            () => assert.fail('the request succeeded'),
            (e: unknown) => e,
          );
          // Before: SSLError UNEXPECTED_EOF_WHILE_READING (direct and hooked), the EOF
          // of the socket the close had destroyed, as if the server had left.
          assert.ok(err instanceof AbortError, String(err));
          assert.equal(err.code, 'ERR_HTTPLIB_CLOSED_BY_CALLER');
          assert.equal(err.message, 'The connection was closed by the caller while connecting');
          closing = false;
          await conn.request('GET', '/after');
          const response = await conn.getresponse();
          assert.equal(
            (await response.read()).toString(),
            `GET /after host=localhost:${port('server')}`,
          );
          conn.close();
        }
      } finally {
        diagnostics_channel.unsubscribe('httplib:connect', closeIt);
        await proxy.close();
      }
    });

    it('a peer that resets the connection during the handshake: ECONNRESET from the system, not an SSLError', async () => {
      const resetting = await rawServer((s) => s.once('data', () => s.resetAndDestroy()));
      try {
        const conn = new HTTPSConnection('localhost', resetting.port, {
          timeout: TIMEOUT,
          context: caContext(),
        });
        const err = await conn.request('GET', '/').then(
          () => assert.fail('the request succeeded'),
          (e: unknown) => e as NodeJS.ErrnoException,
        );
        assert.ok(!(err instanceof ssl.SSLError), String(err));
        assert.equal(err.code, 'ECONNRESET');
        assert.equal(err.syscall, 'read');
        conn.close();
      } finally {
        await resetting.close();
      }
    });

    it('default_port is 443, and a host without a port uses it', () => {
      assert.equal(HTTPSConnection.default_port, 443);
      assert.equal(HTTPSConnection.default_port, HTTPS_PORT);
      assert.equal(HTTPConnection.default_port, 80);
      const conn = new HTTPSConnection('example.invalid');
      assert.equal(conn.port, 443);
      assert.equal(new HTTPSConnection('example.invalid:').port, 443);
      assert.equal(new HTTPSConnection('example.invalid:8443').port, 8443);
    });

    it('the default context uses Node’s store with NODE_EXTRA_CA_CERTS', async () => {
      // NODE_EXTRA_CA_CERTS is read when Node starts: run a child process that has it.
      const index = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
      const script = `
        import { HTTPSConnection } from ${JSON.stringify(index)};
        const conn = new HTTPSConnection('localhost', ${port('server')}, { timeout: 10 });
        await conn.request('GET', '/');
        const r = await conn.getresponse();
        process.stdout.write(r.status + ' ' + (await r.read()).toString());
        conn.close();`;
      // Asynchronously: the server answering it runs in this process.
      const child = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        {
          env: { ...process.env, NODE_EXTRA_CA_CERTS: pki.file('ca.pem') },
          encoding: 'utf8',
          timeout: 30_000,
        },
      );
      assert.equal(child.stdout, `200 GET / host=localhost:${port('server')}`, child.stderr);
    });

    it('a context’s connections share one TLS library context, made again after a change', async () => {
      // A spy, not a mock: the real createSecureContext runs and is counted. tls.connect
      // made one per connection before, from ~570 certificates with the default roots.
      // One connection first: the probe of the TLS library's security levels makes its
      // own, once per process.
      const server = servers.server as HttpsServer;
      assert.match(await get('localhost', server.port, { context: caContext() }), /^200 /);
      const tls = process.getBuiltinModule('node:tls') as typeof import('node:tls');
      const real = tls.createSecureContext;
      let made = 0;
      tls.createSecureContext = (options) => {
        made++;
        return real(options);
      };
      const protocolOf = async (context: ssl.SSLContext): Promise<string | null | undefined> => {
        const before = server.sessions.length;
        assert.match(await get('localhost', server.port, { context }), /^200 /);
        return server.sessions[before]?.protocol;
      };
      try {
        const context = caContext();
        context.load_default_certs();
        for (let i = 0; i < 4; i++) assert.equal(await protocolOf(context), 'TLSv1.3');
        assert.equal(made, 1, 'one TLS library context for four connections');
        // The versions are part of what is shared: a change is seen at the next connect.
        context.maximum_version = ssl.TLSVersion.TLSv1_2;
        assert.equal(await protocolOf(context), 'TLSv1.2');
        context.maximum_version = ssl.TLSVersion.TLSv1_3;
        context.minimum_version = ssl.TLSVersion.TLSv1_3;
        assert.equal(await protocolOf(context), 'TLSv1.3');
        assert.equal(made, 3);
        // So is the trust store: a context that trusts nothing, then the test CA.
        const empty = new ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT);
        assertVerifyError(
          await getError('localhost', server.port, { context: empty }),
          20,
          /local issuer/,
        );
        empty.load_verify_locations(pki.file('ca.pem'));
        assert.equal(await protocolOf(empty), 'TLSv1.3');
        // Contexts do not share theirs with each other.
        assert.equal(await protocolOf(caContext()), 'TLSv1.3');
        assert.equal(made, 6);
      } finally {
        tls.createSecureContext = real;
      }
    });

    it('Node’s default TLS versions are read at each connection, as tls.connect reads them', async () => {
      // A context that sets no maximum takes Node's (tls.DEFAULT_MAX_VERSION) when the
      // connection is made: a shared TLS library context made before it changed is not.
      const tls = process.getBuiltinModule('node:tls') as typeof import('node:tls');
      const server = servers.server as HttpsServer;
      const context = caContext();
      const protocol = async (): Promise<string | null | undefined> => {
        const before = server.sessions.length;
        assert.match(await get('localhost', server.port, { context }), /^200 /);
        return server.sessions[before]?.protocol;
      };
      const original = tls.DEFAULT_MAX_VERSION;
      try {
        assert.equal(await protocol(), 'TLSv1.3');
        tls.DEFAULT_MAX_VERSION = 'TLSv1.2';
        assert.equal(await protocol(), 'TLSv1.2');
        tls.DEFAULT_MAX_VERSION = original;
        assert.equal(await protocol(), 'TLSv1.3');
      } finally {
        tls.DEFAULT_MAX_VERSION = original;
      }
    });

    it('a context on Node’s default store follows tls.setDefaultCACertificates, and no session outlives a change', {
      skip: !('setDefaultCACertificates' in process.getBuiltinModule('node:tls'))
        ? 'tls.setDefaultCACertificates: Node 22.15+ / 24.5+'
        : false,
    }, async () => {
      // Node: the new store is 'used by subsequent TLS connections that don't specify their
      // own CA certificates'. A context with load_default_certs() and nothing else names
      // none (its connections take Node's store as it is at each connect, as before the
      // context's TLS library context was shared): the change is seen at the next
      // connection, and a session made under the old store is not resumed under the new.
      const tls = process.getBuiltinModule('node:tls') as typeof import('node:tls') & {
        getCACertificates(type?: string): string[];
        setDefaultCACertificates(certs: string[]): void;
      };
      const original = tls.getCACertificates('default');
      const server = await httpsServer(pki.pair('server'), echo);
      const context = new ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT);
      context.load_default_certs();
      const reusedAt = async (): Promise<boolean | undefined> => {
        const before = server.sessions.length;
        assert.match(await get('localhost', server.port, { context }), /^200 /);
        return server.sessions.at(-1) === undefined || server.sessions.length === before
          ? undefined
          : server.sessions.at(-1)?.reused;
      };
      try {
        assertVerifyError(
          await getError('localhost', server.port, { context }),
          20,
          /local issuer/,
        );
        tls.setDefaultCACertificates([...original, readFileSync(pki.file('ca.pem'), 'latin1')]);
        assert.equal(await reusedAt(), false, 'the test CA is trusted from now on');
        assert.equal(await reusedAt(), true, 'and the session is resumed');
        tls.setDefaultCACertificates(original);
        assertVerifyError(
          await getError('localhost', server.port, { context }),
          20,
          /local issuer/,
        );
        tls.setDefaultCACertificates([...original, readFileSync(pki.file('ca.pem'), 'latin1')]);
        assert.equal(await reusedAt(), false, 'a new store: the old session is not offered');
      } finally {
        tls.setDefaultCACertificates(original);
        await server.close();
      }
    });
  });
});
