/**
 * OpenSSL's security level for certificates, counted from the DER, for the runtimes whose
 * TLS library cannot be asked for it: Bun's BoringSSL has no security levels (it refuses
 * `@SECLEVEL=n` in a cipher string) and Deno's TLS layer ignores cipher strings. There,
 * tls-verify.ts runs {@link securityLevelFailures} after every handshake, so that a weak
 * certificate is refused with the same `verify_code` as OpenSSL gives on Node.js.
 *
 * The numbers are OpenSSL 3's (checked against libcrypto and `openssl verify -auth_level`
 * by test/property/x509-strength.test.ts): a key or a signature has some "security bits",
 * and level n asks for at least 80, 112, 128, 192 or 256 of them (levels 1 to 5).
 *
 * Reads only; a certificate, key or algorithm that does not parse or is not known counts
 * as 0 bits, so it fails every level, as in OpenSSL ("unsupported or malformed keys are
 * not secure"). No I/O here.
 */
import { children, oidValue, readTlv, type Tlv } from './x509-der.ts';

/** The security bits level 1 to 5 ask for (OpenSSL's `minbits_table`). */
const MIN_BITS = [80, 112, 128, 192, 256] as const;

/**
 * The smallest RSA modulus, in bits, with at least as many security bits as each level
 * asks for. OpenSSL 3 counts an RSA key's bits by NIST's estimate for factoring, rounded to
 * a multiple of 8 (`RSA_security_bits`), which is not the step table of OpenSSL 1.1: a
 * 1963-bit modulus is 112 bits (level 2 takes it), 1962 is 104. These are the points where
 * libcrypto 3.0's count reaches each level (its count never goes down as the modulus grows);
 * the property test compares them with libcrypto for every size from 8 to 20000 bits.
 */
const RSA_MIN_MODULUS = [920, 1963, 2671, 6947, 13914] as const;

/**
 * @internal Security bits of an RSA key of `modulusBits`, rounded down to the nearest
 * value a level asks for (4096 bits: 128 here, 152 in OpenSSL), which decides every level
 * as OpenSSL's count does.
 */
export function rsaSecurityBits(modulusBits: number): number {
  let bits = 0;
  RSA_MIN_MODULUS.forEach((min, i) => {
    if (modulusBits >= min) bits = MIN_BITS[i] as number;
  });
  return bits;
}

/** Security bits of a DSA or DH group: p's size, capped by half q's (OpenSSL's `BN_security_bits`). */
function groupBits(pBits: number, qBits: number | null): number {
  let bits: number;
  if (pBits >= 15360) bits = 256;
  else if (pBits >= 7680) bits = 192;
  else if (pBits >= 3072) bits = 128;
  else if (pBits >= 2048) bits = 112;
  else if (pBits >= 1024) bits = 80;
  else return 0;
  if (qBits === null) return bits;
  const half = Math.floor(qBits / 2);
  return half < 80 ? 0 : Math.min(bits, half);
}

/** Security bits of an elliptic curve by its order's size (OpenSSL's EC key management). */
function curveBits(orderBits: number): number {
  if (orderBits >= 512) return 256;
  if (orderBits >= 384) return 192;
  if (orderBits >= 256) return 128;
  if (orderBits >= 224) return 112;
  if (orderBits >= 160) return 80;
  return Math.floor(orderBits / 2);
}

/** Named prime curves by OID, with the size of their order in bits (from OpenSSL's own tables). */
const CURVE_ORDER_BITS = new Map<string, number>([
  ...(
    [
      [6, 112], // secp112r1
      [7, 110], // secp112r2
      [28, 128], // secp128r1
      [29, 126], // secp128r2
      [9, 161], // secp160k1
      [8, 161], // secp160r1
      [30, 161], // secp160r2
      [31, 192], // secp192k1
      [32, 225], // secp224k1
      [33, 224], // secp224r1 (P-224)
      [10, 256], // secp256k1
      [34, 384], // secp384r1 (P-384)
      [35, 521], // secp521r1 (P-521)
    ] as const
  ).map(([arc, bits]) => [oidValue(`1.3.132.0.${arc}`), bits] as const),
  // prime192v1 (P-192) to v3, prime239v1 to v3, prime256v1 (P-256)
  ...[192, 192, 192, 239, 239, 239, 256].map(
    (bits, i) => [oidValue(`1.2.840.10045.3.1.${i + 1}`), bits] as const,
  ),
  // brainpoolP160r1/t1 … brainpoolP512r1/t1
  ...[160, 160, 192, 192, 224, 224, 256, 256, 320, 320, 384, 384, 512, 512].map(
    (bits, i) => [oidValue(`1.3.36.3.3.2.8.1.1.${i + 1}`), bits] as const,
  ),
  [oidValue('1.2.156.10197.1.301'), 256], // SM2
]);

