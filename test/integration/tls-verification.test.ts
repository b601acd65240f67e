/**
 * The TLS verification matrix, stateless part (issue 12): one connection per case, a
 * server presenting one certificate of the matrix PKI (made by openssl at test time),
 * other host names routed to it on 127.0.0.1 through `createConnection`. Every case
 * states the verdict (`ok`, or OpenSSL's verify code) and why. CPython 3.11's `ssl`
 * makes the same handshakes with the same context (fixtures/tls_oracle.py): where it
 * decides otherwise, the case says what CPython does and why we differ on purpose.
 *
 * The stateful part (settings read at connect, sessions, SNI, tunnels, the legacy
 * class, server-side contexts) is tls-verification-state.test.ts; the CLI's is in
 * test/cli/tls-verification.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HTTPSConnection } from '../../src/index.ts';
import {
  attempt,
  type ContextSpec,
  contextFor,
  type MatrixPki,
  MatrixServers,
  makeMatrixPki,
  routeTo,
  type Verdict,
} from './tls-matrix.ts';

interface Case extends ContextSpec {
  /** The server's leaf (make-verify-certs.sh). */
  readonly server: string;
  /** The host the connection is made to (routed to the server). */
  readonly host: string;
  /** The connection's own `check_hostname` (CPython's oracle has none: skipped there). */
  readonly connCheck?: boolean;
  readonly expect: Verdict;
  readonly why: string;
  /** CPython 3.11 decides otherwise, on purpose: its verdict (the why says why we differ). */
  readonly cpython?: Verdict;
}

const MISMATCH = 62;
const IP_MISMATCH = 64;
const NO_ISSUER = 20;

