/**
 * Our host-name check and subject hash (src/client/tls-verify.ts, x509-der.ts) against
 * OpenSSL's own, the functions CPython relies on (issue 12):
 *
 * - `matchesHostname` against `X509_check_host` / `X509_check_ip` as CPython 3.7+ calls
 *   them (partial wildcards off; the subject's CN never, or only without a DNS SAN),
 *   reached through Node's `X509Certificate.checkHost`/`checkIP`: a table of patterns
 *   times host names, then random ones. The certificates are built in memory (a
 *   signature is not checked to read names).
 * - `subjectHash` against `openssl x509 -hash` on certificates made by openssl with
 *   subjects that exercise OpenSSL's canonical form (case, spaces, multi-valued RDNs,
 *   PrintableString, T61String, BMPString, UTF8String).
 * - `oidValue` (the DER of an OID, which the security-level tables are written in)
 *   against `openssl asn1parse -genconf` for random OIDs and ones with long arcs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import { isIP } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { matchesHostname } from '../../src/client/tls-verify.ts';
import { certificateNames, oidValue, subjectHash } from '../../src/client/x509-der.ts';

function der(tag: number, ...parts: Buffer[]): Buffer {
  const value = Buffer.concat(parts);
  const len = value.length;
  const header =
    len < 0x80 ? [tag, len] : len < 0x100 ? [tag, 0x81, len] : [tag, 0x82, len >> 8, len & 0xff];
  return Buffer.concat([Buffer.from(header), value]);
}
const oid = (hex: string): Buffer => der(0x06, Buffer.from(hex, 'hex'));
const SPKI = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
  type: 'spki',
  format: 'der',
});
const SHA256_RSA = der(0x30, oid('2a864886f70d01010b'), Buffer.from([5, 0]));

/** A certificate (badly signed: only its names are read) with this CN and these SANs. */
function certificate(
  cn: string | null,
  dns: readonly string[],
  ips: readonly Buffer[] = [],
): Buffer {
  const name = (value: string | null): Buffer =>
    der(
      0x30,
      ...(value === null
        ? []
        : [der(0x31, der(0x30, oid('550403'), der(0x0c, Buffer.from(value, 'utf8'))))]),
    );
  const sans = [
    ...dns.map((d) => der(0x82, Buffer.from(d, 'latin1'))),
    ...ips.map((ip) => der(0x87, ip)),
  ];
  const extensions =
    sans.length === 0
      ? []
      : [der(0xa3, der(0x30, der(0x30, oid('551d11'), der(0x04, der(0x30, ...sans)))))];
  const time = (t: string): Buffer => der(0x17, Buffer.from(t));
  const tbs = der(
    0x30,
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, Buffer.from([1])),
    SHA256_RSA,
    name('issuer'),
    der(0x30, time('200101000000Z'), time('491231235959Z')),
    name(cn),
    SPKI,
    ...extensions,
  );
  return der(0x30, tbs, SHA256_RSA, der(0x03, Buffer.from([0, 1, 2, 3])));
}

/** What OpenSSL says, with CPython's flags. */
function openssl(cert: Buffer, host: string, commonName: boolean): boolean {
  const x = new X509Certificate(cert);
  if (isIP(host) !== 0) return x.checkIP(host) !== undefined;
  return (
    x.checkHost(host, { subject: commonName ? 'default' : 'never', partialWildcards: false }) !==
    undefined
  );
}

