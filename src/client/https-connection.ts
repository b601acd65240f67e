/**
 * HTTPSConnection: `HTTPConnection` over TLS (`node:tls`), as Python 2.7.9+ has it:
 * certificate and host-name checks on by default (PEP 476), SNI for host names and none
 * for IP literals, the `context` to configure it, the deprecated `key_file`/`cert_file`,
 * and, through a tunnel, TLS with the tunnel's host.
 *
 * TLS is started on the socket the plain connection opened (after the CONNECT, if
 * tunnelling), with any bytes that followed the proxy's answer handed to the TLS layer.
 * The handshake counts against `timeout`; failures become `SSLCertVerificationError` /
 * `SSLError` (ssl-errors.ts). What to verify is read from the context when the
 * connection is made (`clientSettings`), and the server is checked after every
 * handshake, resumed or not (`PeerCheck`, tls-verify.ts). Sessions are kept by the
 * context, so the next connection made from the same context with the same settings
 * resumes instead of repeating the full handshake.
 */
import type * as net from 'node:net';
import * as tls from 'node:tls';
import { ByteReader } from '../io/byte-reader.ts';
import { timeoutMs } from '../io/deadline.ts';
import { AbortError, type TimeoutDetails, TimeoutError } from '../protocol/errors.ts';
import { HTTPS_PORT } from '../protocol/limits.ts';
import { HTTPConnection, type HTTPConnectionOptions } from './http-connection.ts';
import { CERT_NONE, create_default_context, type SSLContext } from './ssl.ts';
import { toSSLError } from './ssl-errors.ts';
import { PeerCheck } from './tls-verify.ts';

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
  private readonly checkHostnameOption: boolean | null;
  /** The verification of the connection being made (read from the context at connect). */
  private peerCheck: PeerCheck | null = null;

  constructor(host: string, port?: number | null, options: HTTPSConnectionOptions = {}) {
    super(host, port, options);
    this.key_file = options.key_file ?? null;
    this.cert_file = options.cert_file ?? null;
    let context = options.context ?? null;
    if (context === null) {
      context = create_default_context();
      // Python 3.10+ `_create_https_context`: offer ALPN http/1.1 by default.
      context.set_alpn_protocols(['http/1.1']);
    }
    this.checkHostnameOption = options.check_hostname ?? null;
    const checkHostname = this.checkHostnameOption ?? context.check_hostname;
    // Python checks this here; it is checked again at each connect, since the context
    // may change in between.
    if (checkHostname && context.verify_mode === CERT_NONE) {
      throw new TypeError(
        'check_hostname needs a SSL context with either CERT_OPTIONAL or CERT_REQUIRED',
      );
    }
    if (this.key_file !== null || this.cert_file !== null) {
      process.emitWarning(
        'key_file and cert_file are deprecated, use a custom context instead.',
        'DeprecationWarning',
      );
      // Python loads the pair into the context, the caller's own included.
      context.load_cert_chain(this.cert_file ?? (this.key_file as string), this.key_file);
    }
    this._context = context;
  }

  /**
   * Whether the host name is checked: the constructor's `check_hostname`, else the
   * context's, read now (a connection reads it when it is made).
   */
  get check_hostname(): boolean {
    return this.checkHostnameOption ?? this._context.check_hostname;
  }

  /**
   * @internal Read the context's verification settings before connecting, so that a
   * context that cannot make this connection is refused before a byte is sent.
   */
  protected override doConnect(callSignal?: AbortSignal): Promise<void> {
    // An empty host fails as an address first (Python: getaddrinfo's error, before the
    // TLS layer could say "check_hostname requires server_hostname").
    if (this.host === '' && this.createConnection === null) return super.doConnect(callSignal);
    try {
      this.peerCheck = new PeerCheck(
        this._context.clientSettings(
          this._tunnel_host ?? this.host,
          this._tunnel_port ?? this.port,
          this.checkHostnameOption,
        ),
      );
    } catch (err) {
      return Promise.reject(err);
    }
    return super.doConnect(callSignal);
  }

  /** @internal TLS reads the socket's stream itself: no `onread` buffer under it. */
  protected override staticBufferReads(): boolean {
    return false;
  }

  /** @internal Start TLS on the connected (and tunnelled) socket. */
  protected override async secure(
    reader: ByteReader,
    signal: AbortSignal | null,
  ): Promise<ByteReader> {
    const raw = reader.socket as net.Socket;
    // Bytes that came after the proxy's answer belong to the TLS layer.
    const leftover = reader.detach();
    for (let i = leftover.length - 1; i >= 0; i--) raw.unshift(leftover[i] as Buffer);
    const host = this._tunnel_host ?? this.host;
    const port = this._tunnel_port ?? this.port;
    const check = this.peerCheck as PeerCheck;
    const socket = tls.connect({ ...check.connectOptions(), socket: raw, host });
    check.watch(socket);
    try {
      const seconds = this.timeout;
      const timeout =
        seconds === null ? null : ({ phase: 'handshake', host, port, seconds } as const);
      await handshake(socket, timeout, signal);
      check.verify(socket);
    } catch (err) {
      check.forget();
      socket.destroy();
      raw.destroy();
      this.reader = null;
      throw toSSLError(err);
    }
    const secured = new ByteReader(socket);
    secured.mapError = (err) => toSSLError(err) as Error;
    return secured;
  }
}

/** Wait for the TLS handshake, within `timeout` and until `signal` fires. */
function handshake(
  socket: tls.TLSSocket,
  timeout: TimeoutDetails | null,
  signal: AbortSignal | null,
): Promise<void> {
  const ms = timeout === null ? null : timeoutMs(timeout.seconds);
  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | null = null;
    const done = (err: Error | null): void => {
      if (timer !== null) clearTimeout(timer);
      socket.removeListener('secureConnect', onConnect);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      if (err === null) {
        resolve();
      } else {
        // A late error of the destroyed socket must not go uncaught.
        socket.on('error', () => {});
        reject(err);
      }
    };
    const onConnect = (): void => done(null);
    const onError = (err: Error): void => done(err);
    const onClose = (): void => {
      const err = new Error(
        'Client network socket disconnected before secure TLS connection was established',
      ) as NodeJS.ErrnoException;
      err.code = 'ECONNRESET';
      done(err);
    };
    const onAbort = (): void =>
      done(new AbortError('The operation was aborted', { cause: signal?.reason }));
    socket.once('secureConnect', onConnect);
    socket.once('error', onError);
    socket.once('close', onClose);
    if (signal !== null) {
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
    }
    if (ms !== null) timer = setTimeout(() => done(new TimeoutError(timeout)), ms);
  });
}
