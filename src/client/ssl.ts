/**
 * The `ssl` helpers that httplib's documentation names: `SSLContext` (Python's surface
 * mapped onto `node:tls` options), `create_default_context`, `_create_unverified_context`,
 * the constants, and the errors a failed handshake rejects with (ssl-errors.ts).
 *
 * A context is a recipe, not an OpenSSL object: `clientSettings()` (tls-verify.ts) reads it when a
 * connection is made (so a change to the context counts from the next connection on)
 * and turns it into the options of `tls.connect` and the rules `tls-verify.ts` checks
 * the server by; the context keeps the TLS sessions of its connections so that the
 * next connection to the same server, with the same settings, resumes instead of doing
 * a full handshake.
 *
 * Certificate stores: Node's default store (its bundled roots plus `NODE_EXTRA_CA_CERTS`)
 * is used as it is while a context adds nothing; once CA certificates are loaded, the
 * store is the roots (if `load_default_certs()` was called) plus what was loaded.
 */
import { isIP } from 'node:net';
import type * as tls from 'node:tls';
import { typeName } from '../io/body-kinds.ts';
import { nodeCrypto, nodeTls } from '../io/node-tls.ts';
import { pytruth } from '../protocol/pytext.ts';
import {
  capathCertificates,
  derCertificates,
  extraCertificates,
  pemCertificates,
  readCredentialFile,
} from './ca-store.ts';
import { OPTION_NAMES, refuseUnknown } from './connection-options.ts';
import { SSLError, toSSLError } from './ssl-errors.ts';
import {
  type ClientTlsSettings,
  contextFieldsWith,
  readSettingsWith,
  SessionCache,
  securityLevel,
  serverHostname,
} from './tls-verify.ts';

export { CertificateError, SSLCertVerificationError, SSLError } from './ssl-errors.ts';

/** Python's `ssl.CERT_NONE`: no certificate verification. Same value as Python's. */
export const CERT_NONE = 0;
/** Python's `ssl.CERT_OPTIONAL`: for a client the same as CERT_REQUIRED. Same value as Python's. */
export const CERT_OPTIONAL = 1;
/** Python's `ssl.CERT_REQUIRED`: the server's certificate must verify. Same value as Python's. */
export const CERT_REQUIRED = 2;
/**
 * A `verify_mode` value: {@link CERT_NONE}, {@link CERT_OPTIONAL} or {@link CERT_REQUIRED}
 * (Python's `ssl.VerifyMode`), so that another number does not compile.
 */
export type VerifyMode = typeof CERT_NONE | typeof CERT_OPTIONAL | typeof CERT_REQUIRED;

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
 * server side: a connection refuses such a context, as Python does ("Cannot create a
 * client socket with a PROTOCOL_TLS_SERVER context").
 */
export const PROTOCOL_TLS_SERVER = 17;
/**
 * What `new SSLContext(protocol)` takes: {@link PROTOCOL_TLS} (`PROTOCOL_SSLv23`),
 * {@link PROTOCOL_TLS_CLIENT} or {@link PROTOCOL_TLS_SERVER} (Python's `ssl._SSLMethod`
 * members that Python 3.10+ still supports), so that another number does not compile.
 */
export type SSLMethod =
  | typeof PROTOCOL_TLS
  | typeof PROTOCOL_TLS_CLIENT
  | typeof PROTOCOL_TLS_SERVER;

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
  /**
   * SSL 3.0: accepted as a value, but Node cannot speak it: as a minimum it sets no
   * bound, as a maximum it leaves no version (`SSLError` NO_PROTOCOLS_AVAILABLE).
   */
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
 * A value of {@link TLSVersion} (the object of that name), as `minimum_version` and
 * `maximum_version` take it, so that another number does not compile.
 */
export type TLSVersion = (typeof TLSVersion)[keyof typeof TLSVersion];

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

const VERSION_NAMES: Readonly<Record<number, tls.SecureVersion>> = {
  [TLSVersion.TLSv1]: 'TLSv1',
  [TLSVersion.TLSv1_1]: 'TLSv1.1',
  [TLSVersion.TLSv1_2]: 'TLSv1.2',
  [TLSVersion.TLSv1_3]: 'TLSv1.3',
};

/** Every `TLSVersion` value: what `minimum_version` and `maximum_version` take, as in Python. */
const TLS_VERSIONS: ReadonlySet<number> = new Set<number>(Object.values(TLSVersion));

/**
 * A value given to `minimum_version` or `maximum_version`, checked as Python checks it:
 * not an integer is a `TypeError` (Python's "cannot be interpreted as an integer"), an
 * integer that is no `TLSVersion` value is Python's ValueError, a `TypeError` here.
 */
function tlsVersion(value: unknown, name: string): TLSVersion {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(
      `${name} must be an ssl.TLSVersion value (an integer), got ${typeName(value)}`,
    );
  }
  if (!TLS_VERSIONS.has(value)) {
    // Python shows the value as OpenSSL's unsigned int: -3 is 0xfffffffd.
    const shown = value < 0 && value >= -(2 ** 31) ? value >>> 0 : value;
    throw new TypeError(`Unsupported TLS/SSL version 0x${shown.toString(16)}`);
  }
  return value as TLSVersion;
}