const PATTERNS = [
  '*.example.test',
  'f*.example.test',
  '*oo.example.test',
  'x*.example.test',
  'xn--*.example.test',
  '*.test',
  '*',
  '*.',
  'a.*.example.test',
  '*.*.example.test',
  'foo.example.test',
  'FOO.Example.TEST',
  'xn--bcher-kva.example.test',
  '*.xn--bcher-kva.example.test',
  '*-a.example.test',
  '-a.example.test',
  'a-.example.test',
  '*.a-.example.test',
  'a..example.test',
  '*..example.test',
  'example.test.',
  '*.example.test.',
  'a_b.example.test',
  '*.a_b.example.test',
  '1.2.3.4',
  '*.2.3.4',
  '',
];
const HOSTS = [
  'foo.example.test',
  'f.example.test',
  'a.example.test',
  'A.EXAMPLE.TEST',
  'example.test',
  'a.b.example.test',
  'xn--bcher-kva.example.test',
  'x.xn--bcher-kva.example.test',
  'xn--x.example.test',
  'a_b.example.test',
  'x.a_b.example.test',
  'a.test',
  'test',
  'example.test.',
  'a.example.test.',
  '*.example.test',
  '-a.example.test',
  'b-a.example.test',
  'a-.example.test',
  'x.a-.example.test',
  'a..example.test',
  '1.2.3.4',
  '9.2.3.4',
  '::1',
];