const RSA = oidValue('1.2.840.113549.1.1.1');
const RSA_PSS = oidValue('1.2.840.113549.1.1.10');
const DSA = oidValue('1.2.840.10040.4.1');
const DH_X942 = oidValue('1.2.840.10046.2.1');
const DH_PKCS3 = oidValue('1.2.840.113549.1.3.1');
const EC = oidValue('1.2.840.10045.2.1');
/** Keys of a fixed size: X25519, X448, Ed25519, Ed448. */
const FIXED_KEY_BITS = new Map<string, number>([
  [oidValue('1.3.101.110'), 128],
  [oidValue('1.3.101.111'), 224],
  [oidValue('1.3.101.112'), 128],
  [oidValue('1.3.101.113'), 224],
]);

/**
 * Security bits of a digest in a certificate signature: half its size, except MD5 (39)
 * and SHA-1 (63), which OpenSSL 3 counts by the known collision attacks so that level 1
 * refuses them already.
 */
const MD5 = 39;
const SHA1 = 63;
const DIGEST_BITS = new Map<string, number>([
  [oidValue('1.2.840.113549.2.5'), MD5],
  [oidValue('1.3.14.3.2.26'), SHA1],
  // sha256, sha384, sha512, sha224, sha512-224, sha512-256, sha3-224 … sha3-512
  ...[128, 192, 256, 112, 112, 128, 112, 128, 192, 256].map(
    (bits, i) => [oidValue(`2.16.840.1.101.3.4.2.${i + 1}`), bits] as const,
  ),
]);

/** Signature algorithms by OID, with their security bits (RSASSA-PSS: by its parameters). */
const SIGNATURE_BITS = new Map<string, number>([
  [oidValue('1.2.840.113549.1.1.2'), 64], // md2WithRSAEncryption
  [oidValue('1.2.840.113549.1.1.3'), 64], // md4WithRSAEncryption
  [oidValue('1.2.840.113549.1.1.4'), MD5], // md5WithRSAEncryption
  [oidValue('1.2.840.113549.1.1.5'), SHA1], // sha1WithRSAEncryption
  [oidValue('1.3.14.3.2.29'), SHA1], // sha1WithRSASignature (OIW)
  [oidValue('1.2.840.113549.1.1.11'), 128], // sha256WithRSAEncryption
  [oidValue('1.2.840.113549.1.1.12'), 192], // sha384WithRSAEncryption
  [oidValue('1.2.840.113549.1.1.13'), 256], // sha512WithRSAEncryption
  [oidValue('1.2.840.113549.1.1.14'), 112], // sha224WithRSAEncryption
  [oidValue('1.2.840.113549.1.1.15'), 112], // sha512-224WithRSAEncryption
  [oidValue('1.2.840.113549.1.1.16'), 128], // sha512-256WithRSAEncryption
  [oidValue('1.3.36.3.3.1.2'), 80], // ripemd160WithRSA
  [oidValue('1.2.840.10045.4.1'), SHA1], // ecdsa-with-SHA1
  [oidValue('1.2.840.10045.4.3.1'), 112], // ecdsa-with-SHA224
  [oidValue('1.2.840.10045.4.3.2'), 128], // ecdsa-with-SHA256
  [oidValue('1.2.840.10045.4.3.3'), 192], // ecdsa-with-SHA384
  [oidValue('1.2.840.10045.4.3.4'), 256], // ecdsa-with-SHA512
  [oidValue('1.2.840.10040.4.3'), SHA1], // dsa-with-SHA1
  [oidValue('1.3.14.3.2.27'), SHA1], // dsaWithSHA1 (OIW)
  [oidValue('1.3.101.112'), 128], // Ed25519
  [oidValue('1.3.101.113'), 224], // Ed448
  [oidValue('1.2.156.10197.1.501'), 128], // SM2 with SM3
  // dsa-with-sha224 … sha512, dsa/ecdsa/RSA with sha3-224 … sha3-512
  ...[112, 128, 192, 256, 112, 128, 192, 256, 112, 128, 192, 256, 112, 128, 192, 256].map(
    (bits, i) => [oidValue(`2.16.840.1.101.3.4.3.${i + 1}`), bits] as const,
  ),
]);

