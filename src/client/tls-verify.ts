/**
 * Verifying the server of an HTTPS connection, on our own terms rather than Node's:
 *
 * - `serverHostname`: the name used for SNI and for the check, IDNA-encoded as Python
 *   encodes `server_hostname`; an IP literal stays as it is (and is sent as no SNI).
 * - `matchesHostname`: the host-name check CPython 3.7+ asks OpenSSL for
 *   (`X509_check_host` / `X509_check_ip` with `NO_PARTIAL_WILDCARDS`): DNS names only
 *   against DNS SANs, a wildcard only as the whole left-most label of a name with at
 *   least three labels, IP literals only against IP SANs, and the subject's CN only
 *   when asked to (`hostname_checks_common_name`) and the certificate has no DNS SAN.
 * - `SessionCache`: a context's TLS sessions, each kept with the certificate it was
 *   made with, under a key that names everything verification depends on.
 * - `PeerCheck`: what the handshake site calls: the `tls.connect` options (with a
 *   session to resume, if one fits), a watch on the sessions the connection makes, and
 *   `verify()` after every handshake, full or resumed. Node runs no identity check on a
 *   resumed session, and its own check allows partial wildcards and the CN: here Node's
 *   check is off and this one always runs.
 *
 * Nothing here opens a socket; the handshake itself stays where the connection is made.
 */
import { isIP } from 'node:net';
import type * as tls from 'node:tls';
import { domainToASCII } from 'node:url';
import { hostnameMismatch, SSLCertVerificationError, verifyError } from './ssl-errors.ts';
import { certificateNames } from './x509-der.ts';

/**
 * The name for SNI and the host-name check: `host` IDNA-encoded (Node's UTS #46
 * `domainToASCII`) when it is not ASCII, else as given. Throws `TypeError` (Python:
 * `ValueError`/`UnicodeError`) for a name Python refuses as `server_hostname`: empty,
 * starting with a dot, or not encodable.
 */
export function serverHostname(host: string): string {
  if (isIP(host) !== 0) return host;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is the point
  const ascii = /^[\x00-\x7f]*$/.test(host) ? host : domainToASCII(host);
  if (ascii === '') {
    throw new TypeError(
      host === ''
        ? 'check_hostname requires server_hostname'
        : `encoding with 'idna' codec failed: '${host}' is not a valid host name`,
    );
  }
  if (ascii.startsWith('.')) {
    throw new TypeError('server_hostname cannot be an empty string or start with a leading dot.');
  }
  return ascii;
}

/** ASCII letters to lower case, nothing else (OpenSSL's case-insensitive compare). */
function lower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/**
 * The wildcard OpenSSL accepts with `X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS` (v3_utl.c,
 * `valid_star`): the whole first label is `*`, no other `*`, only letters, digits,
 * hyphens and dots, no empty label, no label starting or ending with a hyphen, and at
 * least two dots (so `*.test` is no wildcard). Returns the suffix after `*`, or null
 * when the pattern is to be compared as a plain name.
 */
function wildcardSuffix(pattern: string): string | null {
  if (!pattern.startsWith('*.')) return null;
  const labels = pattern.slice(2).split('.');
  if (labels.length < 2) return null;
  for (const label of labels) {
    if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/.test(label)) return null;
  }
  return pattern.slice(1);
}

/** One DNS identifier of the certificate against the host (both ASCII). */
function matchesName(pattern: string, host: string): boolean {
  if (pattern.includes('\0')) return false;
  const suffix = wildcardSuffix(pattern);
  // A host starting with a dot would ask OpenSSL for a sub-domain match: never here.
  if (suffix === null || host.startsWith('.')) return lower(pattern) === lower(host);
  if (host.length <= suffix.length || !lower(host).endsWith(lower(suffix))) return false;
  // The wildcard covers exactly one non-empty label of letters, digits and hyphens
  // (an A-label `xn--…` too, as OpenSSL allows for a whole-label wildcard), or a
  // literal `*`, as OpenSSL allows.
  return /^(?:[A-Za-z0-9-]+|\*)$/.test(host.slice(0, host.length - suffix.length));
}

/** The 4 or 16 bytes of an IP literal. */
function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  // Expand `::` and a trailing dotted quad, then read eight 16-bit groups.
  let text = ip;
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad !== null) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? left
      : [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(Number.parseInt(groups[i] ?? '0', 16), i * 2);
  return out;
}

/**
 * Whether the certificate (DER) is valid for `host` (ASCII, or an IP literal), by
 * CPython 3.7+'s rules (OpenSSL's `X509_check_host`/`X509_check_ip` with partial
 * wildcards off); `commonName`: fall back to the subject's CN when the certificate has
 * no DNS SAN (Python's `hostname_checks_common_name`). A certificate that does not
 * parse matches nothing.
 */
