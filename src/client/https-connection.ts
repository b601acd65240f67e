/**
 * HTTPSConnection: `HTTPConnection` over TLS (`node:tls`), as Python 2.7.9+ has it:
 * certificate and host-name checks on by default (PEP 476), SNI for host names and none
 * for IP literals, the `context` to configure it, the deprecated `key_file`/`cert_file`,
 * and, through a tunnel, TLS with the tunnel's host.
 *
 * What TLS to speak and how to check the server is decided here (`tlsPlan`);
 * io/transport.ts starts it on the socket the plain connection opened (after the
 * CONNECT, if tunnelling). The handshake counts against `timeout`; failures become
 * `SSLCertVerificationError` / `SSLError` (ssl-errors.ts). What to verify is read from the context when the
 * connection is made (`clientSettings`), and the server is checked after every
 * handshake, resumed or not (`PeerCheck`, tls-verify.ts). Sessions are kept by the
 * context, so the next connection made from the same context with the same settings
 * resumes instead of repeating the full handshake.
 */

import { typeName } from '../io/body-kinds.ts';
import { HTTPS_PORT } from '../protocol/limits.ts';
import { pytruth } from '../protocol/pytext.ts';
import type { TlsFactory } from './connection-driver.ts';
import { classOptions, HTTPS_CONNECTION_OPTIONS } from './connection-options.ts';
import { WARNING_CODE_PREFIX, warnOnce } from './debug.ts';
import { HTTPConnection, type HTTPConnectionOptions, secureWith } from './http-connection.ts';
import { CERT_NONE, create_default_context, SSLContext } from './ssl.ts';
import { toSSLError } from './ssl-errors.ts';
import { clientSettings, PeerCheck } from './tls-verify.ts';

/** The code of the `key_file`/`cert_file` DeprecationWarning. */
export const KEY_CERT_FILE_WARNING = `${WARNING_CODE_PREFIX}KEY_CERT_FILE`;

/** Options of `HTTPSConnection` (Python's keyword arguments). */
export interface HTTPSConnectionOptions extends HTTPConnectionOptions {
  /** Python's `context`: an `ssl.SSLContext`; default `ssl.create_default_context()`. */
  context?: SSLContext | null | undefined;
  /** Python 3's `check_hostname`: overrides the context's setting for this connection. */
  check_hostname?: boolean | null | undefined;
  /** Deprecated (Python too): use `context.load_cert_chain()`. */
  key_file?: string | null | undefined;
  /** Deprecated (Python too): use `context.load_cert_chain()`. */
  cert_file?: string | null | undefined;
}

/**
 * Python's `httplib.HTTPSConnection`: {@link HTTPConnection} over TLS, with Python
 * 2.7.9+'s defaults (PEP 476): the certificate chain and the host name are checked
 * against Node's CA store (plus `NODE_EXTRA_CA_CERTS`), TLS 1.2 at least, SNI for host
 * names. Configure it with `context` (an {@link ssl.SSLContext}); through a tunnel, the
 * TLS session is with the tunnel's host.
 *
 * How this differs from Python 2.7: a failed check rejects with
 * {@link ssl.SSLCertVerificationError} (Python 3.7+; 2.7 raises a plain `SSLError` or,
 * for a name mismatch, `CertificateError` after the handshake), an IP address host is
 * matched against the certificate's IP SANs, host names by CPython 3.7+'s rules (no
 * partial wildcards) and not by the CN unless `hostname_checks_common_name` is set,
 * every setting is read from the context at each connect, the default context offers
 * ALPN `http/1.1` (Python 3.10+), and TLS sessions are resumed from the context's cache
 * when nothing that verification depends on has changed.
 *
 * @example
 * ```ts
 * const context = httplib.ssl.create_default_context({ cafile: 'ca.pem' });
 * const conn = new httplib.HTTPSConnection('localhost', 8443, { context });
 * await conn.request('GET', '/');
 * const response = await conn.getresponse();
 * ```
 */
export class HTTPSConnection extends HTTPConnection {
  /** Python's `default_port`: 443. */
  static override default_port = HTTPS_PORT;

  /** Python's `key_file` (deprecated, as in Python): the client key file given, or null. */
  key_file: string | null;
  /** Python's `cert_file` (deprecated, as in Python): the client certificate file given, or null. */
  cert_file: string | null;
  /** Python's `_context`: the `SSLContext` this connection uses. */
  readonly _context: SSLContext;
  /** The constructor's `check_hostname`, or null to follow the context's. */
  readonly #checkHostname: boolean | null;

