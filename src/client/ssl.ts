/**
 * The `ssl` helpers that httplib's documentation names: `SSLContext` (Python's surface
 * mapped onto `node:tls` options), `create_default_context`, `_create_unverified_context`,
 * the constants, and the errors a failed handshake rejects with.
 *
 * A context is a recipe, not an OpenSSL object: `tlsOptions()` turns it into the options
 * of `tls.connect`, and the context keeps the TLS sessions of its connections so that the
 * next connection to the same server resumes instead of doing a full handshake.
 *
 * Certificate stores: Node's default store (its bundled roots plus `NODE_EXTRA_CA_CERTS`)
 * is used as it is while a context adds nothing; once CA certificates are loaded, the
 * store is the roots (if `load_default_certs()` was called) plus what was loaded.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as tls from 'node:tls';

/** Python's `ssl.CERT_NONE`: no certificate verification. Same value as Python's. */
export const CERT_NONE = 0;
/** Python's `ssl.CERT_OPTIONAL`: for a client the same as CERT_REQUIRED. Same value as Python's. */
export const CERT_OPTIONAL = 1;
/** Python's `ssl.CERT_REQUIRED`: the server's certificate must verify. Same value as Python's. */
export const CERT_REQUIRED = 2;

/**
 * Python's `ssl.PROTOCOL_TLS` (alias `PROTOCOL_SSLv23`): negotiate the highest version.
 * Same value as Python's; the context it makes verifies nothing, as in Python.
 */
export const PROTOCOL_TLS = 2;
/** Python's `ssl.PROTOCOL_SSLv23`: the older name of {@link PROTOCOL_TLS}. Same as Python. */
export const PROTOCOL_SSLv23 = PROTOCOL_TLS;
/** Python's `ssl.PROTOCOL_TLS_CLIENT`: a client context that verifies by default. Same value as Python's. */
export const PROTOCOL_TLS_CLIENT = 16;
/**
 * Python's `ssl.PROTOCOL_TLS_SERVER`. Same value as Python's, but this package has no
 * server side: such a context is accepted and verifies nothing.
 */
export const PROTOCOL_TLS_SERVER = 17;

/** Python's `ssl.HAS_SNI`: always true here (Node's OpenSSL sends SNI), where Python's depends on its OpenSSL. */
export const HAS_SNI = true;

/**
 * Python's `ssl.TLSVersion` (values as Python has them), for `minimum_version` and
 * `maximum_version`. Python's is an `IntEnum`; here a frozen object of numbers.
 *
 * @example
 * ```ts
 * const context = httplib.ssl.create_default_context();
 * context.minimum_version = httplib.ssl.TLSVersion.TLSv1_3; // refuse TLS 1.2
 * const conn = new httplib.HTTPSConnection('www.python.org', 443, { context });
 * ```
 */
export const TLSVersion = Object.freeze({
  /** No bound of the context's own: Node's `tls.DEFAULT_MIN_VERSION` applies. */
  MINIMUM_SUPPORTED: -2,
  /** No bound of the context's own: Node's `tls.DEFAULT_MAX_VERSION` applies. */
  MAXIMUM_SUPPORTED: -1,
  /** SSL 3.0: accepted as a value, but Node cannot speak it, so it sets no bound. */
  SSLv3: 0x0300,
  /** TLS 1.0. */
  TLSv1: 0x0301,
  /** TLS 1.1. */
  TLSv1_1: 0x0302,
  /** TLS 1.2: the minimum of `create_default_context()`. */
  TLSv1_2: 0x0303,
  /** TLS 1.3. */
  TLSv1_3: 0x0304,
});

/**
 * Python's `ssl.Purpose`: what certificates a context is for. Python's members are
 * ASN.1 objects; here they are their names.
 *
 * @example
 * ```ts
 * const context = httplib.ssl.create_default_context({
 *   purpose: httplib.ssl.Purpose.SERVER_AUTH, // the default: a client checking servers
 * });
 * ```
 */
export const Purpose = Object.freeze({
  /** A context for clients, to authenticate servers (the default). */
  SERVER_AUTH: 'SERVER_AUTH',
  /** A context for servers, to authenticate clients. */
  CLIENT_AUTH: 'CLIENT_AUTH',
} as const);
/** A value of {@link Purpose}: `'SERVER_AUTH'` or `'CLIENT_AUTH'`. */
export type PurposeName = (typeof Purpose)[keyof typeof Purpose];

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
 * the name is checked inside the handshake, and every failure is this class.
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