export function matchesHostname(der: Uint8Array, host: string, commonName: boolean): boolean {
  let names: ReturnType<typeof certificateNames>;
  try {
    names = certificateNames(der);
  } catch {
    return false;
  }
  if (isIP(host) !== 0) {
    const want = ipBytes(host);
    return names.ipAddresses.some((ip) => ip.equals(want));
  }
  if (names.dnsNames.length > 0) return names.dnsNames.some((n) => matchesName(n, host));
  return commonName && names.commonNames.some((cn) => cn !== '' && matchesName(cn, host));
}

/** A kept session and the server certificate it was made with (null: none was seen). */
interface CachedSession {
  readonly session: Buffer;
  readonly cert: Buffer | null;
}

/** Most TLS sessions a context keeps for resumption. */
const SESSION_CACHE_SIZE = 100;

/** @internal A context's TLS sessions: the newest {@link SESSION_CACHE_SIZE}, by key. */
export class SessionCache {
  private readonly entries = new Map<string, CachedSession>();

  get(key: string): CachedSession | undefined {
    return this.entries.get(key);
  }

  set(key: string, entry: CachedSession): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > SESSION_CACHE_SIZE) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

/** @internal What a context says about one connection, read when it is made. */
export interface ClientTlsSettings {
  /** The name for SNI and the check ({@link serverHostname}), or the IP literal. */
  readonly hostname: string;
  /** Whether the chain must verify (the context's `verify_mode` is not CERT_NONE). */
  readonly verifyChain: boolean;
  /** Whether the host name is checked (the connection's or the context's `check_hostname`). */
  readonly checkHostname: boolean;
  /** Python's `hostname_checks_common_name`. */
  readonly commonName: boolean;
  /** `tls.connect` options from the context (no socket, no session). */
  readonly options: tls.ConnectionOptions;
  /** Names everything the verification of a resumed session depends on. */
  readonly sessionKey: string;
  readonly sessions: SessionCache;
}

/**
 * @internal The verification of one TLS connection, for the handshake site:
 * `connectOptions()` for `tls.connect`, `watch(socket)` right after it, `verify(socket)`
 * once the handshake is done (throws `SSLCertVerificationError`), `forget()` when the
 * connection failed.
 */
export class PeerCheck {
  private offered: CachedSession | undefined;
  /** The verified server certificate, once `verify()` passed; sessions wait until then. */
  private cert: Buffer | null | undefined;
  private readonly pending: Buffer[] = [];

  readonly settings: ClientTlsSettings;

  constructor(settings: ClientTlsSettings) {
    this.settings = settings;
  }

  /** The options for `tls.connect`: the context's, Node's own identity check off, a session. */
  connectOptions(): tls.ConnectionOptions {
    const { settings } = this;
    this.offered = settings.sessions.get(settings.sessionKey);
    return {
      ...settings.options,
      // Node's check allows partial wildcards and the CN, and is skipped on resumed
      // sessions: verify() runs ours after every handshake instead.
      checkServerIdentity: () => undefined,
      ...(this.offered === undefined ? {} : { session: this.offered.session }),
    };
  }

  /** Keep the sessions `socket` makes, once it is verified. */
  watch(socket: tls.TLSSocket): void {
    socket.on('session', (session: Buffer) => {
      if (this.cert === undefined) this.pending.push(session);
      else this.save(session);
    });
  }

  /** Check the finished handshake; throws the verification error. */
  verify(socket: tls.TLSSocket): void {
    const { settings } = this;
    const reused = socket.isSessionReused();
    if (settings.verifyChain && !socket.authorized) {
      // Not reached while Node rejects unverified peers itself (rejectUnauthorized),
      // but a resumed session's stored result must never pass unseen.
      const code = String(socket.authorizationError ?? '');
      throw (
        verifyError(code, code) ??
        new SSLCertVerificationError(1, 'unspecified certificate verification error')
      );
    }
    // Node shows no certificate on a resumed session: the one it was made with counts.
    const cert = reused
      ? (this.offered?.cert ?? null)
      : (socket.getPeerX509Certificate()?.raw ?? null);
    if (settings.checkHostname) {
      if (cert === null || !matchesHostname(cert, settings.hostname, settings.commonName)) {
        throw hostnameMismatch(settings.hostname);
      }
    }
    this.cert = cert;
    for (const session of this.pending.splice(0)) this.save(session);
  }

  /** The connection failed: its key's session is not offered again. */
  forget(): void {
    this.settings.sessions.delete(this.settings.sessionKey);
  }

  private save(session: Buffer): void {
    this.settings.sessions.set(this.settings.sessionKey, { session, cert: this.cert ?? null });
  }
}