  constructor(host: string, port?: number | null, given: HTTPSConnectionOptions = {}) {
    super(host, port, given);
    // Checked by super(): an object, or null/undefined.
    const options: HTTPSConnectionOptions = given ?? {};
    this.key_file = options.key_file ?? null;
    this.cert_file = options.cert_file ?? null;
    let context = contextOption(options.context);
    if (context === null) {
      context = create_default_context();
      // Python 3.10+ `_create_https_context`: offer ALPN http/1.1 by default.
      context.set_alpn_protocols(['http/1.1']);
    }
    this.#checkHostname = checkHostnameOption(options.check_hostname);
    const checkHostname = this.#checkHostname ?? context.check_hostname;
    // Python checks this here; it is checked again at each connect, since the context
    // may change in between.
    if (checkHostname && context.verify_mode === CERT_NONE) {
      throw new TypeError(
        'check_hostname needs a SSL context with either CERT_OPTIONAL or CERT_REQUIRED',
      );
    }
    // Python 2.7 and 3: `if key_file or cert_file:`, by their truth: empty names (an unset
    // environment variable) load nothing, and are no error.
    if (this.key_file || this.cert_file) {
      if (this.cert_file === null) {
        // Python: TypeError from load_cert_chain(None, key_file). Before, the key file was
        // loaded as the certificate, and the connect failed with SSLError 'no start line'.
        throw new TypeError(
          'key_file needs cert_file: the client certificate (a file holding both is given as cert_file)',
        );
      }
      // Python loads the pair into the context, the caller's own included.
      context.load_cert_chain(this.cert_file, this.key_file);
      // Once the files were accepted (a constructor that throws made nothing to warn
      // about), and once per process (Python 3: once per call site).
      warnOnce(
        'key_file and cert_file are deprecated, use a custom context instead.',
        'DeprecationWarning',
        KEY_CERT_FILE_WARNING,
      );
    }
    this._context = context;
    secureWith(this, tlsPlan(this, this.#checkHostname));
  }

  /**
   * Whether the host name is checked: the constructor's `check_hostname`, else the
   * context's, read now (a connection reads it when it is made).
   */
  get check_hostname(): boolean {
    return this.#checkHostname ?? this._context.check_hostname;
  }
}
classOptions.set(HTTPSConnection, HTTPS_CONNECTION_OPTIONS);

/**
 * The `check_hostname` option: null (not given: the context's setting rules), else its
 * truth. Python: `if check_hostname is not None: context.check_hostname = check_hostname`,
 * by its truth (NaN is true there; a Symbol broke the session key at connect). The
 * blocking entry's twin reads it too, to follow the context as this class does.
 */
export function checkHostnameOption(check: unknown): boolean | null {
  return check === null || check === undefined ? null : pytruth(check);
}

/**
 * TLS with `host:port` (the tunnel's when tunnelling) as the connection's context says:
 * its verification settings are read when the connection is made (`prepare`, before
 * anything is opened), the server is checked after every handshake, resumed or not.
 * io/transport.ts runs it.
 */
function tlsPlan(conn: HTTPSConnection, checkHostname: boolean | null): TlsFactory {
  return (host, port) => {
    let check: PeerCheck | null = null;
    const peer = (): PeerCheck => check as PeerCheck;
    return {
      prepare: () => {
        check = new PeerCheck(clientSettings(conn._context, host, port, checkHostname));
      },
      options: () => ({ ...peer().connectOptions(), host }),
      watch: (socket) => peer().watch(socket),
      verify: (socket) => peer().verify(socket),
      failed: () => check?.forget(),
      mapError: (err) => toSSLError(err),
    };
  };
}

/**
 * The `context` option of an HTTPS connection: null when not given, else it must be an
 * {@link SSLContext}. Python fails at once too (an `AttributeError`); a Node
 * `SecureContext` or a `tls` options object is the likely mistake, refused here by name
 * before anything is connected.
 */
export function contextOption(value: unknown): SSLContext | null {
  if (value === undefined || value === null) return null;
  if (value instanceof SSLContext) return value;
  throw new TypeError(
    `context must be an ssl.SSLContext (ssl.create_default_context()), got ${typeName(value)}`,
  );
}
