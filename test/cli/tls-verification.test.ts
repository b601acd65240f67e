/**
 * The `httplib` command and the TLS verification rules (issue 12): `--cacert FILE`
 * replaces the default store (Node's roots and NODE_EXTRA_CA_CERTS), as curl's does;
 * every certificate verification failure, the ones Node reports without a code name
 * included (weak keys, SHA-1 signatures, name constraints, unknown critical
 * extensions), exits 60 with OpenSSL's reason, never 43 ("internal error"). Servers
 * from the matrix PKI (test/integration/tls-matrix.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type MatrixPki, MatrixServers, makeMatrixPki } from '../integration/tls-matrix.ts';
import { assertFailure, ensureBuilt, runCli } from './cli-harness.ts';

describe('httplib and the TLS verification rules', { timeout: 120_000 }, () => {
  let pki: MatrixPki;
  let servers: MatrixServers;
  before(async () => {
    ensureBuilt();
    pki = await makeMatrixPki();
    servers = new MatrixServers(pki);
  });
  after(async () => {
    await servers?.close();
    pki?.remove();
  });

  it('--cacert replaces the default store: a CA of NODE_EXTRA_CA_CERTS is not trusted', async () => {
    const good = await servers.get('good');
    const url = `https://localhost:${good.port}/`;
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: pki.file('root.pem') };
    // Without --cacert, the default store (with the extra CA) verifies the server.
    const plain = await runCli([url], { env });
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.out, 'good client=-');
    // With --cacert naming another CA, only that CA counts.
    const other = await runCli([url, '--cacert', pki.file('other-root.pem')], { env });
    assertFailure(other, 60, /did not verify: unable to get local issuer certificate/);
    // And with --cacert naming the right one, it verifies.
    const right = await runCli([url, '--cacert', pki.file('root.pem')], { env });
    assert.equal(right.code, 0, right.stderr);
  });

  // [leaf, host, OpenSSL's reason]
  const rows: Array<[string, string, RegExp]> = [
    ['sha1', 'localhost', /CA signature digest algorithm too weak/],
    ['weak-leaf', 'localhost', /EE certificate key too weak/],
    ['nc-violation', 'localhost', /permitted subtree violation/],
    ['unknown-critical', 'localhost', /unhandled critical extension/],
  ];
  for (const [leaf, host, why] of rows) {
    it(`${leaf}: exit 60, ${why.source}`, async () => {
      const server = await servers.get(leaf);
      const ca = leaf === 'nc-violation' ? 'nc-root.pem' : 'root.pem';
      const r = await runCli([`https://${host}:${server.port}/`, '--cacert', pki.file(ca)]);
      assertFailure(r, 60, why);
      // -k accepts it all.
      const k = await runCli([`https://${host}:${server.port}/`, '-k']);
      assert.equal(k.code, 0, k.stderr);
    });
  }
});