/** OpenSSL's X509 verification codes and texts, by Node's error code. */
const VERIFY_ERRORS: Readonly<Record<string, readonly [number, string]>> = {
  UNABLE_TO_GET_ISSUER_CERT: [2, 'unable to get issuer certificate'],
  UNABLE_TO_DECRYPT_CERT_SIGNATURE: [4, "unable to decrypt certificate's signature"],
  UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: [6, 'unable to decode issuer public key'],
  CERT_SIGNATURE_FAILURE: [7, 'certificate signature failure'],
  CERT_NOT_YET_VALID: [9, 'certificate is not yet valid'],
  CERT_HAS_EXPIRED: [10, 'certificate has expired'],
  ERROR_IN_CERT_NOT_BEFORE_FIELD: [13, "format error in certificate's notBefore field"],
  ERROR_IN_CERT_NOT_AFTER_FIELD: [14, "format error in certificate's notAfter field"],
  DEPTH_ZERO_SELF_SIGNED_CERT: [18, 'self-signed certificate'],
  SELF_SIGNED_CERT_IN_CHAIN: [19, 'self-signed certificate in certificate chain'],
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: [20, 'unable to get local issuer certificate'],
  // Node lets OpenSSL's verification go on after the first error, and OpenSSL then
  // reports 21 for a lone certificate whose issuer is unknown; Python stops at the first
  // error, 20, and that is what it shows (checked with Python 3.11 on OpenSSL 3.0).
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: [20, 'unable to get local issuer certificate'],
  CERT_CHAIN_TOO_LONG: [22, 'certificate chain too long'],
  CERT_REVOKED: [23, 'certificate revoked'],
  INVALID_CA: [24, 'invalid CA certificate'],
  PATH_LENGTH_EXCEEDED: [25, 'path length constraint exceeded'],
  INVALID_PURPOSE: [26, 'unsupported certificate purpose'],
  CERT_UNTRUSTED: [27, 'certificate not trusted'],
  CERT_REJECTED: [28, 'certificate rejected'],
  HOSTNAME_MISMATCH: [62, 'hostname mismatch'],
};

/**
 * @internal Turn a Node TLS error into Python's: a failed verification becomes
 * `SSLCertVerificationError` saying why, another OpenSSL failure `SSLError`; anything
 * else (a reset, a timeout, an abort) is returned unchanged.
 */
export function toSSLError(err: unknown, hostname: string): unknown {
  if (!(err instanceof Error)) return err;
  const e = err as Error & { code?: string; reason?: string; library?: string };
  const code = e.code ?? '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    // OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH (62) or, for an IP literal, IP_ADDRESS_MISMATCH (64).
    const [verifyCode, what] = isIP(hostname) === 0 ? [62, 'Hostname'] : [64, 'IP address'];
    return new SSLCertVerificationError(
      verifyCode,
      `${what} mismatch, certificate is not valid for '${hostname}'. (${e.reason ?? e.message})`,
      { cause: err },
    );
  }
  const verify = VERIFY_ERRORS[code];
  if (verify !== undefined) {
    return new SSLCertVerificationError(verify[0], verify[1], { cause: err });
  }
  if (code.startsWith('ERR_SSL_') || e.library !== undefined) {
    const reason = code.startsWith('ERR_SSL_') ? code.slice('ERR_SSL_'.length) : (e.reason ?? null);
    return new SSLError(`[SSL: ${reason ?? 'UNKNOWN'}] ${e.message}`, {
      reason,
      library: e.library ?? 'SSL',
      cause: err,
    });
  }
  return err;
}

const VERSION_NAMES: Readonly<Record<number, tls.SecureVersion>> = {
  [TLSVersion.TLSv1]: 'TLSv1',
  [TLSVersion.TLSv1_1]: 'TLSv1.1',
  [TLSVersion.TLSv1_2]: 'TLSv1.2',
  [TLSVersion.TLSv1_3]: 'TLSv1.3',
};

/** Most TLS sessions a context keeps for resumption. */
const SESSION_CACHE_SIZE = 100;

/** A certificate-key pair from `load_cert_chain`. */
interface CertChain {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly passphrase: string | undefined;
}