function hexOf(buf: Buffer, tlv: Tlv): string {
  return buf.subarray(tlv.valueStart, tlv.end).toString('hex');
}

/** The size in bits of a DER INTEGER's value (OpenSSL's `BN_num_bits`); 0 for a negative one. */
function integerBits(buf: Buffer, tlv: Tlv): number {
  if (tlv.tag !== 0x02) throw new TypeError('malformed certificate: not an INTEGER');
  let i = tlv.valueStart;
  if (i < tlv.end && ((buf[i] as number) & 0x80) !== 0) return 0;
  while (i < tlv.end && buf[i] === 0) i++;
  if (i === tlv.end) return 0;
  return (tlv.end - i - 1) * 8 + (buf[i] as number).toString(2).length;
}

/** A small non-negative DER INTEGER's value (0 when it does not fit in 48 bits). */
function smallInteger(buf: Buffer, tlv: Tlv): number {
  if (tlv.tag !== 0x02 || integerBits(buf, tlv) > 48) return 0;
  let value = 0;
  for (let i = tlv.valueStart; i < tlv.end; i++) value = value * 256 + (buf[i] as number);
  return value;
}

/** The tbsCertificate's fields and the outer signatureAlgorithm of a DER certificate. */
function certificateParts(buf: Buffer): { tbs: Tlv[]; signatureAlgorithm: Tlv } {
  const cert = readTlv(buf, 0);
  const [tbs, signatureAlgorithm] = children(buf, cert);
  if (cert.tag !== 0x30 || tbs?.tag !== 0x30 || signatureAlgorithm?.tag !== 0x30) {
    throw new TypeError('malformed certificate: no tbsCertificate or signatureAlgorithm');
  }
  return { tbs: children(buf, tbs), signatureAlgorithm };
}

/** Security bits of a SubjectPublicKeyInfo (OpenSSL's `EVP_PKEY_get_security_bits`). */
function publicKeyBits(buf: Buffer, spki: Tlv): number {
  const [algorithm, key] = children(buf, spki);
  if (algorithm === undefined || key?.tag !== 0x03) return 0;
  const [oid, params] = children(buf, algorithm);
  if (oid?.tag !== 0x06) return 0;
  const id = hexOf(buf, oid);
  const fixed = FIXED_KEY_BITS.get(id);
  if (fixed !== undefined) return fixed;
  if (id === RSA || id === RSA_PSS) {
    // BIT STRING: one byte of unused bits, then RSAPublicKey { modulus, publicExponent }.
    const rsaKey = readTlv(buf, key.valueStart + 1, key.end);
    const modulus = children(buf, rsaKey)[0];
    if (modulus === undefined) return 0;
    return rsaSecurityBits(integerBits(buf, modulus));
  }
  if (id === DSA || id === DH_X942 || id === DH_PKCS3) {
    // DSA: { p, q, g }; X9.42 DH: { p, g, q, … }; PKCS #3 DH: { p, g [, privateValueLength] }.
    if (params?.tag !== 0x30) return 0;
    const [p, second, third] = children(buf, params);
    if (p === undefined) return 0;
    // N: q's size; for PKCS #3, the private value's length when given (OpenSSL's
    // `DH_security_bits`); else none.
    let n: number | null = null;
    if (id === DSA && second !== undefined) n = integerBits(buf, second);
    else if (id === DH_X942 && third !== undefined) n = integerBits(buf, third);
    else if (id === DH_PKCS3 && third !== undefined) n = smallInteger(buf, third) || null;
    return groupBits(integerBits(buf, p), n);
  }
  if (id === EC && params !== undefined) {
    if (params.tag === 0x06) {
      const order = CURVE_ORDER_BITS.get(hexOf(buf, params));
      return order === undefined ? 0 : curveBits(order);
    }
    // Explicit parameters: { version, fieldID, curve, base, order, cofactor }.
    const order = params.tag === 0x30 ? children(buf, params)[4] : undefined;
    return order === undefined ? 0 : curveBits(integerBits(buf, order));
  }
  return 0;
}

