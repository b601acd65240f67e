/**
 * OpenSSL's security level 2 on every runtime (issue 12, item 5). Where the TLS library
 * applies `@SECLEVEL=2` (Node.js's OpenSSL) it refuses weak certificates itself; where it
 * cannot (Bun's BoringSSL, Deno), the verification after the handshake does
 * (tls-verify.ts, x509-strength.ts), with OpenSSL's codes. Here, on Node, every case is
 * played both ways: with the real level, and with the test seam that makes this Node a
 * TLS library without levels (OpenSSL set to level 0, which checks no key or digest, and
 * our check on). Both must give the case's verdict, with the same message.
 *
 * The certificates are made at test time (test/fixtures/tls/make-strength-certs.sh), each
 * served by a `node:https` server at level 0 on 127.0.0.1; each connection trusts the
 * chain's own root. test/runtimes/smoke.ts plays a weak certificate on Bun and Deno.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  clientSettings,
  emulateLibraryWithoutSecurityLevels,
  PeerCheck,
} from '../../src/client/tls-verify.ts';
import { HTTPSConnection, ssl } from '../../src/index.ts';
import { failOnEscapes } from './servers.ts';
import {
  assertResumedButRefused,
  attempt,
  fetchBody,
  type MatrixPki,
  MatrixServers,
  makeMatrixPki,
  routeTo,
  sessionCache,
  type Verdict,
} from './tls-matrix.ts';

const MAKE = fileURLToPath(new URL('../fixtures/tls/make-strength-certs.sh', import.meta.url));

const EE_KEY = 66;
const CA_KEY = 67;
const CA_MD = 68;

// [chain (make-strength-certs.sh), verdict, why]
// biome-ignore format: one case a line reads as a table
const CASES: ReadonlyArray<readonly [string, Verdict, string]> = [
  ['good', 'ok', 'RSA-2048 keys, SHA-256 signatures'],
  ['chained', 'ok', 'the same through an intermediate'],
  ['sha224', 'ok', 'SHA-224 counts 112 bits: level 2 takes it'],
  ['sha512', 'ok', 'SHA-512'],
  ['sha1', CA_MD, 'a SHA-1 signature (63 bits in OpenSSL 3: level 1 refuses it already)'],
  ['md5', CA_MD, 'an MD5 signature'],
  ['weak-leaf', EE_KEY, 'an RSA-1024 leaf key (80 bits)'],
  ['weak-sha1', CA_MD, 'an RSA-1024 key signed with SHA-1: OpenSSL finds 66 then 68, Node reports the last'],
  ['rsa1962', EE_KEY, 'RSA-1962: 104 bits by OpenSSL 3’s count'],
  ['rsa1963', 'ok', 'RSA-1963: 112 bits by OpenSSL 3’s count, so under 2048 bits is not the rule'],
  ['pss-sha256', 'ok', 'an RSASSA-PSS signature with SHA-256'],
  ['pss-sha1', CA_MD, 'an RSASSA-PSS signature with SHA-1'],
  ['pss-key-1024', EE_KEY, 'an RSA-PSS leaf key of 1024 bits'],
  ['under-sha1-root', 'ok', 'a root self-signed with SHA-1: a trust anchor’s own signature is not looked at'],
  ['under-sha1-root-sent', 'ok', 'the same when the server sends that root along'],
  ['under-md5-root', 'ok', 'a root self-signed with MD5, the same'],
  ['under-weak-root', CA_KEY, 'an RSA-1024 root: the anchor’s key is looked at'],
  ['under-weak-sha1-root', CA_KEY, 'an RSA-1024 root self-signed with SHA-1: its key, not its signature'],
  ['under-sha1-inter', CA_MD, 'an intermediate signed with SHA-1'],
  ['under-weak-inter', CA_KEY, 'an RSA-1024 intermediate'],
  ['under-dsa1024-inter', CA_KEY, 'a DSA-1024 intermediate'],
  ['under-dsa2048-inter', 'ok', 'a DSA-2048 intermediate (q of 224 bits)'],
  ['under-dsa2048q160-inter', CA_KEY, 'DSA with p of 2048 bits and q of 160: half of q (80) counts'],
  ['under-ec-p192-inter', CA_KEY, 'a P-192 intermediate (80 bits)'],
  ['under-ec-p224-inter', 'ok', 'a P-224 intermediate (112 bits)'],
  ['under-ed25519-inter', 'ok', 'an Ed25519 intermediate'],
  ['under-ecdsa-sha1', CA_MD, 'ECDSA with SHA-1 over the leaf'],
  ['under-ecdsa-sha224', 'ok', 'ECDSA with SHA-224'],
  ['self-sha1', 'ok', 'a self-signed SHA-1 leaf trusted as its own anchor: a chain of one, no signature looked at'],
  ['self-weak', EE_KEY, 'a self-signed RSA-1024 leaf trusted as its own anchor: its key is'],
];

describe('security level 2 with and without the TLS library’s own (issue 12, item 5)', {
  timeout: 180_000,
}, () => {
  let pki: MatrixPki;
  let servers: MatrixServers;
  failOnEscapes();
  before(async () => {
    pki = await makeMatrixPki(MAKE);
    servers = new MatrixServers(pki);
  });
  after(async () => {
    emulateLibraryWithoutSecurityLevels(false);
    await servers?.close();
    pki?.remove();
  });
  afterEach(() => {
    emulateLibraryWithoutSecurityLevels(false);
  });

  /** A context trusting `chain`'s root; `ciphers`: a cipher string of its own. */
  function contextFor(chain: string, ciphers?: string): ssl.SSLContext {
    const anchor = pki.read(`${chain}.anchor`).toString().trim();
    const context = ssl.create_default_context({ cafile: pki.file(`${anchor}.pem`) });
    if (ciphers !== undefined) context.set_ciphers(ciphers);
    return context;
  }
  async function conn(chain: string, context: ssl.SSLContext): Promise<HTTPSConnection> {
    const server = await servers.get(chain);
    return new HTTPSConnection('localhost', server.port, {
      timeout: 10,
      context,
      createConnection: routeTo(server.port),
    });
  }
  /** The verdict and error message of one connection, with or without the library's level. */
  async function play(
    chain: string,
    own: boolean,
    ciphers?: string,
  ): Promise<{ verdict: Verdict; message: string }> {
    emulateLibraryWithoutSecurityLevels(own);
    const { verdict, error } = await attempt(await conn(chain, contextFor(chain, ciphers)));
    return { verdict, message: error === null ? '' : String((error as Error).message) };
  }

  it('the seam: the TLS library at level 0 and our check at 2, or the library at 2 alone', () => {
    const context = contextFor('good');
    emulateLibraryWithoutSecurityLevels(true);
    const own = clientSettings(context, 'localhost', 443, null);
    assert.match(String(own.options.ciphers), /:@SECLEVEL=0$/);
    assert.equal(own.ownSecurityLevel, 2);
    emulateLibraryWithoutSecurityLevels(false);
    const real = clientSettings(context, 'localhost', 443, null);
    assert.match(String(real.options.ciphers), /:@SECLEVEL=2$/);
    assert.equal(real.ownSecurityLevel, 0, 'Node’s OpenSSL applies the level itself');
  });

  for (const [chain, expect, why] of CASES) {
    it(`${chain} → ${String(expect)}: ${why}`, async () => {
      const real = await play(chain, false);
      const own = await play(chain, true);
      assert.equal(real.verdict, expect, `with OpenSSL's level: ${real.message}`);
      assert.equal(own.verdict, expect, `with our check: ${own.message}`);
      assert.equal(own.message, real.message);
      if (typeof expect === 'number') {
        assert.match(
          own.message,
          /^\[SSL: CERTIFICATE_VERIFY_FAILED\] certificate verify failed: /,
        );
      }
    });
  }

  it('a level named in the cipher string is the one enforced, both ways', async () => {
    // Level 0: the TLS library (at level 0 in the seam) takes everything, so what refuses
    // these certificates in the cases above is our check.
    for (const own of [false, true]) {
      for (const chain of ['weak-leaf', 'under-weak-root', 'sha1', 'under-sha1-inter']) {
        assert.equal((await play(chain, own, 'DEFAULT:@SECLEVEL=0')).verdict, 'ok', chain);
      }
      // Level 1: RSA-1024 passes, SHA-1 does not (OpenSSL 3 counts it 63 bits).
      assert.equal((await play('weak-leaf', own, 'DEFAULT:@SECLEVEL=1')).verdict, 'ok');
      assert.equal((await play('sha1', own, 'DEFAULT:@SECLEVEL=1')).verdict, CA_MD);
      // Level 3 (128 bits): RSA-2048 is refused, the leaf's key (66) then the root's (67).
      assert.equal((await play('good', own, 'DEFAULT:@SECLEVEL=3')).verdict, CA_KEY);
      assert.equal((await play('self-sha1', own, 'DEFAULT:@SECLEVEL=3')).verdict, EE_KEY);
    }
  });

  it('CERT_NONE checks no key or digest, both ways', async () => {
    for (const own of [false, true]) {
      emulateLibraryWithoutSecurityLevels(own);
      for (const chain of ['weak-leaf', 'sha1', 'under-weak-root']) {
        const context = ssl._create_unverified_context();
        assert.equal((await attempt(await conn(chain, context))).verdict, 'ok', chain);
      }
    }
  });

  it('a resumed session is checked on the chain it was made with', async () => {
    emulateLibraryWithoutSecurityLevels(true);
    const context = contextFor('good');
    const server = await servers.get('good');
    const from = server.sessions.length;
    for (let i = 0; i < 3; i++) {
      assert.match(await fetchBody(await conn('good', context)), /^good client=/);
    }
    for (let i = 0; i < 200 && server.sessions.length < from + 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.deepEqual(
      server.sessions.slice(from).map((s) => s.reused),
      [false, true, true],
      'resumed, and accepted on the kept chain',
    );
  });

  it('a resumed session whose chain was never checked is refused', async () => {
    // A session made where the level was not checked (the cipher string named level 0),
    // slipped under the key of a connection that checks it: resumed, yet refused, since
    // there is no chain to check.
    emulateLibraryWithoutSecurityLevels(true);
    const context = contextFor('weak-leaf', 'DEFAULT:@SECLEVEL=0');
    assert.match(await fetchBody(await conn('weak-leaf', context)), /^weak-leaf /);
    const { cache, entry } = sessionCache(context, null);
    context.set_ciphers('DEFAULT');
    const server = await servers.get('weak-leaf');
    const check = new PeerCheck(clientSettings(context, 'localhost', server.port, null));
    cache.set(check.settings.sessionKey, entry);
    await assertResumedButRefused(check, server.port, 1);
  });

  it('two connections at once, and one after close(), are checked alike', async () => {
    emulateLibraryWithoutSecurityLevels(true);
    const context = contextFor('weak-leaf');
    const [a, b] = await Promise.all([
      attempt(await conn('weak-leaf', context)),
      attempt(await conn('weak-leaf', context)),
    ]);
    assert.deepEqual([a.verdict, b.verdict], [EE_KEY, EE_KEY]);
    const again = await conn('weak-leaf', context);
    again.close();
    assert.equal((await attempt(again)).verdict, EE_KEY);
    // A good server through the same seam, at once: both pass.
    const good = contextFor('good');
    const both = await Promise.all([
      fetchBody(await conn('good', good)),
      fetchBody(await conn('good', good)),
    ]);
    assert.deepEqual(
      both.map((body) => body.startsWith('good ')),
      [true, true],
    );
  });
});