/**
 * Python's `ssl.SSLContext`. Built for `PROTOCOL_TLS_CLIENT` (the default here) it
 * verifies certificates and host names but trusts no CA until some are loaded, as in
 * Python; `create_default_context()` is what most code wants.
 *
 * How this differs from Python: a context is a recipe for `tls.connect` options, not
 * an OpenSSL object, and holds only the client side of Python's API (no `wrap_socket`);
 * Python's `ValueError`s are `TypeError`s; it keeps the TLS sessions of its connections
 * (at most 100), so the next connection to the same server resumes its session.
 *
 * @example
 * ```ts
 * const context = new httplib.ssl.SSLContext(httplib.ssl.PROTOCOL_TLS_CLIENT);
 * context.load_verify_locations('ca.pem');
 * context.minimum_version = httplib.ssl.TLSVersion.TLSv1_3;
 * const conn = new httplib.HTTPSConnection('localhost', 8443, { context });
 * ```
 */
export class SSLContext {
  /** Python's `protocol`: the `PROTOCOL_*` constant the context was made with. */
  readonly protocol: number;
  /** Python's `minimum_version` (a `TLSVersion` value). */
  minimum_version: number = TLSVersion.MINIMUM_SUPPORTED;
  /** Python's `maximum_version` (a `TLSVersion` value). */
  maximum_version: number = TLSVersion.MAXIMUM_SUPPORTED;

  private verifyMode: number;
  private checkHostname: boolean;
  private defaultCerts = false;
  private readonly cas: string[] = [];
  private chain: CertChain | null = null;
  private ciphers: string | undefined;
  private alpn: string[] | undefined;
  private readonly sessions = new Map<string, Buffer>();

  constructor(protocol: number = PROTOCOL_TLS_CLIENT) {
    if (![PROTOCOL_TLS, PROTOCOL_TLS_CLIENT, PROTOCOL_TLS_SERVER].includes(protocol)) {
      throw new TypeError(`invalid or unsupported protocol version ${protocol}`);
    }
    this.protocol = protocol;
    const client = protocol === PROTOCOL_TLS_CLIENT;
    this.verifyMode = client ? CERT_REQUIRED : CERT_NONE;
    this.checkHostname = client;
  }

  /** Python's `verify_mode`. CERT_NONE while `check_hostname` is on is a `TypeError` (Python: ValueError). */
  get verify_mode(): number {
    return this.verifyMode;
  }
  /** Set `verify_mode` (`CERT_NONE`, `CERT_OPTIONAL` or `CERT_REQUIRED`). */
  set verify_mode(mode: number) {
    if (![CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED].includes(mode)) {
      throw new TypeError('invalid value for verify_mode');
    }
    if (mode === CERT_NONE && this.checkHostname) {
      throw new TypeError('Cannot set verify_mode to CERT_NONE when check_hostname is enabled.');
    }
    this.verifyMode = mode;
  }

  /** Python's `check_hostname`; turning it on also turns CERT_NONE into CERT_REQUIRED (3.7+). */
  get check_hostname(): boolean {
    return this.checkHostname;
  }
  /** Set `check_hostname`; `true` also turns `CERT_NONE` into `CERT_REQUIRED`. */
  set check_hostname(value: boolean) {
    this.checkHostname = Boolean(value);
    if (this.checkHostname && this.verifyMode === CERT_NONE) this.verifyMode = CERT_REQUIRED;
  }

  /**
   * Python's `load_cert_chain(certfile, keyfile=None, password=None)`: the client
   * certificate (and its chain) and private key, PEM files; the key may sit in
   * `certfile`. `password` decrypts an encrypted key (a string, bytes, or a function
   * returning one). A bad file, key or password throws `SSLError` now, as in Python.
   */
  load_cert_chain(
    certfile: string,
    keyfile?: string | null,
    password?: string | Buffer | (() => string | Buffer) | null,
  ): void {
    const cert = readFileSync(certfile);
    const key = keyfile ? readFileSync(keyfile) : cert;
    const pw = typeof password === 'function' ? password() : password;
    const passphrase = pw === null || pw === undefined ? undefined : pw.toString();
    try {
      tls.createSecureContext({ cert, key, ...(passphrase === undefined ? {} : { passphrase }) });
    } catch (err) {
      throw new SSLError(`[SSL] cannot load certificate chain: ${(err as Error).message}`, {
        reason: 'PEM_LIB',
        cause: err,
      });
    }
    this.chain = { cert, key, passphrase };
  }

  /**
   * Python's `load_verify_locations(cafile=None, capath=None, cadata=None)`: trust more
   * CA certificates: a PEM file, a directory of PEM files, or PEM text / DER bytes.
   */
  load_verify_locations(
    cafile?: string | null,
    capath?: string | null,
    cadata?: string | Uint8Array | null,
  ): void {
    if (!cafile && !capath && (cadata === null || cadata === undefined)) {
      throw new TypeError('cafile, capath and cadata cannot be all omitted');
    }
    const found: string[] = [];
    if (cafile) found.push(...pemCertificates(readFileSync(cafile, 'latin1'), cafile));
    if (capath) {
      for (const name of readdirSync(capath).sort()) {
        const file = join(capath, name);
        if (!statSync(file).isFile()) continue;
        found.push(...pemCertificates(readFileSync(file, 'latin1'), null));
      }
    }
    if (typeof cadata === 'string') found.push(...pemCertificates(cadata, 'cadata'));
    else if (cadata !== null && cadata !== undefined) found.push(...derCertificates(cadata));
    this.cas.push(...found);
  }