/** A certificate-key pair from `load_cert_chain`. */
interface CertChain {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly passphrase: string | undefined;
}

/**
 * Node's codes of OpenSSL's errors for a key that is not the certificate's: of the
 * certificate's type, X509's KEY_VALUES_MISMATCH; of another type (which Python's
 * `SSL_CTX_check_private_key` finds with no certificate in that key's slot), SSL's
 * NO_CERTIFICATE_ASSIGNED.
 */
const KEY_MISMATCH = 'ERR_OSSL_X509_KEY_VALUES_MISMATCH';
const NO_CERTIFICATE_ASSIGNED = 'ERR_SSL_NO_CERTIFICATE_ASSIGNED';

/**
 * Python's `SSLError` for a chain `load_cert_chain` cannot load: a key that is not the
 * certificate's is OpenSSL's own error (`[X509: KEY_VALUES_MISMATCH] key values
 * mismatch`, `[SSL: NO_CERTIFICATE_ASSIGNED] no certificate assigned`); anything else
 * (no key, a wrong password, a file that is not PEM) is Python's `[SSL] PEM lib`,
 * library 'SSL' and no reason (OpenSSL's ERR_R_PEM_LIB is a reason common to all
 * libraries, which CPython's table does not name), with what went wrong after it.
 */
function chainError(failure: unknown): SSLError {
  const err = failure as NodeJS.ErrnoException;
  if (err.code === KEY_MISMATCH || err.code === NO_CERTIFICATE_ASSIGNED) {
    return toSSLError(err) as SSLError;
  }
  const why = String(err.message).trimEnd();
  return new SSLError(`[SSL] PEM lib: cannot load certificate chain: ${why}`, {
    library: 'SSL',
    cause: failure,
  });
}

