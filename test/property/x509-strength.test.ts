/**
 * Our reading of OpenSSL's security level (src/client/x509-strength.ts, used where the
 * TLS library has none: Bun, Deno) against OpenSSL itself:
 *
 * - an RSA key's count against libcrypto's `RSA_security_bits` (through Python's ctypes)
 *   for every modulus size from 8 to 20000 bits, at each level's threshold;
 * - every chain of test/fixtures/tls/make-strength-certs.sh (RSA, RSA-PSS, DSA, DH, EC,
 *   Ed25519 keys; MD5, SHA-1, SHA-2, PSS, ECDSA signatures; weak and SHA-1 roots) at
 *   levels 1 to 5 against `openssl verify -auth_level N`: the same first failure, at the
 *   same depth, or none;
 * - certificates cut or corrupted at random: never a throw, and nothing unreadable passes.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import {
  keySecurityBits,
  rsaSecurityBits,
  securityLevelFailures,
  signatureSecurityBits,
} from '../../src/client/x509-strength.ts';

const MAKE = fileURLToPath(new URL('../fixtures/tls/make-strength-certs.sh', import.meta.url));
const LEVEL_BITS = [80, 112, 128, 192, 256];
const CODES: Readonly<Record<string, number>> = {
  EE_KEY_TOO_SMALL: 66,
  CA_KEY_TOO_SMALL: 67,
  CA_MD_TOO_WEAK: 68,
};

/** The certificates of a PEM file, as DER. */
function pemChain(file: string): Buffer[] {
  const text = fs.readFileSync(file, 'latin1');
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map(
    (m) => new X509Certificate(m[0]).raw,
  );
}

describe('security bits as OpenSSL counts them (x509-strength.ts)', { timeout: 180_000 }, () => {
  let dir: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'httplib-ts-strength-'));
    await promisify(execFile)('bash', [MAKE, dir]);
  });
  after(() => {
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('RSA: each level’s threshold where libcrypto’s RSA_security_bits puts it, 8 to 20000 bits', (t) => {
    const script = [
      'import ctypes, ctypes.util, json',
      "lib = ctypes.CDLL(ctypes.util.find_library('crypto'))",
      'lib.BN_new.restype = lib.RSA_new.restype = ctypes.c_void_p',
      'lib.BN_set_bit.argtypes = [ctypes.c_void_p, ctypes.c_int]',
      'lib.BN_set_word.argtypes = [ctypes.c_void_p, ctypes.c_ulong]',
      'lib.RSA_set0_key.argtypes = [ctypes.c_void_p] * 4',
      'lib.RSA_security_bits.argtypes = lib.RSA_free.argtypes = [ctypes.c_void_p]',
      'out = []',
      'for n in range(8, 20001):',
      '    m = lib.BN_new(); lib.BN_set_bit(m, n - 1); e = lib.BN_new(); lib.BN_set_word(e, 65537)',
      '    r = lib.RSA_new(); lib.RSA_set0_key(r, m, e, None)',
      '    out.append(lib.RSA_security_bits(r)); lib.RSA_free(r)',
      'print(json.dumps(out))',
    ].join('\n');
    const run = spawnSync('python3', ['-c', script], { encoding: 'utf8', timeout: 120_000 });
    if (run.status !== 0) {
      t.skip(`python3 with libcrypto is not available: ${run.stderr.trim().split('\n').at(-1)}`);
      return;
    }
    const theirs = JSON.parse(run.stdout) as number[];
    assert.equal(theirs.length, 20000 - 7);
    const wrong: string[] = [];
    theirs.forEach((bits, i) => {
      const n = i + 8;
      for (const min of LEVEL_BITS) {
        if (rsaSecurityBits(n) >= min !== bits >= min) {
          wrong.push(`${n} bits: libcrypto ${bits}, ours ${rsaSecurityBits(n)}`);
        }
      }
    });
    assert.deepEqual(wrong.slice(0, 10), []);
  });

  it('every chain at levels 1 to 5: the first failure openssl verify finds, at its depth', async () => {
    const names = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.anchor'))
      .map((f) => f.slice(0, -'.anchor'.length))
      .sort();
    assert.ok(names.length >= 40, `${names.length} chains`);
    const run = promisify(execFile);
    const jobs = names.flatMap((name) => [1, 2, 3, 4, 5].map((level) => ({ name, level })));
    const wrong: string[] = [];
    // A few openssl processes at a time.
    for (let i = 0; i < jobs.length; i += 8) {
      await Promise.all(
        jobs.slice(i, i + 8).map(async ({ name, level }) => {
          const anchor = fs.readFileSync(path.join(dir, `${name}.anchor`), 'utf8').trim();
          const file = path.join(dir, `${name}.pem`);
          const args = ['verify', '-auth_level', String(level), '-CAfile'];
          args.push(path.join(dir, `${anchor}.pem`), '-untrusted', file, file);
          const out = await run('openssl', args).then(
            (r) => r.stdout + r.stderr,
            (err: { stdout?: string; stderr?: string }) => `${err.stdout}${err.stderr}`,
          );
          const found = /error (\d+) at (\d+) depth/.exec(out);
          const want = found === null ? 'ok' : `${found[1]} at ${found[2]}`;
          if (found === null) assert.match(out, /: OK$/m, out);
          // The chain as verified: what the server sends, then the anchor unless sent.
          const chain = pemChain(file);
          const root = pemChain(path.join(dir, `${anchor}.pem`))[0] as Buffer;
          if (!chain.at(-1)?.equals(root)) chain.push(root);
          const first = securityLevelFailures(chain, level)[0];
          const ours = first === undefined ? 'ok' : `${CODES[first.name]} at ${first.depth}`;
          if (ours !== want) wrong.push(`${name} at level ${level}: openssl ${want}, ours ${ours}`);
        }),
      );
    }
    assert.deepEqual(wrong.sort(), []);
  });

  it('cut or corrupted certificates: no throw, and nothing unreadable passes', () => {
    const good = pemChain(path.join(dir, 'good.pem'))[0] as Buffer;
    assert.equal(keySecurityBits(good), 112);
    assert.equal(signatureSecurityBits(good), 128);
    for (const bad of [Buffer.alloc(0), Buffer.from([0x30]), Buffer.from('not a certificate')]) {
      assert.equal(keySecurityBits(bad), 0);
      assert.equal(signatureSecurityBits(bad), 0);
      assert.deepEqual(
        securityLevelFailures([bad], 2).map((f) => f.name),
        ['EE_KEY_TOO_SMALL'],
      );
    }
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: good.length - 1 }),
        fc.integer({ min: 0, max: 255 }),
        fc.boolean(),
        (at, byte, cut) => {
          const der = cut ? good.subarray(0, at) : Buffer.from(good);
          if (!cut) der[at] = byte;
          const key = keySecurityBits(der);
          const sig = signatureSecurityBits(der);
          assert.ok(Number.isInteger(key) && key >= 0 && Number.isInteger(sig) && sig >= 0);
          // A certificate cut short is not read at all.
          if (cut) assert.deepEqual([key, sig], [0, 0]);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