  /**
   * Python's `load_default_certs(purpose=Purpose.SERVER_AUTH)`: trust the system's CA
   * certificates (Node's bundled roots and `NODE_EXTRA_CA_CERTS`).
   */
  load_default_certs(purpose: PurposeName = Purpose.SERVER_AUTH): void {
    void purpose;
    this.defaultCerts = true;
  }

  /** Python's `set_ciphers(ciphers)`: an OpenSSL cipher list. */
  set_ciphers(ciphers: string): void {
    try {
      tls.createSecureContext({ ciphers });
    } catch (err) {
      throw new SSLError('No cipher can be selected.', { reason: 'NO_CIPHER_MATCH', cause: err });
    }
    this.ciphers = ciphers;
  }

  /** Python's `set_alpn_protocols(protocols)`, e.g. `['http/1.1']`. */
  set_alpn_protocols(protocols: readonly string[]): void {
    for (const p of protocols) {
      if (p.length === 0 || p.length > 255)
        throw new TypeError('ALPN protocols must be 1 to 255 bytes long');
    }
    this.alpn = [...protocols];
  }

  /** @internal The `tls.connect` options for a connection to `host`. */
  tlsOptions(
    host: string,
    port: number,
    checkHostname: boolean = this.checkHostname,
  ): tls.ConnectionOptions {
    const options: tls.ConnectionOptions = {
      rejectUnauthorized: this.verifyMode !== CERT_NONE,
    };
    // RFC 6066: no SNI for IP literals (Python 3.7+ does the same).
    if (isIP(host) === 0 && host !== '') options.servername = host;
    if (this.verifyMode !== CERT_NONE && !checkHostname) {
      options.checkServerIdentity = () => undefined;
    }
    const ca = this.caList();
    if (ca !== null) options.ca = ca;
    if (this.chain !== null) {
      options.cert = this.chain.cert;
      options.key = this.chain.key;
      if (this.chain.passphrase !== undefined) options.passphrase = this.chain.passphrase;
    }
    const min = VERSION_NAMES[this.minimum_version];
    if (min !== undefined) options.minVersion = min;
    const max = VERSION_NAMES[this.maximum_version];
    if (max !== undefined) options.maxVersion = max;
    if (this.ciphers !== undefined) options.ciphers = this.ciphers;
    if (this.alpn !== undefined) options.ALPNProtocols = this.alpn;
    const session = this.sessions.get(sessionKey(host, port));
    if (session !== undefined) options.session = session;
    return options;
  }

  /** @internal Remember a connection's session, so the next one can resume it. */
  saveSession(host: string, port: number, session: Buffer): void {
    const key = sessionKey(host, port);
    this.sessions.delete(key);
    this.sessions.set(key, session);
    if (this.sessions.size > SESSION_CACHE_SIZE) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
  }

  /** @internal Forget a session that failed to resume or whose connection failed. */
  dropSession(host: string, port: number): void {
    this.sessions.delete(sessionKey(host, port));
  }

  /** The CA list for `tls.connect`, or null to use Node's default store as it is. */
  private caList(): string[] | null {
    if (this.cas.length === 0) return this.defaultCerts ? null : [];
    if (!this.defaultCerts) return this.cas;
    return [...tls.rootCertificates, ...extraCertificates(), ...this.cas];
  }
}