/**
 * Python's `ssl.SSLContext`. Built for `PROTOCOL_TLS_CLIENT` (the default here) it
 * verifies certificates and host names but trusts no CA until some are loaded, as in
 * Python; `create_default_context()` is what most code wants.
 *
 * How this differs from Python: a context is a recipe for `tls.connect` options, not
 * an OpenSSL object, and holds only the client side of Python's API (no `wrap_socket`);
 * Python's `ValueError`s are `TypeError`s; `hostname_checks_common_name` is off by
 * default (Python: on); OpenSSL's security level is 2 even after `set_ciphers()`, unless
 * the cipher string names one (`@SECLEVEL=n`); it keeps the TLS sessions of its
 * connections (at most 100), so the next connection to the same server resumes its
 * session, as long as nothing that verification or the client certificate depends on
 * has changed since.
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
  readonly protocol: SSLMethod;

  #minimumVersion: TLSVersion = TLSVersion.MINIMUM_SUPPORTED;
  #maximumVersion: TLSVersion = TLSVersion.MAXIMUM_SUPPORTED;
  #verifyMode: VerifyMode;
  #checkHostname: boolean;
  #defaultCerts = false;
  readonly #cas: string[] = [];
  #chain: CertChain | null = null;
  #ciphers: string | undefined;
  #alpn: string[] | undefined;
  #commonName = false;
  /** Bumped by every change to the context: part of the key of its sessions. */
  #generation = 0;
  readonly #sessions = new SessionCache();
  /** The TLS library's context last made for connections, and the settings it was made of. */
  #secure: { made: string; context: tls.SecureContext } | null = null;

  static {
    // How https-connection.ts reads a context when a connection is made (tls-verify.ts's
    // `clientSettings`): not a method, so nothing internal is reachable on a context.
    readSettingsWith((context, host, port, checkHostname) =>
      (context as SSLContext).#clientSettings(host, port, checkHostname),
    );
    // How the blocking entry copies a context into its worker thread and back (the
    // sessions stay in each thread).
    contextFieldsWith({
      get: (context) => {
        const c = context as SSLContext;
        return {
          protocol: c.protocol,
          minimum_version: c.#minimumVersion,
          maximum_version: c.#maximumVersion,
          verifyMode: c.#verifyMode,
          checkHostname: c.#checkHostname,
          defaultCerts: c.#defaultCerts,
          cas: [...c.#cas],
          chain: c.#chain,
          ciphers: c.#ciphers,
          alpn: c.#alpn,
          commonName: c.#commonName,
          generation: c.#generation,
        };
      },
      set: (context, f) => {
        const c = context as SSLContext;
        (c as { protocol: SSLMethod }).protocol = f.protocol as SSLMethod;
        c.#minimumVersion = f.minimum_version as TLSVersion;
        c.#maximumVersion = f.maximum_version as TLSVersion;
        c.#verifyMode = f.verifyMode as VerifyMode;
        c.#checkHostname = f.checkHostname as boolean;
        c.#defaultCerts = f.defaultCerts as boolean;
        c.#cas.splice(0, c.#cas.length, ...(f.cas as string[]));
        c.#chain = (f.chain as CertChain | null) ?? null;
        c.#ciphers = f.ciphers as string | undefined;
        c.#alpn = f.alpn as string[] | undefined;
        c.#commonName = f.commonName as boolean;
        c.#generation = f.generation as number;
      },
    });
  }

  constructor(protocol: SSLMethod = PROTOCOL_TLS_CLIENT) {
    // Checked still: JavaScript callers, and numbers the compiler was not shown.
    if (
      !([PROTOCOL_TLS, PROTOCOL_TLS_CLIENT, PROTOCOL_TLS_SERVER] as number[]).includes(protocol)
    ) {
      throw new TypeError(`invalid or unsupported protocol version ${protocol}`);
    }
    this.protocol = protocol;
    const client = protocol === PROTOCOL_TLS_CLIENT;
    this.#verifyMode = client ? CERT_REQUIRED : CERT_NONE;
    this.#checkHostname = client;
  }

  /**
   * Python's `minimum_version`: the lowest TLS version a connection may use, a
   * {@link TLSVersion} value. Checked when assigned, as in Python: a value that is not an
   * integer is a `TypeError`, an integer that is not a `TLSVersion` one too (Python:
   * ValueError "Unsupported TLS/SSL version"). `MAXIMUM_SUPPORTED` reads back as
   * `TLSv1_3`, as in Python (the highest version there is).
   */
  get minimum_version(): TLSVersion {
    return this.#minimumVersion;
  }
  /** Set `minimum_version` (a `TLSVersion` value). */
  set minimum_version(version: TLSVersion) {
    const v = tlsVersion(version, 'minimum_version');
    this.#minimumVersion = v === TLSVersion.MAXIMUM_SUPPORTED ? TLSVersion.TLSv1_3 : v;
  }

  /**
   * Python's `maximum_version`: the highest TLS version a connection may use, checked as
   * `minimum_version` is. `MINIMUM_SUPPORTED` reads back as `TLSv1`, as in Python.
   */
  get maximum_version(): TLSVersion {
    return this.#maximumVersion;
  }
  /** Set `maximum_version` (a `TLSVersion` value). */
  set maximum_version(version: TLSVersion) {
    const v = tlsVersion(version, 'maximum_version');
    this.#maximumVersion = v === TLSVersion.MINIMUM_SUPPORTED ? TLSVersion.TLSv1 : v;
  }

  /** Python's `verify_mode`. CERT_NONE while `check_hostname` is on is a `TypeError` (Python: ValueError). */
  get verify_mode(): VerifyMode {
    return this.#verifyMode;
  }
  /** Set `verify_mode` (`CERT_NONE`, `CERT_OPTIONAL` or `CERT_REQUIRED`). */
  set verify_mode(mode: VerifyMode) {
    if (!([CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED] as number[]).includes(mode)) {
      throw new TypeError('invalid value for verify_mode');
    }
    if (mode === CERT_NONE && this.#checkHostname) {
      throw new TypeError('Cannot set verify_mode to CERT_NONE when check_hostname is enabled.');
    }
    this.#verifyMode = mode;
    this.#generation++;
  }

  /** Python's `check_hostname`; turning it on also turns CERT_NONE into CERT_REQUIRED (3.7+). */
  get check_hostname(): boolean {
    return this.#checkHostname;
  }
  /**
   * Set `check_hostname`; `true` also turns `CERT_NONE` into `CERT_REQUIRED`. Any value
   * is taken by its truth as Python's (NaN is true there, so the check stays on).
   */
  set check_hostname(value: boolean) {
    this.#checkHostname = pytruth(value);
    if (this.#checkHostname && this.#verifyMode === CERT_NONE) this.#verifyMode = CERT_REQUIRED;
    this.#generation++;
  }

  /**
   * Python's `hostname_checks_common_name` (3.7+): whether a certificate without a DNS
   * subjectAltName may match the host name by its subject's common name (never an IP
   * address). Off by default here, a deliberate difference from Python (on there): RFC
   * 9525, browsers and Go no longer look at the CN.
   */
  get hostname_checks_common_name(): boolean {
    return this.#commonName;
  }
  /** Set `hostname_checks_common_name`. */
  set hostname_checks_common_name(value: boolean) {
    this.#commonName = pytruth(value);
    this.#generation++;
  }

  /**
   * Python's `load_cert_chain(certfile, keyfile=None, password=None)`: the client
   * certificate (and its chain) and private key, PEM files; the key may sit in
   * `certfile`. `password` decrypts an encrypted key: a string, bytes (a `Uint8Array`),
   * or a function returning one, called only when the key is encrypted, as in Python.
   * Another password is a `TypeError` now, as in Python ("password should be a string or
   * callable"), so is a function's other result ("password callback must return a
   * string") or a password over 1024 bytes (Python's ValueError). A bad file, key or
   * password throws `SSLError` now, as in Python; so does a file of more than 16 MiB (a
   * device, an endless file such as `/dev/zero`: read no further than that).
   */
  load_cert_chain(
    certfile: string,
    keyfile?: string | null,
    password?: string | Uint8Array | (() => string | Uint8Array) | null,
  ): void {
    fsPath(certfile, 'certfile');
    if (keyfile !== null && keyfile !== undefined) fsPath(keyfile, 'keyfile');
    const pw: unknown = password;
    if (pw !== null && pw !== undefined && typeof pw !== 'function' && !isPasswordText(pw)) {
      throw new TypeError('password should be a string or callable');
    }
    const cert = readCredentialFile(certfile, 'certfile');
    // An empty keyfile is a path too, as Python's `keyfile is None` test has it: ''
    // fails to open (FileNotFoundError), never means "the key is in certfile".
    const key = privateKeyPem(
      keyfile === null || keyfile === undefined ? cert : readCredentialFile(keyfile, 'keyfile'),
    );
    const encrypted = ENCRYPTED_PEM.test(key.toString('latin1'));
    const tryLoad = (passphrase: string | undefined): unknown => {
      try {
        const secret = passphrase === undefined ? {} : { passphrase };
        nodeTls().createSecureContext({ cert, key, ...secret });
        // The key is decrypted here too: Deno's createSecureContext accepts an encrypted
        // one it cannot use (a wrong password, no password, a cipher it lacks such as
        // des-ede3-cbc) and then connects without presenting the certificate.
        const crypto = nodeCrypto();
        const privateKey = crypto.createPrivateKey({ key, ...secret });
        // A key of another type than the certificate's (an EC key for an RSA certificate)
        // goes into another slot of OpenSSL's and is not checked against it (Node, Deno):
        // the handshake would fail later, for no clear reason. Python refuses it here.
        const leaf = CERTIFICATE_PEM.exec(cert.toString('latin1'))?.[0];
        if (leaf !== undefined && !new crypto.X509Certificate(leaf).checkPrivateKey(privateKey)) {
          // Python's error (2.7 and 3, OpenSSL 3.0), in Node's form.
          return Object.assign(new Error('no certificate assigned'), {
            code: NO_CERTIFICATE_ASSIGNED,
            library: 'SSL routines',
            reason: 'no certificate assigned',
          });
        }
        return null;
      } catch (err) {
        return err ?? new Error(String(err));
      }
    };
    // The password is used (a function called) only for a key that needs one, as in
    // Python: a PEM key says so in its armour. Where that cannot be read (not PEM), a
    // key that fails to load without the password is tried with it. (Trying without it
    // first is not enough: Deno's createSecureContext takes an encrypted key without
    // its passphrase, and the certificate was then never presented.)
    const given = pw !== null && pw !== undefined;
    const text = (): string =>
      passwordText(typeof pw === 'function' ? (pw as () => unknown)() : pw);
    let passphrase = given && encrypted ? text() : undefined;
    let failure = tryLoad(passphrase);
    if (failure !== null && given && passphrase === undefined) {
      passphrase = text();
      failure = tryLoad(passphrase);
    }
    if (failure !== null) throw chainError(failure);
    this.#chain = { cert, key, passphrase };
    this.#generation++;
  }

  /**
   * Python's `load_verify_locations(cafile=None, capath=None, cadata=None)`: trust more
   * CA certificates: a PEM file (`BEGIN CERTIFICATE` or OpenSSL's `BEGIN TRUSTED
   * CERTIFICATE`), a directory in OpenSSL's hashed layout (only `<subject hash>.<n>`
   * files, as `openssl rehash` names them), or PEM text / DER bytes. A `cafile` of more
   * than 16 MiB (a device, an endless file such as `/dev/zero`) throws `SSLError`, read
   * no further than that (Python's OpenSSL gives up on `/dev/zero` too); a `capath` file
   * that large is skipped, as one that cannot be read.
   */
  load_verify_locations(
    cafile?: string | null,
    capath?: string | null,
    cadata?: string | Uint8Array | null,
  ): void {
    // Given or not by `None` (null) only, as in Python: an empty path is a path, which
    // fails to load (an unset variable must not mean "nothing to add").
    const hasFile = cafile !== null && cafile !== undefined;
    const hasPath = capath !== null && capath !== undefined;
    if (hasFile) fsPath(cafile, 'cafile');
    if (hasPath) fsPath(capath, 'capath');
    if (!hasFile && !hasPath && (cadata === null || cadata === undefined)) {
      throw new TypeError('cafile, capath and cadata cannot be all omitted');
    }
    if (
      cadata !== null &&
      cadata !== undefined &&
      typeof cadata !== 'string' &&
      !ArrayBuffer.isView(cadata)
    ) {
      throw new TypeError('cadata should be an ASCII string or a bytes-like object');
    }
    const found: string[] = [];
    if (hasFile) {
      // '' fails to open: ENOENT, Python's FileNotFoundError.
      const text = readCredentialFile(cafile, 'cafile').toString('latin1');
      found.push(...pemCertificates(text, cafile, true));
    }
    if (capath === '') {
      // OpenSSL refuses an empty directory name (Python 3.11 and 2.7 alike).
      throw new SSLError('[X509: INVALID_DIRECTORY] invalid directory', {
        library: 'X509',
        reason: 'INVALID_DIRECTORY',
      });
    }
    if (hasPath) found.push(...capathCertificates(capath));
    if (typeof cadata === 'string') found.push(...pemCertificates(cadata, 'cadata'));
    else if (cadata !== null && cadata !== undefined) {
      // Any bytes-like view: its bytes (Python's buffer protocol).
      const view: ArrayBufferView = cadata;
      found.push(...derCertificates(new Uint8Array(view.buffer, view.byteOffset, view.byteLength)));
    }
    this.#cas.push(...found);
    this.#generation++;
  }

  /**
   * Python's `load_default_certs(purpose=Purpose.SERVER_AUTH)`: trust the system's CA
   * certificates (Node's bundled roots and `NODE_EXTRA_CA_CERTS`). A `purpose` that is
   * not a {@link Purpose} value is a `TypeError`, as in Python.
   */
  load_default_certs(purpose?: PurposeName): void {
    purposeOf(purpose);
    this.#defaultCerts = true;
    this.#generation++;
  }

  /**
   * Python's `set_ciphers(ciphers)`: an OpenSSL cipher list. Not a string is a
   * `TypeError`; a list that selects no cipher is an `SSLError` now, as in Python: an
   * empty one, and one of TLS 1.3 suite names only (which Node takes, but connect, with
   * the security level it adds, would then refuse).
   */
  set_ciphers(ciphers: string): void {
    if (typeof ciphers !== 'string') {
      throw new TypeError(`set_ciphers() argument must be a string, not ${typeName(ciphers)}`);
    }
    try {
      nodeTls().createSecureContext({ ciphers });
      // The list as a connection will give it (tls-verify.ts may add a security level).
      nodeTls().createSecureContext({ ciphers: securityLevel(ciphers).ciphers });
    } catch (err) {
      throw new SSLError('No cipher can be selected.', { reason: 'NO_CIPHER_MATCH', cause: err });
    }
    this.#ciphers = ciphers;
    this.#generation++;
  }

  /**
   * Python's `set_alpn_protocols(alpn_protocols)`, e.g. `['http/1.1']`: any iterable of
   * ASCII strings, checked now as in Python: not an iterable, or an item that is not a
   * string, is a `TypeError` (so is a non-ASCII one, Python's UnicodeEncodeError); an
   * empty one or one longer than 255 is an `SSLError`, as in Python. A string is an
   * iterable of its characters, in Python too.
   */
  set_alpn_protocols(alpn_protocols: Iterable<string>): void {
    const given: unknown = alpn_protocols;
    if (
      given === null ||
      given === undefined ||
      typeof (given as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function'
    ) {
      throw new TypeError(`alpn_protocols must be an iterable of strings, got ${typeName(given)}`);
    }
    const protocols: string[] = [];
    for (const protocol of given as Iterable<unknown>) {
      if (typeof protocol !== 'string') {
        throw new TypeError(`ALPN protocols must be strings, got ${typeName(protocol)}`);
      }
      if (!/^\p{ASCII}*$/u.test(protocol)) {
        throw new TypeError(`ALPN protocols must be ASCII, got ${JSON.stringify(protocol)}`);
      }
      if (protocol.length === 0 || protocol.length > 255) {
        throw new SSLError('ALPN protocols must be 1 to 255 in length');
      }
      protocols.push(protocol);
    }
    this.#alpn = protocols;
    this.#generation++;
  }

  /**
   * What this context says about a connection to `host:port` (the TLS
   * host: the tunnel's when tunnelling), read now, when the connection is made:
   * `checkHostname` is the connection's own setting (null: the context's). Throws
   * what Python throws for a context that cannot make this client connection: a
   * server-side context (`SSLError`), `check_hostname` with `CERT_NONE`, or a host
   * name Python refuses as `server_hostname` (`TypeError`, Python's `ValueError`).
   */
  #clientSettings(host: string, port: number, checkHostname: boolean | null): ClientTlsSettings {
    if (this.protocol === PROTOCOL_TLS_SERVER) {
      throw new SSLError('Cannot create a client socket with a PROTOCOL_TLS_SERVER context');
    }
    const check = checkHostname ?? this.#checkHostname;
    const verifyChain = this.#verifyMode !== CERT_NONE;
    if (check && !verifyChain) {
      // http.client's words for the same contradiction, found at construction there.
      throw new TypeError(
        'check_hostname needs a SSL context with either CERT_OPTIONAL or CERT_REQUIRED',
      );
    }
    // Python refuses an empty server_hostname only when it is to be checked.
    const hostname = host === '' && !check ? '' : serverHostname(host);
    const options: tls.ConnectionOptions = { rejectUnauthorized: verifyChain };
    // RFC 6066: no SNI for IP literals (Python 3.7+ does the same).
    if (isIP(hostname) === 0 && hostname !== '') options.servername = hostname;
    const ca = this.#caList();
    if (ca !== null) options.ca = ca;
    // Node's store as it is now, when the connection takes it (none named).
    const store = ca === null ? defaultStoreEpoch() : 0;
    if (this.#chain !== null) {
      options.cert = this.#chain.cert;
      options.key = this.#chain.key;
      if (this.#chain.passphrase !== undefined) options.passphrase = this.#chain.passphrase;
    }
    // No version both bounds allow (a maximum of SSL 3.0, which Node cannot speak, or a
    // minimum above the maximum): Python's handshake fails at once; here no connection
    // is even opened.
    const lowest = this.#minimumVersion < 0 ? TLSVersion.TLSv1 : this.#minimumVersion;
    const highest = this.#maximumVersion < 0 ? TLSVersion.TLSv1_3 : this.#maximumVersion;
    if (highest < TLSVersion.TLSv1 || lowest > highest) {
      throw new SSLError('[SSL: NO_PROTOCOLS_AVAILABLE] no protocols available', {
        reason: 'NO_PROTOCOLS_AVAILABLE',
        library: 'SSL',
      });
    }
    const min = VERSION_NAMES[this.#minimumVersion];
    if (min !== undefined) options.minVersion = min;
    const max = VERSION_NAMES[this.#maximumVersion];
    if (max !== undefined) options.maxVersion = max;
    // Security level 2 unless the cipher string names one: by the TLS library where it
    // takes it, else by the verification after the handshake (tls-verify.ts).
    const level = securityLevel(this.#ciphers ?? nodeTls().DEFAULT_CIPHERS);
    options.ciphers = level.ciphers;
    // Node takes the context's options from here and ignores them in `options`.
    const secureContext = this.#sharedSecureContext(options, store);
    if (secureContext !== undefined) options.secureContext = secureContext;
    if (this.#alpn !== undefined) options.ALPNProtocols = this.#alpn;
    return {
      hostname,
      verifyChain,
      checkHostname: check,
      commonName: this.#commonName,
      ownSecurityLevel: verifyChain ? level.ownLevel : 0,
      options,
      // A session is only offered to a connection that would verify the server exactly
      // as the one that made it: same name, port, checks, trust store and client
      // certificate (the generation, and Node's store when it is the trust store), TLS
      // versions.
      sessionKey: [
        this.#generation,
        store,
        hostname,
        port,
        check,
        this.#minimumVersion,
        this.#maximumVersion,
      ].join('\0'),
      sessions: this.#sessions,
    };
  }

  /**
   * One `secureContext` standing for what of `options` belongs to the TLS library's
   * context (trust store, client certificate, ciphers, versions), made once for every
   * connection until these change, instead of by each `tls.connect` from its options:
   * with a CA file besides the default roots and `NODE_EXTRA_CA_CERTS`, every connect
   * handed ~570 certificates to OpenSSL again (66 ms of CPU per connection here). Node
   * only (Bun and Deno make theirs from the options, as before; untested there); none when
   * it cannot be made, so that `tls.connect` fails as it did. What `tls.connect` would
   * take from Node at each connect is in the key too: its default versions and curve,
   * and its default CA store (`store`, see `defaultStoreEpoch`) when the context names
   * no CA certificates.
   */
  #sharedSecureContext(
    options: tls.ConnectionOptions,
    store: number,
  ): tls.SecureContext | undefined {
    if ('Bun' in globalThis || 'Deno' in globalThis) return undefined;
    const { ca, cert, key, passphrase, ciphers, minVersion, maxVersion } = options;
    const node = nodeTls();
    const made = [
      this.#generation,
      ciphers,
      minVersion ?? node.DEFAULT_MIN_VERSION,
      maxVersion ?? node.DEFAULT_MAX_VERSION,
      node.DEFAULT_ECDH_CURVE,
      store,
    ].join('\0');
    if (this.#secure?.made !== made) {
      this.#secure = null;
      try {
        const context = nodeTls().createSecureContext({
          ca,
          cert,
          key,
          passphrase,
          ciphers,
          minVersion,
          maxVersion,
        });
        this.#secure = { made, context };
      } catch {
        return undefined;
      }
    }
    return this.#secure.context;
  }

  /** The CA list for `tls.connect`, or null to use Node's default store as it is. */
  #caList(): string[] | null {
    if (this.#cas.length === 0) return this.#defaultCerts ? null : [];
    if (!this.#defaultCerts) return this.#cas;
    return [...nodeTls().rootCertificates, ...extraCertificates(), ...this.#cas];
  }
}

/** Node's default CA store as last seen by `defaultStoreEpoch`, and its number. */
let seenStore: unknown = null;
let storeEpoch = 0;

/**
 * The number of Node's default CA store (`tls.getCACertificates('default')`, the
 * store of a connection that names no CA certificates), changed by
 * `tls.setDefaultCACertificates()` (Node 22.15+, 24.5+): Node documents the new store as
 * used by the connections made after it, so a context with `load_default_certs()` alone
 * follows it at its next connection (Python has no such call; its store is OpenSSL's
 * default paths), and a session made under the old store is not resumed under the new.
 * 0 where the store cannot change (older Node), and on Bun and Deno (untested there).
 * Node keeps one array until the store changes: a look-up is an identity comparison
 * (the first one makes that array, ~8 ms, once per thread).
 */
function defaultStoreEpoch(): number {
  if ('Bun' in globalThis || 'Deno' in globalThis) return 0;
  const node = nodeTls() as typeof tls & { getCACertificates?: (type: string) => unknown };
  if (!('setDefaultCACertificates' in node) || typeof node.getCACertificates !== 'function') {
    return 0;
  }
  const now = node.getCACertificates('default');
  if (now !== seenStore) {
    seenStore = now;
    storeEpoch++;
  }
  return storeEpoch;
}

/** Options of `create_default_context` (Python's keyword arguments). */
export interface DefaultContextOptions {
  /**
   * Python's `purpose`: `Purpose.SERVER_AUTH` (the default) for a client context; not a
   * `Purpose` value (null included, as Python's None) is a `TypeError`.
   */
  purpose?: PurposeName | undefined;
  /** Python's `cafile`: a PEM file of CA certificates to trust instead of the system's. */
  cafile?: string | null | undefined;
  /** Python's `capath`: a directory of PEM CA certificates to trust instead of the system's. */
  capath?: string | null | undefined;
  /** Python's `cadata`: CA certificates as PEM text or DER bytes. */
  cadata?: string | Uint8Array | null | undefined;
}

/**
 * Python's `ssl.create_default_context(purpose=SERVER_AUTH, cafile=None, capath=None,
 * cadata=None)`: certificate and host-name checks on, TLS 1.2 at least, and the given
 * CA certificates, or the system's when none are given (here: Node's bundled roots and
 * `NODE_EXTRA_CA_CERTS`, not the operating system's store). `options` null or undefined
 * is none given; options that are not an object, or a `purpose` that is not a
 * {@link Purpose} value, are a `TypeError` now (Python's TypeError).
 *
 * @example
 * ```ts
 * const context = httplib.ssl.create_default_context({ cafile: 'ca.pem' });
 * context.load_cert_chain('client.pem', 'client.key');
 * const conn = new httplib.HTTPSConnection('localhost', 8443, { context });
 * ```
 */
export function create_default_context(options?: DefaultContextOptions | null): SSLContext {
  const given = contextOptions(options, 'create_default_context');
  const purpose = purposeOf(given.purpose);
  const context = new SSLContext(
    purpose === Purpose.SERVER_AUTH ? PROTOCOL_TLS_CLIENT : PROTOCOL_TLS_SERVER,
  );
  context.minimum_version = TLSVersion.TLSv1_2;
  const { cafile, capath, cadata } = given;
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
 * client one, whatever `purpose` says (which must still be a {@link Purpose} value).
 *
 * @example
 * ```ts
 * const context = httplib.ssl._create_unverified_context();
 * const conn = new httplib.HTTPSConnection('self-signed.example', 443, { context });
 * ```
 */
export function _create_unverified_context(options?: DefaultContextOptions | null): SSLContext {
  const given = contextOptions(options, '_create_unverified_context');
  purposeOf(given.purpose);
  const context = new SSLContext(PROTOCOL_TLS_CLIENT);
  context.check_hostname = false;
  context.verify_mode = CERT_NONE;
  context.minimum_version = TLSVersion.TLSv1_2;
  const { cafile, capath, cadata } = given;
  if (cafile || capath || (cadata !== null && cadata !== undefined)) {
    context.load_verify_locations(cafile, capath, cadata);
  } else {
    context.load_default_certs();
  }
  return context;
}

/**
 * The options of `create_default_context` / `_create_unverified_context`: null or
 * undefined is none given (API.md: null where Python has None), else an object.
 */
function contextOptions(options: unknown, fn: string): DefaultContextOptions {
  if (options === null || options === undefined) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${fn}() options must be an object, got ${typeName(options)}`);
  }
  // A misspelt `cafile` must not quietly leave the default roots trusted.
  refuseUnknown(options, fn, OPTION_NAMES.context);
  return options as DefaultContextOptions;
}

/**
 * A `purpose` argument: a {@link Purpose} value, or undefined for the default
 * (`SERVER_AUTH`); anything else is a `TypeError`, as in Python (`None` included).
 */
function purposeOf(purpose: unknown): PurposeName {
  if (purpose === undefined) return Purpose.SERVER_AUTH;
  if (purpose === Purpose.SERVER_AUTH || purpose === Purpose.CLIENT_AUTH) return purpose;
  const got = typeof purpose === 'string' ? JSON.stringify(purpose) : typeName(purpose);
  throw new TypeError(
    `purpose must be ssl.Purpose.SERVER_AUTH or ssl.Purpose.CLIENT_AUTH, got ${got}`,
  );
}

/** A password as `load_cert_chain` takes it: a string or bytes (Python: str, bytes, bytearray). */
function isPasswordText(value: unknown): value is string | Uint8Array {
  return typeof value === 'string' || value instanceof Uint8Array;
}

/**
 * The passphrase for Node from a password or a password function's result, checked as
 * Python's password callback checks it (Python's ValueError is a `TypeError` here).
 */
function passwordText(value: unknown): string {
  if (!isPasswordText(value)) throw new TypeError('password callback must return a string');
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  if (bytes.length > 1024) throw new TypeError('password cannot be longer than 1024 bytes');
  return bytes.toString('utf8');
}

/**
 * A file or directory argument: a path (string, Buffer or file URL), never a number,
 * which Node's fs would take as an open file descriptor. Python's TypeError otherwise.
 */
function fsPath(value: unknown, name: string): void {
  if (typeof value === 'string' || Buffer.isBuffer(value) || value instanceof URL) return;
  throw new TypeError(`${name} should be a valid filesystem path`);
}

/** The armour of an encrypted PEM private key: PKCS #8, or OpenSSL's traditional header. */
const ENCRYPTED_PEM = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:[ \t]*4,ENCRYPTED/;
/** The first certificate of a PEM file (the one its key must match; Deno reads a file's first block only). */
const CERTIFICATE_PEM = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/;
const PRIVATE_KEY_PEM = /-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY)-----[\s\S]*?-----END \1-----/;

/**
 * The private key's PEM block of a key file, which may hold certificates before it (the
 * key in `certfile`); the file itself when it has none. Deno reads only a file's first
 * block: given the whole file, its createPrivateKey fails, and its TLS layer connects
 * without the certificate when the key is encrypted.
 */
function privateKeyPem(file: Buffer): Buffer {
  const block = PRIVATE_KEY_PEM.exec(file.toString('latin1'));
  return block === null ? file : Buffer.from(block[0], 'latin1');
}
