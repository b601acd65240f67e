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
 * - `securityLevel`: OpenSSL's security level 2 (CPython 3.10+), asked of the TLS library
 *   in the cipher string where it takes it (Node.js's OpenSSL), else enforced by
 *   `verify()` itself (x509-strength.ts): Bun's BoringSSL has no levels, Deno's TLS layer
 *   ignores cipher strings.
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
import { nodeTls } from '../io/node-tls.ts';
import { hostnameMismatch, SSLCertVerificationError, verifyError } from './ssl-errors.ts';
import { certificateNames } from './x509-der.ts';
import { securityLevelFailures } from './x509-strength.ts';

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

/**
 * OpenSSL's security level for every context unless its cipher string names one:
 * CPython 3.10+ builds its default contexts at level 2 (RSA and DH keys of 2048 bits
 * at least, no SHA-1 certificate signatures); Node's default is 1.
 */
const DEFAULT_SECURITY_LEVEL = 2;

/** Whether this runtime's TLS library applies `@SECLEVEL=n` from a cipher string (probed once). */
let libraryLevels: boolean | undefined;
/** Test seam: behave as on a TLS library without security levels. */
let emulateNoLevels = false;

function libraryAppliesLevels(): boolean {
  if (libraryLevels === undefined) {
    // OpenSSL (Node.js) takes the suffix and refuses a cipher list that names nothing it
    // knows. BoringSSL (Bun) refuses the suffix (the whole string: every connection would
    // fail); Deno takes any string and applies none: neither applies the level.
    const takes = (ciphers: string): boolean => {
      try {
        nodeTls().createSecureContext({ ciphers });
        return true;
      } catch {
        return false;
      }
    };
    libraryLevels =
      takes(`${nodeTls().DEFAULT_CIPHERS}:@SECLEVEL=${DEFAULT_SECURITY_LEVEL}`) &&
      !takes('HTTPLIB-TS-NO-SUCH-CIPHER');
  }
  return libraryLevels && !emulateNoLevels;
}

/**
 * @internal Test seam: `true` makes this runtime behave as one whose TLS library has no
 * security levels (Bun's): the TLS library is set to level 0 (it checks no key size or
 * digest, as BoringSSL) and `PeerCheck.verify()` enforces the level itself.
 */
export function emulateLibraryWithoutSecurityLevels(on: boolean): void {
  emulateNoLevels = on;
}

/**
 * @internal The security level a context asks for, given its cipher string: the
 * `ciphers` for `tls.connect` (with `@SECLEVEL=2` added where the TLS library applies it
 * and the string names no level), and the level `verify()` must enforce itself (0 where
 * the TLS library does).
 *
 * Where OpenSSL applies the level, `verify()` does not check it again: OpenSSL checks the
 * chain it built (trusted certificates first), which `getPeerCertificate(true)` cannot
 * always show (it follows the certificates the server sent first, so a cross-signed CA
 * that OpenSSL did not use can be in it, and refusing its SHA-1 signature would refuse a
 * server that OpenSSL and CPython accept); and reading that chain costs about 0.5 ms per
 * full handshake (a tenth of one on loopback).
 */
export function securityLevel(ciphers: string): { ciphers: string; ownLevel: number } {
  const named = /@SECLEVEL=(\d+)/i.exec(ciphers);
  const level = named === null ? DEFAULT_SECURITY_LEVEL : Number(named[1]);
  if (libraryAppliesLevels()) {
    return {
      ciphers: named === null ? `${ciphers}:@SECLEVEL=${DEFAULT_SECURITY_LEVEL}` : ciphers,
      ownLevel: 0,
    };
  }
  if (emulateNoLevels) {
    const none =
      named === null ? `${ciphers}:@SECLEVEL=0` : ciphers.replace(/@SECLEVEL=\d+/gi, '@SECLEVEL=0');
    return { ciphers: none, ownLevel: level };
  }
  return { ciphers, ownLevel: level };
}

/**
 * The server's certificate chain as the runtime shows it after a full handshake (DER, the
 * server's first, the trust anchor from the store last): Node.js, Bun and Deno all give
 * it through `getPeerCertificate(true)`, each certificate linked to its issuer, the
 * anchor to itself.
 */
function peerChain(socket: tls.TLSSocket): Buffer[] {
  const chain: Buffer[] = [];
  const seen = new Set<object>();
  let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (cert?.raw !== undefined && !seen.has(cert)) {
    seen.add(cert);
    // Deno gives `raw` as a plain Uint8Array.
    const raw = Buffer.from(cert.raw.buffer, cert.raw.byteOffset, cert.raw.byteLength);
    // A self-signed anchor may be shown again as its own issuer, as another object.
    if (chain.at(-1)?.equals(raw)) break;
    chain.push(raw);
    cert = cert.issuerCertificate;
  }
  return chain;
}

/**
 * A kept session, the server certificate it was made with (null: none was seen) and the
 * chain `verify()` checked the security level of (null: it had not to).
 */
interface CachedSession {
  readonly session: Buffer;
  readonly cert: Buffer | null;
  readonly chain: readonly Buffer[] | null;
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
  /**
   * The security level `verify()` enforces on the chain itself (0: none, because the TLS
   * library applies it, or the chain is not verified): {@link securityLevel}'s `ownLevel`.
   */
  readonly ownSecurityLevel: number;
  /** `tls.connect` options from the context (no socket, no session). */
  readonly options: tls.ConnectionOptions;
  /** Names everything the verification of a resumed session depends on. */
  readonly sessionKey: string;
  readonly sessions: SessionCache;
}

type SettingsReader = (
  context: object,
  host: string,
  port: number,
  checkHostname: boolean | null,
) => ClientTlsSettings;
let readSettings: SettingsReader | null = null;

/** @internal ssl.ts says here how a context's (private) settings are read. */
export function readSettingsWith(reader: SettingsReader): void {
  readSettings = reader;
}

/**
 * @internal What `context` (an `ssl.SSLContext`) says about a connection to
 * `host:port` (the TLS host: the tunnel's when tunnelling), read now, when the
 * connection is made: `checkHostname` is the connection's own setting (null: the
 * context's). Throws what Python throws for a context that cannot make this client
 * connection (a server-side context, `check_hostname` with `CERT_NONE`, a host name
 * Python refuses as `server_hostname`).
 */
export function clientSettings(
  context: object,
  host: string,
  port: number,
  checkHostname: boolean | null,
): ClientTlsSettings {
  return (readSettings as SettingsReader)(context, host, port, checkHostname);
}

/** What a context is made of (its data, not its sessions), by field name. */
export type ContextFields = Record<string, unknown>;
type FieldsAccess = {
  get(context: object): ContextFields;
  set(context: object, fields: ContextFields): void;
};
let fieldsAccess: FieldsAccess | null = null;

/** @internal ssl.ts says here how a context's (private) data is read and written. */
export function contextFieldsWith(access: FieldsAccess): void {
  fieldsAccess = access;
}

/**
 * @internal The data of `context` (an `ssl.SSLContext`): its settings, trust store and
 * client certificate, not its sessions. The blocking entry (httplib-ts/sync) rebuilds a
 * caller's context in its worker thread from these, and back.
 */
export function contextFields(context: object): ContextFields {
  return (fieldsAccess as FieldsAccess).get(context);
}

/** @internal Give `context` the data `contextFields` read from another. */
export function setContextFields(context: object, fields: ContextFields): void {
  (fieldsAccess as FieldsAccess).set(context, fields);
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
  /** The chain whose security level `verify()` checked, if it had to. */
  private chain: readonly Buffer[] | null = null;
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
    if (settings.ownSecurityLevel > 0) {
      // Where the TLS library has no security level: OpenSSL's checks of the chain, here,
      // with OpenSSL's codes. A resumed session shows no chain: the one it was made with.
      const chain = reused ? (this.offered?.chain ?? null) : peerChain(socket);
      if (chain === null || chain.length === 0) {
        throw new SSLCertVerificationError(1, 'unspecified certificate verification error');
      }
      // Node reports the last of OpenSSL's failures (it lets verification go on).
      const failure = securityLevelFailures(chain, settings.ownSecurityLevel).at(-1);
      if (failure !== undefined) {
        throw verifyError(failure.name, failure.name) as SSLCertVerificationError;
      }
      this.chain = chain;
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
    this.settings.sessions.set(this.settings.sessionKey, {
      session,
      cert: this.cert ?? null,
      chain: this.chain,
    });
  }
}