function sessionKey(host: string, port: number): string {
  return `${host}:${port}`;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function pemCertificates(text: string, source: string | null): string[] {
  const found = text.match(PEM_CERT) ?? [];
  if (found.length === 0 && source !== null) {
    throw new SSLError(`no certificate found in ${source}`, {
      reason: 'NO_CERTIFICATE_OR_CRL_FOUND',
    });
  }
  return found;
}

/** Concatenated DER certificates (Python accepts several in `cadata`) as PEM. */
function derCertificates(data: Uint8Array): string[] {
  const out: string[] = [];
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let pos = 0;
  while (pos < buf.length) {
    // Each certificate is an ASN.1 SEQUENCE: 0x30, then a definite length.
    if (buf[pos] !== 0x30 || pos + 2 > buf.length) {
      throw new SSLError('not enough data: cadata does not contain a certificate', {
        reason: 'NOT_ENOUGH_DATA',
      });
    }
    let len = buf[pos + 1] as number;
    let header = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || pos + 2 + n > buf.length) {
        throw new SSLError('bad DER length in cadata', { reason: 'BAD_LENGTH' });
      }
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + (buf[pos + 2 + i] as number);
      header = 2 + n;
    }
    const end = pos + header + len;
    if (end > buf.length) throw new SSLError('truncated DER in cadata', { reason: 'BAD_LENGTH' });
    // 64 characters a line, and no empty line before END when the text fills the last
    // one exactly (OpenSSL rejects the certificate then).
    const b64 = buf
      .subarray(pos, end)
      .toString('base64')
      .replace(/.{64}(?=.)/g, '$&\n');
    out.push(`-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`);
    pos = end;
  }
  return out;
}

let extraCache: string[] | null = null;

/** The certificates of `NODE_EXTRA_CA_CERTS`, which Node adds to its default store. */
function extraCertificates(): string[] {
  if (extraCache !== null) return extraCache;
  const file = process.env.NODE_EXTRA_CA_CERTS;
  let found: string[] = [];
  if (file) {
    try {
      found = pemCertificates(readFileSync(file, 'latin1'), null);
    } catch {
      found = [];
    }
  }
  extraCache = found;
  return found;
}

/** Options of `create_default_context` (Python's keyword arguments). */
export interface DefaultContextOptions {
  /** Python's `purpose`: `Purpose.SERVER_AUTH` (the default) for a client context. */
  purpose?: PurposeName;
  /** Python's `cafile`: a PEM file of CA certificates to trust instead of the system's. */
  cafile?: string | null;
  /** Python's `capath`: a directory of PEM CA certificates to trust instead of the system's. */
  capath?: string | null;
  /** Python's `cadata`: CA certificates as PEM text or DER bytes. */
  cadata?: string | Uint8Array | null;
}

/**
 * Python's `ssl.create_default_context(purpose=SERVER_AUTH, cafile=None, capath=None,
 * cadata=None)`: certificate and host-name checks on, TLS 1.2 at least, and the given
 * CA certificates, or the system's when none are given (here: Node's bundled roots and
 * `NODE_EXTRA_CA_CERTS`, not the operating system's store).
 *
 * @example
 * ```ts
 * const context = httplib.ssl.create_default_context({ cafile: 'ca.pem' });
 * context.load_cert_chain('client.pem', 'client.key');
 * const conn = new httplib.HTTPSConnection('localhost', 8443, { context });
 * ```
 */
export function create_default_context(options: DefaultContextOptions = {}): SSLContext {
  const purpose = options.purpose ?? Purpose.SERVER_AUTH;
  const context = new SSLContext(
    purpose === Purpose.SERVER_AUTH ? PROTOCOL_TLS_CLIENT : PROTOCOL_TLS_SERVER,
  );
  context.minimum_version = TLSVersion.TLSv1_2;
  const { cafile, capath, cadata } = options;
  if (cafile || capath || (cadata !== null && cadata !== undefined)) {
    context.load_verify_locations(cafile, capath, cadata);
  } else if (context.verify_mode !== CERT_NONE) {
    context.load_default_certs(purpose);
  }
  return context;
}

/**
 * Python's `ssl._create_unverified_context()`: no certificate or host-name checks. For
 * servers you cannot verify; it protects against nothing but passive eavesdropping.
 * Takes the same options as {@link create_default_context}.
 *
 * Differs from Python: Python's keyword arguments `protocol`, `cert_reqs`,
 * `check_hostname`, `certfile` and `keyfile` are not taken, and the context is always a
 * client one, whatever `purpose` says.
 *
 * @example
 * ```ts
 * const context = httplib.ssl._create_unverified_context();
 * const conn = new httplib.HTTPSConnection('self-signed.example', 443, { context });
 * ```
 */
export function _create_unverified_context(options: DefaultContextOptions = {}): SSLContext {
  const context = new SSLContext(PROTOCOL_TLS_CLIENT);
  context.check_hostname = false;
  context.verify_mode = CERT_NONE;
  context.minimum_version = TLSVersion.TLSv1_2;
  const { cafile, capath, cadata } = options;
  if (cafile || capath || (cadata !== null && cadata !== undefined)) {
    context.load_verify_locations(cafile, capath, cadata);
  } else {
    context.load_default_certs();
  }
  return context;
}