describe('host-name check = OpenSSL with CPython’s flags (issue 12)', () => {
  it('every pattern × host as a DNS SAN, as the CN without a SAN, and as the CN beside a SAN', () => {
    const wrong: string[] = [];
    for (const pattern of PATTERNS) {
      const certs: Array<[string, Buffer]> = [
        ['SAN', certificate('cn', [pattern])],
        ['CN', certificate(pattern, [])],
        ['CN+IP SAN', certificate(pattern, [], [Buffer.from([9, 9, 9, 9])])],
        ['CN+SAN', certificate(pattern, ['other.example.test'])],
      ];
      for (const [kind, cert] of certs) {
        for (const host of HOSTS) {
          for (const cn of [false, true]) {
            const want = openssl(cert, host, cn);
            if (matchesHostname(cert, host, cn) !== want) {
              wrong.push(
                `${kind} ${JSON.stringify(pattern)} vs ${host} (cn ${cn}): OpenSSL ${want}`,
              );
            }
          }
        }
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('IP SANs: compared as bytes, IPv4 and IPv6, never against DNS SANs or the CN', () => {
    const v4 = Buffer.from([127, 0, 0, 1]);
    const v6 = Buffer.concat([Buffer.alloc(15), Buffer.from([1])]);
    const mapped = Buffer.concat([Buffer.alloc(10), Buffer.from([0xff, 0xff, 127, 0, 0, 1])]);
    const cert = certificate('127.0.0.1', ['127.0.0.1', '::1'], [v4, v6, mapped]);
    const bare = certificate('127.0.0.1', ['127.0.0.1']);
    for (const host of [
      '127.0.0.1',
      '::1',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '127.0.0.2',
      '::2',
      '1::',
      '2001:db8::1',
    ]) {
      for (const c of [cert, bare]) {
        assert.equal(matchesHostname(c, host, true), openssl(c, host, true), host);
      }
    }
  });

  it('random patterns and hosts agree with OpenSSL', () => {
    const label = fc
      .array(fc.constantFrom('a', 'f', 'o', 'x', 'n', 'A', '-', '*', '_', '1', 'xn--'), {
        minLength: 0,
        maxLength: 4,
      })
      .map((parts) => parts.join(''));
    const name = fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.'));
    fc.assert(
      fc.property(name, name, fc.boolean(), (pattern, host, cn) => {
        // Hosts that never reach the check: empty, or with a leading dot (Python and
        // serverHostname refuse them; OpenSSL would take the dot as "any sub-domain").
        if (host === '' || host.startsWith('.')) return;
        for (const cert of [certificate('cn', [pattern]), certificate(pattern, [])]) {
          assert.equal(
            matchesHostname(cert, host, cn),
            openssl(cert, host, cn),
            `${pattern} vs ${host}`,
          );
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('a certificate that does not parse matches nothing', () => {
    assert.equal(matchesHostname(Buffer.from([0x30, 0x03, 0x02, 0x01]), 'localhost', true), false);
    assert.equal(matchesHostname(Buffer.alloc(0), 'localhost', true), false);
  });
});

describe('subjectHash = openssl x509 -hash', () => {
  it('on subjects that exercise OpenSSL’s canonical form', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'httplib-ts-hash-'));
    try {
      const key = path.join(dir, 'key.pem');
      execFileSync(
        'openssl',
        ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key],
        { stdio: 'ignore' },
      );
      const subjects = [
        '/CN=httplib-ts test CA',
        '/CN=  Hello   World  /O=ACME Corp/C=DE',
        '/CN=a+O=b+OU=Zz/L=x',
        '/CN=Bücher Straße/O=Ünïcode',
        '/emailAddress=Foo@Example.COM/CN=X',
        '/CN=tab\tin\tname',
        '/CN=Łódź ĀB/O=日本',
        '/DC=com/DC=Example/CN=UPPER lower',
      ];
      let n = 0;
      for (const mask of ['default', 'pkix', 'nombstr', 'utf8only']) {
        const cnf = path.join(dir, `${mask}.cnf`);
        fs.writeFileSync(cnf, `[req]\ndistinguished_name=dn\nstring_mask=${mask}\n[dn]\n`);
        for (const subject of subjects) {
          const file = path.join(dir, `c${n++}.pem`);
          try {
            execFileSync(
              'openssl',
              [
                'req',
                '-x509',
                '-new',
                '-key',
                key,
                '-utf8',
                '-config',
                cnf,
                '-multivalue-rdn',
                '-subj',
                subject,
                '-days',
                '1',
                '-out',
                file,
              ],
              { stdio: 'ignore' },
            );
          } catch {
            continue; // a subject the mask cannot hold (nombstr and non-Latin-1 text)
          }
          const want = execFileSync('openssl', ['x509', '-hash', '-noout', '-in', file])
            .toString()
            .trim();
          const cert = new X509Certificate(fs.readFileSync(file));
          assert.equal(subjectHash(certificateNames(cert.raw).subject), want, `${mask} ${subject}`);
        }
      }
      assert.ok(n >= 30);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('oidValue = the DER openssl writes for an OID', () => {
  it('random OIDs (first two arcs in one byte, later arcs up to 2^40) and known ones', () => {
    const known = ['2.5.4.3', '2.5.29.17', '1.2.840.113549.1.1.10', '1.3.6.1.4.1.311.60.2.1.3'];
    const arcs = fc.oneof(
      fc.integer({ min: 0, max: 200 }),
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      fc.double({ min: 0, max: 2 ** 40, noNaN: true }).map(Math.floor),
    );
    const random = fc.sample(
      fc
        .tuple(
          fc.integer({ min: 0, max: 2 }),
          fc.integer({ min: 0, max: 39 }),
          fc.array(arcs, { maxLength: 8 }),
        )
        .map(([a, b, rest]) => [a, b, ...rest].join('.')),
      { numRuns: 300, seed: 14 },
    );
    const oids = [...known, ...random];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'httplib-ts-oid-'));
    try {
      const cnf = path.join(dir, 'oids.cnf');
      fs.writeFileSync(
        cnf,
        `asn1=SEQUENCE:seq\n[seq]\n${oids.map((o, i) => `o${i}=OID:${o}`).join('\n')}\n`,
      );
      const der = execFileSync('openssl', ['asn1parse', '-genconf', cnf, '-noout', '-out', '-']);
      // The SEQUENCE's header (long form length), then one OID TLV per line of the file.
      let at = 2 + ((der[1] as number & 0x80) ? (der[1] as number) & 0x7f : 0);
      for (const oid of oids) {
        assert.equal(der[at], 0x06, `not an OID at ${at}`);
        const len = der[at + 1] as number;
        assert.ok(len < 0x80);
        const want = der.subarray(at + 2, at + 2 + len).toString('hex');
        assert.equal(oidValue(oid), want, oid);
        at += 2 + len;
      }
      assert.equal(at, der.length);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
