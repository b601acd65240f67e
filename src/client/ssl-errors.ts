/**
 * The errors of the `ssl` helpers (Python's `ssl.SSLError` and
 * `ssl.SSLCertVerificationError`), OpenSSL's table of certificate verification codes,
 * and the mapping from what Node's TLS layer throws to them. `ssl.ts` re-exports the
 * classes; nothing here touches a socket.
 */
import { isIP } from 'node:net';

/**
 * Python's `ssl.SSLError`: a TLS failure (a handshake that failed for a reason other
 * than verification, a bad certificate file or cipher list). Python's is an `OSError`
 * with `errno`; here it is an `Error` with the code `'ERR_HTTPLIB_SSL'`, and the original
 * Node error (with Node's `code`) as `cause`.
 *
 * @example
 * ```ts
 * const context = httplib.ssl.create_default_context();
 * try {
 *   context.set_ciphers('NO-SUCH-CIPHER');
 * } catch (err) {
 *   if (err instanceof httplib.ssl.SSLError) console.log(err.reason); // NO_CIPHER_MATCH
 *   else throw err;
 * }
 * ```
 */
export class SSLError extends Error {
  /** Always `'SSLError'`, the class name (Python: `type(e).__name__`). */
  override name = 'SSLError';
  /** Python's `reason`: OpenSSL's reason, e.g. `'WRONG_VERSION_NUMBER'`, or null. */
  reason: string | null;
  /** Python's `library`: the OpenSSL library that failed, e.g. `'SSL'`, or null. */
  library: string | null;
  /**
   * Always `'ERR_HTTPLIB_SSL'` (a subclass has its own). Node's code, e.g.
   * `ERR_SSL_WRONG_VERSION_NUMBER`, is the `code` of the `cause`.
   */
  readonly code: string = 'ERR_HTTPLIB_SSL';
  constructor(
    message: string,
    options?: { reason?: string | null; library?: string | null; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = options?.reason ?? null;
    this.library = options?.library ?? null;
  }
}

/**
 * Python's `ssl.SSLCertVerificationError` (3.7+; `ssl.CertificateError` is an alias):
 * the server's certificate or host name did not verify. `verify_code` and
 * `verify_message` are OpenSSL's (e.g. 18, `self-signed certificate`; 62, hostname).
 *
 * Python 2.7 has no such class: it raises a plain `SSLError` for a bad chain and
 * `CertificateError` (a `ValueError`) for a name mismatch, after the handshake. Here
 * the name is checked as soon as the handshake is done (a resumed session too), before
 * a byte is sent, and every failure is this class.
 *
 * @example
 * ```ts
 * try {
 *   await conn.request('GET', '/');
 * } catch (err) {
 *   if (err instanceof httplib.ssl.SSLCertVerificationError) console.log(err.verify_message);
 *   else throw err;
 * }
 * ```
 */
export class SSLCertVerificationError extends SSLError {
  /** Always `'SSLCertVerificationError'`, the class name (Python: `type(e).__name__`). */
  override name = 'SSLCertVerificationError';
  /** Always `'ERR_HTTPLIB_SSL_CERT_VERIFICATION'`. */
  override readonly code: string = 'ERR_HTTPLIB_SSL_CERT_VERIFICATION';
  /** Python's `verify_code`: OpenSSL's X509 verification code, e.g. 18 or 62. */
  verify_code: number;
  /** Python's `verify_message`: OpenSSL's text for it, e.g. `'self-signed certificate'`. */
  verify_message: string;
  constructor(verifyCode: number, verifyMessage: string, options?: { cause?: unknown }) {
    super(`[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: ${verifyMessage}`, {
      reason: 'CERTIFICATE_VERIFY_FAILED',
      library: 'SSL',
      ...options,
    });
    this.verify_code = verifyCode;
    this.verify_message = verifyMessage;
  }
}

/**
 * Python 3.7+: `ssl.CertificateError` is `SSLCertVerificationError` (the same class).
 * Same as Python 3.7+; Python 2.7's is a separate `ValueError` subclass, raised only
 * for a host-name mismatch.
 *
 * @example
 * ```ts
 * console.log(httplib.ssl.CertificateError === httplib.ssl.SSLCertVerificationError); // true
 * try {
 *   await conn.request('GET', '/');
 * } catch (err) {
 *   if (err instanceof httplib.ssl.CertificateError) console.log(err.verify_code); // e.g. 62
 *   else throw err;
 * }
 * ```
 */
export const CertificateError = SSLCertVerificationError;

/**
 * OpenSSL 3.0's certificate verification codes (`X509_V_ERR_*`) and their texts, as
 * `X509_verify_cert_error_string` gives them (read from libcrypto 3.0.19): Node reports
 * a failed verification by OpenSSL's text, and by a code name only for some of them
 * (`UNSPECIFIED` for the rest: weak keys, SHA-1 signatures, name constraints, unknown
 * critical extensions…), so the text is the key.
 */
const X509_VERIFY_ERRORS: ReadonlyArray<readonly [number, string, string]> = [
  [1, 'UNSPECIFIED', 'unspecified certificate verification error'],
  [2, 'UNABLE_TO_GET_ISSUER_CERT', 'unable to get issuer certificate'],
  [3, 'UNABLE_TO_GET_CRL', 'unable to get certificate CRL'],
  [4, 'UNABLE_TO_DECRYPT_CERT_SIGNATURE', "unable to decrypt certificate's signature"],
  [5, 'UNABLE_TO_DECRYPT_CRL_SIGNATURE', "unable to decrypt CRL's signature"],
  [6, 'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'unable to decode issuer public key'],
  [7, 'CERT_SIGNATURE_FAILURE', 'certificate signature failure'],
  [8, 'CRL_SIGNATURE_FAILURE', 'CRL signature failure'],
  [9, 'CERT_NOT_YET_VALID', 'certificate is not yet valid'],
  [10, 'CERT_HAS_EXPIRED', 'certificate has expired'],
  [11, 'CRL_NOT_YET_VALID', 'CRL is not yet valid'],
  [12, 'CRL_HAS_EXPIRED', 'CRL has expired'],
  [13, 'ERROR_IN_CERT_NOT_BEFORE_FIELD', "format error in certificate's notBefore field"],
  [14, 'ERROR_IN_CERT_NOT_AFTER_FIELD', "format error in certificate's notAfter field"],
  [15, 'ERROR_IN_CRL_LAST_UPDATE_FIELD', "format error in CRL's lastUpdate field"],
  [16, 'ERROR_IN_CRL_NEXT_UPDATE_FIELD', "format error in CRL's nextUpdate field"],
  [17, 'OUT_OF_MEM', 'out of memory'],
  [18, 'DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'],
  [19, 'SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'],
  [20, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer certificate'],
  [21, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'],
  [22, 'CERT_CHAIN_TOO_LONG', 'certificate chain too long'],
  [23, 'CERT_REVOKED', 'certificate revoked'],
  [24, 'NO_ISSUER_PUBLIC_KEY', "issuer certificate doesn't have a public key"],
  [25, 'PATH_LENGTH_EXCEEDED', 'path length constraint exceeded'],
  [26, 'INVALID_PURPOSE', 'unsuitable certificate purpose'],
  [27, 'CERT_UNTRUSTED', 'certificate not trusted'],
  [28, 'CERT_REJECTED', 'certificate rejected'],
  [29, 'SUBJECT_ISSUER_MISMATCH', 'subject issuer mismatch'],
  [30, 'AKID_SKID_MISMATCH', 'authority and subject key identifier mismatch'],
  [31, 'AKID_ISSUER_SERIAL_MISMATCH', 'authority and issuer serial number mismatch'],
  [32, 'KEYUSAGE_NO_CERTSIGN', 'key usage does not include certificate signing'],
  [33, 'UNABLE_TO_GET_CRL_ISSUER', 'unable to get CRL issuer certificate'],
  [34, 'UNHANDLED_CRITICAL_EXTENSION', 'unhandled critical extension'],
  [35, 'KEYUSAGE_NO_CRL_SIGN', 'key usage does not include CRL signing'],
  [36, 'UNHANDLED_CRITICAL_CRL_EXTENSION', 'unhandled critical CRL extension'],
  [37, 'INVALID_NON_CA', 'invalid non-CA certificate (has CA markings)'],
  [38, 'PROXY_PATH_LENGTH_EXCEEDED', 'proxy path length constraint exceeded'],
  [39, 'KEYUSAGE_NO_DIGITAL_SIGNATURE', 'key usage does not include digital signature'],
  [
    40,
    'PROXY_CERTIFICATES_NOT_ALLOWED',
    'proxy certificates not allowed, please set the appropriate flag',
  ],
  [41, 'INVALID_EXTENSION', 'invalid or inconsistent certificate extension'],
  [42, 'INVALID_POLICY_EXTENSION', 'invalid or inconsistent certificate policy extension'],
  [43, 'NO_EXPLICIT_POLICY', 'no explicit policy'],
  [44, 'DIFFERENT_CRL_SCOPE', 'different CRL scope'],
  [45, 'UNSUPPORTED_EXTENSION_FEATURE', 'unsupported extension feature'],
  [46, 'UNNESTED_RESOURCE', "RFC 3779 resource not subset of parent's resources"],
  [47, 'PERMITTED_VIOLATION', 'permitted subtree violation'],
  [48, 'EXCLUDED_VIOLATION', 'excluded subtree violation'],
  [49, 'SUBTREE_MINMAX', 'name constraints minimum and maximum not supported'],
  [50, 'APPLICATION_VERIFICATION', 'application verification failure'],
  [51, 'UNSUPPORTED_CONSTRAINT_TYPE', 'unsupported name constraint type'],
  [52, 'UNSUPPORTED_CONSTRAINT_SYNTAX', 'unsupported or invalid name constraint syntax'],
  [53, 'UNSUPPORTED_NAME_SYNTAX', 'unsupported or invalid name syntax'],
  [54, 'CRL_PATH_VALIDATION_ERROR', 'CRL path validation error'],
  [55, 'PATH_LOOP', 'path loop'],
  [56, 'SUITE_B_INVALID_VERSION', 'Suite B: certificate version invalid'],
  [57, 'SUITE_B_INVALID_ALGORITHM', 'Suite B: invalid public key algorithm'],
  [58, 'SUITE_B_INVALID_CURVE', 'Suite B: invalid ECC curve'],
  [59, 'SUITE_B_INVALID_SIGNATURE_ALGORITHM', 'Suite B: invalid signature algorithm'],
  [60, 'SUITE_B_LOS_NOT_ALLOWED', 'Suite B: curve not allowed for this LOS'],
  [61, 'SUITE_B_CANNOT_SIGN_P_384_WITH_P_256', 'Suite B: cannot sign P-384 with P-256'],
  [62, 'HOSTNAME_MISMATCH', 'hostname mismatch'],
  [63, 'EMAIL_MISMATCH', 'email address mismatch'],
  [64, 'IP_ADDRESS_MISMATCH', 'IP address mismatch'],
  [65, 'DANE_NO_MATCH', 'no matching DANE TLSA records'],
  [66, 'EE_KEY_TOO_SMALL', 'EE certificate key too weak'],
  [67, 'CA_KEY_TOO_SMALL', 'CA certificate key too weak'],
  [68, 'CA_MD_TOO_WEAK', 'CA signature digest algorithm too weak'],
  [69, 'INVALID_CALL', 'invalid certificate verification context'],
  [70, 'STORE_LOOKUP', 'issuer certificate lookup error'],
  [71, 'NO_VALID_SCTS', 'Certificate Transparency required, but no valid SCTs found'],
  [72, 'PROXY_SUBJECT_NAME_VIOLATION', 'proxy subject name violation'],
  [73, 'OCSP_VERIFY_NEEDED', 'OCSP verification needed'],
  [74, 'OCSP_VERIFY_FAILED', 'OCSP verification failed'],
  [75, 'OCSP_CERT_UNKNOWN', 'OCSP unknown cert'],
  [76, 'UNSUPPORTED_SIGNATURE_ALGORITHM', 'Cannot find certificate signature algorithm'],
  [
    77,
    'SIGNATURE_ALGORITHM_MISMATCH',
    'subject signature algorithm and issuer public key algorithm mismatch',
  ],
  [78, 'SIGNATURE_ALGORITHM_INCONSISTENCY', 'cert info signature and signature algorithm mismatch'],
  [79, 'INVALID_CA', 'invalid CA certificate'],
  [80, 'PATHLEN_INVALID_FOR_NON_CA', 'Path length invalid for non-CA cert'],
  [81, 'PATHLEN_WITHOUT_KU_KEY_CERT_SIGN', 'Path length given without key usage keyCertSign'],
  [82, 'KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA', 'Key usage keyCertSign invalid for non-CA cert'],
  [83, 'ISSUER_NAME_EMPTY', 'Issuer name empty'],
  [84, 'SUBJECT_NAME_EMPTY', 'Subject name empty'],
  [85, 'MISSING_AUTHORITY_KEY_IDENTIFIER', 'Missing Authority Key Identifier'],
  [86, 'MISSING_SUBJECT_KEY_IDENTIFIER', 'Missing Subject Key Identifier'],
  [87, 'EMPTY_SUBJECT_ALT_NAME', 'Empty Subject Alternative Name extension'],
  [
    88,
    'EMPTY_SUBJECT_SAN_NOT_CRITICAL',
    'Subject empty and Subject Alt Name extension not critical',
  ],
  [89, 'CA_BCONS_NOT_CRITICAL', 'Basic Constraints of CA cert not marked critical'],
  [90, 'AUTHORITY_KEY_IDENTIFIER_CRITICAL', 'Authority Key Identifier marked critical'],
  [91, 'SUBJECT_KEY_IDENTIFIER_CRITICAL', 'Subject Key Identifier marked critical'],
  [92, 'CA_CERT_MISSING_KEY_USAGE', 'CA cert does not include key usage extension'],
  [93, 'EXTENSIONS_REQUIRE_VERSION_3', 'Using cert extension requires at least X509v3'],
  [94, 'EC_KEY_EXPLICIT_PARAMS', 'Certificate public key has explicit ECC parameters'],
];

/** `[code, name, text]` rows by OpenSSL's text, by Node's code name, and by number. */
const BY_TEXT = new Map(X509_VERIFY_ERRORS.map((row) => [row[2], row]));
const BY_NAME = new Map(X509_VERIFY_ERRORS.map((row) => [row[1], row]));
const BY_NUMBER = new Map(X509_VERIFY_ERRORS.map((row) => [row[0], row]));

/**
 * Node lets OpenSSL's verification go on after the first error, and OpenSSL then
 * reports 21 for a lone certificate whose issuer is unknown; Python stops at the first
 * error, 20, and that is what it shows (checked with Python 3.11 on OpenSSL 3.0).
 */
const AS_PYTHON_SEES_IT: Readonly<Record<number, number>> = { 21: 20 };

/**
 * @internal The `SSLCertVerificationError` for OpenSSL's verification failure with
 * the text `text` (or, failing that, Node's code name `code`, e.g.
 * `DEPTH_ZERO_SELF_SIGNED_CERT`); null when it is not one of OpenSSL's.
 */
export function verifyError(
  code: string,
  text: string,
  cause?: unknown,
): SSLCertVerificationError | null {
  let row = BY_TEXT.get(text) ?? (code === 'UNSPECIFIED' ? undefined : BY_NAME.get(code));
  if (row === undefined) return null;
  const python = AS_PYTHON_SEES_IT[row[0]];
  if (python !== undefined) row = BY_NUMBER.get(python) ?? row;
  return new SSLCertVerificationError(row[0], row[2], cause === undefined ? {} : { cause });
}

/** @internal The error of a host name (or IP address) the certificate is not valid for. */
export function hostnameMismatch(hostname: string): SSLCertVerificationError {
  // OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH (62) or IP_ADDRESS_MISMATCH (64), in the
  // words Python 3.7+ uses for them (_ssl.c, fill_and_set_sslerror).
  const ip = isIP(hostname) !== 0;
  return new SSLCertVerificationError(
    ip ? 64 : 62,
    `${ip ? 'IP address' : 'Hostname'} mismatch, certificate is not valid for '${hostname}'.`,
  );
}

/**
 * @internal Turn a Node TLS error into Python's: a failed verification becomes
 * `SSLCertVerificationError` saying why, another OpenSSL failure `SSLError`; an
 * `SSLError` already, or anything else (a reset, a timeout, an abort), is returned
 * unchanged.
 */
export function toSSLError(err: unknown): unknown {
  if (!(err instanceof Error) || err instanceof SSLError) return err;
  const e = err as Error & { code?: string; reason?: string; library?: string };
  const code = e.code ?? '';
  const verify = verifyError(code, e.message, err);
  if (verify !== null) return verify;
  // Node's code for a verification failure it has no name for: still one.
  if (code === 'UNSPECIFIED') {
    return new SSLCertVerificationError(
      1,
      e.message || 'unspecified certificate verification error',
      { cause: err },
    );
  }
  if (code.startsWith('ERR_SSL_') || e.library !== undefined) {
    const library = pythonLibrary(e.library);
    const reason = pythonReason(code, library) ?? e.reason ?? null;
    return new SSLError(`[${library}: ${reason ?? 'UNKNOWN'}] ${opensslReason(e)}`, {
      reason,
      library,
      cause: err,
    });
  }
  return err;
}

/**
 * OpenSSL's names of its libraries (`ERR_lib_error_string`, which Node gives as
 * `library`) → the short names Python's `library` has (`_ssl.lib_codes_to_names`, the
 * `ERR_LIB_*` macros): `'SSL routines'` is `'SSL'`. Checked against OpenSSL 3.0's
 * `openssl errstr` and CPython 3.11's table (libraries by number: both name the same).
 */
const PYTHON_LIBRARIES: ReadonlyMap<string, string> = new Map([
  ['unknown library', 'NONE'],
  ['system library', 'SYS'],
  ['bignum routines', 'BN'],
  ['rsa routines', 'RSA'],
  ['Diffie-Hellman routines', 'DH'],
  ['digital envelope routines', 'EVP'],
  ['memory buffer routines', 'BUF'],
  ['object identifier routines', 'OBJ'],
  ['PEM routines', 'PEM'],
  ['dsa routines', 'DSA'],
  ['x509 certificate routines', 'X509'],
  ['asn1 encoding routines', 'ASN1'],
  ['configuration file routines', 'CONF'],
  ['common libcrypto routines', 'CRYPTO'],
  ['elliptic curve routines', 'EC'],
  ['SSL routines', 'SSL'],
  ['BIO routines', 'BIO'],
  ['PKCS7 routines', 'PKCS7'],
  ['X509 V3 routines', 'X509V3'],
  ['PKCS12 routines', 'PKCS12'],
  ['random number generator', 'RAND'],
  ['DSO support routines', 'DSO'],
  ['engine routines', 'ENGINE'],
  ['OCSP routines', 'OCSP'],
  ['UI routines', 'UI'],
  ['ECDSA routines', 'ECDSA'],
  ['ECDH routines', 'ECDH'],
  ['STORE routines', 'OSSL_STORE'],
  ['FIPS routines', 'FIPS'],
  ['CMS routines', 'CMS'],
  ['time stamp routines', 'TS'],
  ['HMAC routines', 'HMAC'],
  ['CT routines', 'CT'],
  ['ASYNC routines', 'ASYNC'],
  ['KDF routines', 'KDF'],
  ['SM2 routines', 'SM2'],
  ['ESS routines', 'ESS'],
  ['CRMF routines', 'CRMF'],
  ['Provider routines', 'PROV'],
  ['CMP routines', 'CMP'],
  ['ENCODER routines', 'OSSL_ENCODER'],
  ['DECODER routines', 'OSSL_DECODER'],
  ['HTTP routines', 'HTTP'],
]);

/**
 * Python's `library` for Node's: the short name; one this table does not know (another
 * TLS library's) as it came; none at all (an `ERR_SSL_` code alone) is `'SSL'`.
 */
function pythonLibrary(library: string | undefined): string {
  if (library === undefined) return 'SSL';
  return PYTHON_LIBRARIES.get(library) ?? library;
}

/**
 * Python's `reason`, OpenSSL's mnemonic, out of Node's code: `ERR_SSL_<REASON>` for the
 * SSL library, `ERR_OSSL_<LIBRARY>_<REASON>` for the others (`ERR_OSSL_ASN1_HEADER_TOO_LONG`);
 * null when the code has none (a reason common to all libraries, `ERR_OSSL_UNSUPPORTED`).
 */
function pythonReason(code: string, library: string): string | null {
  if (code.startsWith('ERR_SSL_')) return code.slice('ERR_SSL_'.length);
  const prefix = `ERR_OSSL_${library}_`;
  return code.startsWith(prefix) ? code.slice(prefix.length) : null;
}

/**
 * The words of an OpenSSL error, as Python's message has them (`wrong version number`):
 * Node's `reason`, else the reason field of OpenSSL's queue line, whose thread id, codes
 * and source path (`80BC…:error:0A00010B:SSL routines:ssl3_get_record:wrong version
 * number:../deps/openssl/…:350:`) differ from run to run and build to build.
 */
function opensslReason(e: Error & { reason?: unknown }): string {
  if (typeof e.reason === 'string' && e.reason !== '') return e.reason;
  const m = /^[0-9A-F]+:error:[0-9A-F]+:[^:]*:[^:]*:([^:\n]+)/.exec(e.message);
  return m !== null ? (m[1] as string) : e.message.trimEnd();
}