/** Security bits of an RSASSA-PSS signature: its hash (default SHA-1), SHA-1 at 64 here. */
function pssBits(buf: Buffer, params: Tlv | undefined): number {
  // RSASSA-PSS-params: { [0] hashAlgorithm DEFAULT sha1, [1] maskGenAlgorithm, … }
  const hash = params?.tag === 0x30 ? children(buf, params).find((t) => t.tag === 0xa0) : undefined;
  if (hash === undefined) return 64;
  const algorithm = children(buf, hash)[0];
  const oid = algorithm === undefined ? undefined : children(buf, algorithm)[0];
  if (oid?.tag !== 0x06) return 0;
  const bits = DIGEST_BITS.get(hexOf(buf, oid)) ?? 0;
  // OpenSSL's RSA-PSS count: SHA-1 at 64, not 63; the others as for every signature.
  return bits === SHA1 ? 64 : bits;
}

/**
 * @internal Security bits of a DER certificate's public key ({@link rsaSecurityBits} for
 * RSA); 0 if unknown or malformed.
 */
export function keySecurityBits(der: Uint8Array): number {
  try {
    const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
    const { tbs } = certificateParts(buf);
    // [0] version is optional; then serial, signature, issuer, validity, subject, key.
    const spki = tbs[(tbs[0]?.tag === 0xa0 ? 1 : 0) + 5];
    return spki?.tag === 0x30 ? publicKeyBits(buf, spki) : 0;
  } catch {
    return 0;
  }
}

/** @internal Security bits of a DER certificate's signature; 0 if unknown or malformed. */
export function signatureSecurityBits(der: Uint8Array): number {
  try {
    const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
    const { signatureAlgorithm } = certificateParts(buf);
    const [oid, params] = children(buf, signatureAlgorithm);
    if (oid?.tag !== 0x06) return 0;
    const id = hexOf(buf, oid);
    return id === RSA_PSS ? pssBits(buf, params) : (SIGNATURE_BITS.get(id) ?? 0);
  } catch {
    return 0;
  }
}

/** A failure of {@link securityLevelFailures}: OpenSSL's name (66, 67, 68) and the certificate's depth. */
export interface SecurityLevelFailure {
  readonly name: 'EE_KEY_TOO_SMALL' | 'CA_KEY_TOO_SMALL' | 'CA_MD_TOO_WEAK';
  /** 0: the server's certificate, 1 its issuer, … */
  readonly depth: number;
}

/**
 * @internal What OpenSSL at security level `level` finds wrong with a verified chain (DER,
 * the server's certificate first, the trust anchor last), in OpenSSL's order (the leaf's
 * key first, then certificate by certificate the issuer keys and the signatures); none
 * when it passes. Every key (the anchor's too) and every signature but the anchor's
 * (OpenSSL does not look at a trust anchor's self-signature) must have the level's
 * security bits. OpenSSL stops at the first; Node lets it go on and reports the last.
 */
export function securityLevelFailures(
  chain: readonly Uint8Array[],
  level: number,
): SecurityLevelFailure[] {
  if (level <= 0 || chain.length === 0) return [];
  const min = MIN_BITS[Math.min(level, MIN_BITS.length) - 1] as number;
  const failures: SecurityLevelFailure[] = [];
  if (keySecurityBits(chain[0] as Uint8Array) < min) {
    failures.push({ name: 'EE_KEY_TOO_SMALL', depth: 0 });
  }
  chain.forEach((der, depth) => {
    if (depth > 0 && keySecurityBits(der) < min) failures.push({ name: 'CA_KEY_TOO_SMALL', depth });
    if (depth < chain.length - 1 && signatureSecurityBits(der) < min) {
      failures.push({ name: 'CA_MD_TOO_WEAK', depth });
    }
  });
  return failures;
}