// biome-ignore format: one case a line reads as a table
const CASES: readonly Case[] = [
  // Host names and IP addresses
  { server: 'good', host: 'localhost', expect: 'ok', why: 'a DNS SAN names the host' },
  { server: 'good', host: 'LOCALHOST', expect: 'ok', why: 'names compare without case' },
  { server: 'good', host: 'good.example.test', expect: 'ok', why: 'any DNS SAN of the list' },
  { server: 'good', host: '127.0.0.1', expect: 'ok', why: 'an IPv4 SAN' },
  { server: 'good', host: '::1', expect: 'ok', why: 'an IPv6 SAN' },
  { server: 'good', host: '0:0:0:0:0:0:0:1', expect: 'ok', why: 'IP addresses compare as bytes, however written' },
  { server: 'good', host: '::ffff:127.0.0.1', expect: IP_MISMATCH, why: 'an IPv4-mapped IPv6 address is not the IPv4 SAN' },
  { server: 'wrongname', host: 'localhost', expect: MISMATCH, why: 'no SAN names the host' },
  { server: 'wrongname', host: '127.0.0.1', expect: IP_MISMATCH, why: 'no IP SAN for the address' },
  { server: 'good', host: 'localhost.', expect: MISMATCH, why: 'a trailing dot is compared as written (CPython/OpenSSL; Node and curl strip it)' },
  { server: 'trailing-dot', host: 'dot.example.test', expect: MISMATCH, why: 'a SAN with a trailing dot only matches it written so' },
  { server: 'upper', host: 'mixedcase.example.test', expect: 'ok', why: 'SANs compare without case too' },
  { server: 'ip-only', host: '127.0.0.1', expect: 'ok', why: 'an IP SAN alone' },
  { server: 'ip-only', host: 'localhost', expect: MISMATCH, why: 'a name never matches an IP SAN' },
  { server: 'dns-ip', host: '127.0.0.1', expect: IP_MISMATCH, why: 'an IP literal only matches IP SANs, not a DNS SAN spelling it' },
  { server: 'ip6', host: '::1', expect: 'ok', why: 'an IPv6 SAN alone' },
  { server: 'ip6', host: '127.0.0.1', expect: IP_MISMATCH, why: 'another address family' },
  // Wildcards (RFC 9525 §6.3, CPython 3.7+: only a whole left-most label `*`)
  { server: 'wild', host: 'a.example.test', expect: 'ok', why: '`*` is a whole left-most label' },
  { server: 'wild', host: 'A.EXAMPLE.TEST', expect: 'ok', why: 'without case' },
  { server: 'wild', host: 'example.test', expect: MISMATCH, why: '`*` matches one label, never none' },
  { server: 'wild', host: 'a.b.example.test', expect: MISMATCH, why: '`*` matches one label, never two' },
  { server: 'wild', host: 'xn--bcher-kva.example.test', expect: 'ok', why: 'a whole-label `*` may stand for an A-label' },
  { server: 'wild', host: 'bücher.example.test', expect: 'ok', why: 'IDNA-encoded first, then the wildcard' },
  { server: 'wild', host: 'a_b.example.test', expect: MISMATCH, why: '`*` stands for letters, digits and hyphens only (OpenSSL)' },
  { server: 'wild-prefix', host: 'foo.example.test', expect: MISMATCH, why: 'no partial wildcard `f*`' },
  { server: 'wild-prefix', host: 'f.example.test', expect: MISMATCH, why: 'no partial wildcard `f*`, even for the prefix alone' },
  { server: 'wild-suffix', host: 'foo.example.test', expect: MISMATCH, why: 'no partial wildcard `*oo`' },
  { server: 'wild-alabel', host: 'xn--bcher-kva.example.test', expect: MISMATCH, why: 'no partial wildcard, least of all over an A-label' },
  { server: 'wild-tld', host: 'a.test', expect: MISMATCH, why: '`*.test` is no wildcard (fewer than two dots)' },
  { server: 'wild-inner', host: 'a.b.example.test', expect: MISMATCH, why: '`*` only in the left-most label' },
  { server: 'wild-two', host: 'a.b.example.test', expect: MISMATCH, why: 'one `*` at most' },
  // Internationalised names: IDNA for the check (and SNI: the state tests)
  { server: 'idn', host: 'bücher.example.test', expect: 'ok', why: 'a U-label host is IDNA-encoded to the SAN’s A-label' },
  { server: 'idn', host: 'BÜCHER.example.test', expect: 'ok', why: 'IDNA maps case too' },
  { server: 'idn', host: 'xn--bcher-kva.example.test', expect: 'ok', why: 'the A-label as given' },
  // The subject's CN (hostname_checks_common_name)
  { server: 'cn-only', host: 'cn-only.example.test', expect: MISMATCH, cpython: 'ok', why: 'no DNS SAN: no match by default (RFC 9525, browsers, Go); CPython still falls back to the CN' },
  { server: 'cn-only', host: 'cn-only.example.test', commonName: true, expect: 'ok', why: 'hostname_checks_common_name = true: the CN counts when there is no DNS SAN' },
  { server: 'cn-only', host: 'cn-only.example.test', commonName: false, expect: MISMATCH, why: 'hostname_checks_common_name = false, as CPython' },
  { server: 'cn-wild', host: 'a.cn.example.test', commonName: true, expect: 'ok', why: 'a CN is matched by the same wildcard rules' },
  { server: 'cn-and-san', host: 'cn.example.test', commonName: true, expect: MISMATCH, why: 'a DNS SAN is there: the CN is never looked at' },
  { server: 'cn-and-san', host: 'san.example.test', commonName: true, expect: 'ok', why: 'the SAN' },
  { server: 'cn-ip', host: '127.0.0.1', commonName: true, expect: IP_MISMATCH, why: 'an IP address is never matched against the CN' },
  // Chains
  { server: 'chained', host: 'localhost', expect: 'ok', why: 'the server sends its intermediate' },
  { server: 'chained-alone', host: 'localhost', expect: NO_ISSUER, why: 'no intermediate sent, none fetched' },
  { server: 'chained-alone', host: 'localhost', trust: { cafile: 'inter.pem' }, expect: 2, why: 'an intermediate alone is no trust anchor (no partial chains): its issuer is missing' },
  { server: 'under-noca', host: 'localhost', expect: 26, cpython: 79, why: 'the issuer is not a CA (CA:FALSE). Refused on both sides; OpenSSL’s first error is 79, and Node reports the last one' },
  { server: 'too-deep', host: 'localhost', expect: 25, why: 'pathlen:0 with another CA under it' },
  { server: 'client-eku', host: 'localhost', expect: 26, why: 'extendedKeyUsage clientAuth only' },
  { server: 'expired', host: 'localhost', expect: 10, why: 'expired in 2020' },
  { server: 'future', host: 'localhost', expect: 9, why: 'valid from 2099' },
  { server: 'sha1', host: 'localhost', expect: 68, why: 'a SHA-1 signature (security level 2; 1 too)' },
  { server: 'weak-leaf', host: 'localhost', expect: 66, why: 'an RSA-1024 leaf (security level 2, as CPython 3.10+)' },
  { server: 'under-weak-root', host: 'localhost', trust: { cafile: 'weak-root.pem' }, expect: 67, why: 'an RSA-1024 root (security level 2)' },
  { server: 'unknown-critical', host: 'localhost', expect: 34, why: 'an unknown critical extension' },
  { server: 'nc-ok', host: 'ok.allowed.test', trust: { cafile: 'nc-root.pem' }, expect: 'ok', why: 'inside the root’s name constraints' },
  { server: 'nc-violation', host: 'localhost', trust: { cafile: 'nc-root.pem' }, expect: 47, why: 'outside the root’s name constraints' },
  { server: 'untrusted', host: 'localhost', expect: NO_ISSUER, why: 'issued by a root nobody trusts' },
  { server: 'selfsigned', host: 'localhost', expect: 18, why: 'self-signed, not trusted' },
  { server: 'selfsigned', host: 'localhost', trust: { cafile: 'selfsigned.pem' }, expect: 'ok', why: 'a self-signed leaf trusted as its own anchor' },
  // Trust stores
  { server: 'good', host: 'localhost', trust: 'none', expect: NO_ISSUER, why: 'a bare PROTOCOL_TLS_CLIENT context trusts nothing' },
  { server: 'good', host: 'localhost', trust: 'default', expect: NO_ISSUER, why: 'the default store does not hold the test root' },
  { server: 'mtls', host: 'localhost', trust: 'default', expect: 19, why: 'nor when the server sends the root along' },
  { server: 'good', host: 'localhost', trust: { cadata: 'root.pem' }, expect: 'ok', why: 'cadata as PEM text' },
  { server: 'good', host: 'localhost', trust: { cadata: 'root.der', der: true }, expect: 'ok', why: 'cadata as DER bytes' },
  { server: 'good', host: 'localhost', trust: { cafile: 'other-root.pem' }, expect: NO_ISSUER, why: 'the wrong root' },
  { server: 'good', host: 'localhost', trust: { capath: 'capath-good' }, expect: 'ok', why: 'capath: <subject hash>.0' },
  { server: 'good', host: 'localhost', trust: { capath: 'capath-unhashed' }, expect: NO_ISSUER, why: 'capath: a file not named by its hash is never read' },
  { server: 'good', host: 'localhost', trust: { capath: 'capath-wronghash' }, expect: NO_ISSUER, why: 'capath: a hash name that is not the subject’s' },
  { server: 'good', host: 'localhost', trust: { capath: 'capath-one' }, expect: NO_ISSUER, why: 'capath: <hash>.1 without <hash>.0 is not looked at' },
  { server: 'good', host: 'localhost', trust: { capath: 'capath-dangling' }, expect: 'ok', why: 'capath: dangling symbolic links are skipped' },
  { server: 'good', host: 'localhost', trust: { capath: 'capath-trusted' }, expect: 'ok', why: 'capath: a BEGIN TRUSTED CERTIFICATE file' },
  { server: 'good', host: 'localhost', trust: { cafile: 'root-trusted.pem' }, expect: 'ok', why: 'cafile: BEGIN TRUSTED CERTIFICATE, trusted for serverAuth' },
  { server: 'good', host: 'localhost', trust: { cafile: 'root-rejected.pem' }, expect: 26, cpython: 28, why: 'cafile: serverAuth rejected. Refused on both sides; OpenSSL’s first error is 28, and Node reports the last one' },
  { server: 'good', host: 'localhost', trust: { cafile: 'root-clientonly.pem' }, expect: 26, cpython: 28, why: 'cafile: trusted for clientAuth only (same codes as above)' },
  // Context settings
  { server: 'wrongname', host: 'localhost', checkHostname: false, expect: 'ok', why: 'check_hostname off: any name' },
  { server: 'selfsigned', host: 'localhost', checkHostname: false, expect: 18, why: 'check_hostname off still verifies the chain' },
  { server: 'selfsigned', host: 'localhost', verify: 'optional', expect: 18, why: 'CERT_OPTIONAL is CERT_REQUIRED for a client' },
  { server: 'selfsigned', host: 'other.example.test', verify: 'none', expect: 'ok', why: 'CERT_NONE verifies nothing' },
  { server: 'weak-leaf', host: 'localhost', verify: 'none', expect: 'ok', why: 'CERT_NONE: not the key size either' },
  { server: 'sha1', host: 'localhost', verify: 'none', expect: 'ok', why: 'CERT_NONE: not the signature either' },
  { server: 'wrongname', host: 'localhost', connCheck: false, expect: 'ok', why: 'the connection’s check_hostname: false' },
  { server: 'wrongname', host: 'localhost', checkHostname: false, connCheck: true, expect: MISMATCH, why: 'the connection’s check_hostname: true over a context without' },
  { server: 'wild-prefix', host: 'foo.example.test', connCheck: false, expect: 'ok', why: 'no check: no name rule applies' },
];

function label(c: Case): string {
  const spec = JSON.stringify({
    trust: c.trust,
    verify: c.verify,
    checkHostname: c.checkHostname,
    commonName: c.commonName,
    connCheck: c.connCheck,
  });
  return `${c.server} as ${c.host} ${spec === '{}' ? '' : `${spec} `}→ ${c.expect}: ${c.why}`;
}

describe('TLS verification matrix (issue 12)', { timeout: 120_000 }, () => {
  let pki: MatrixPki;
  let servers: MatrixServers;
  before(async () => {
    pki = await makeMatrixPki();
    servers = new MatrixServers(pki);
  });
  after(async () => {
    await servers?.close();
    pki?.remove();
  });

  for (const c of CASES) {
    it(label(c), async () => {
      const server = await servers.get(c.server);
      const conn = new HTTPSConnection(c.host, server.port, {
        timeout: 10,
        context: contextFor(pki, c),
        createConnection: routeTo(server.port),
        ...(c.connCheck === undefined ? {} : { check_hostname: c.connCheck }),
      });
      const { verdict, error } = await attempt(conn);
      assert.equal(verdict, c.expect, `${String(verdict)}: ${String(error)}`);
      if (typeof c.expect === 'number') {
        // The message is OpenSSL's (or Python's) text, never Node's code name.
        assert.match(
          String((error as Error).message),
          /^\[SSL: CERTIFICATE_VERIFY_FAILED\] certificate verify failed: [a-zA-Z]/,
        );
      }
    });
  }

  it('CPython 3.11 decides every case alike, except where a case says it differs on purpose', async (t) => {
    const probe = spawnSync('python3', [
      '-c',
      'import ssl, sys; assert sys.version_info >= (3, 10)',
    ]);
    if (probe.status !== 0) {
      t.skip('python3 (3.10+) is not available');
      return;
    }
    const cases: Array<Case & { id: string; port: number }> = [];
    for (const [i, c] of CASES.entries()) {
      if (c.connCheck !== undefined) continue;
      const server = await servers.get(c.server);
      cases.push({ ...c, id: String(i), port: server.port });
    }
    const oracle = fileURLToPath(new URL('./fixtures/tls_oracle.py', import.meta.url));
    // Asynchronously: the servers answering it run in this process.
    const out = await new Promise<string>((resolve, reject) => {
      const child = execFile(
        'python3',
        [oracle, pki.dir],
        { timeout: 60_000 },
        (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      );
      child.stdin?.end(JSON.stringify(cases));
    });
    const verdicts = JSON.parse(out) as Record<string, Verdict>;
    const wrong: string[] = [];
    for (const [i, c] of CASES.entries()) {
      if (c.connCheck !== undefined) continue;
      const want = c.cpython ?? c.expect;
      if (verdicts[String(i)] !== want)
        wrong.push(`${label(c)}: CPython says ${String(verdicts[String(i)])}`);
    }
    assert.deepEqual(wrong, []);
  });
});
