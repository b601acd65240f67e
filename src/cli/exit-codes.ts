/**
 * The `httplib` command's exit codes (curl's numbers where curl has one for the same
 * failure), the error that carries one, and the mapping from what the library throws
 * to a code and one clear line of text.
 *
 * The table is the single source: `--help` prints it, the README repeats it and a test
 * keeps the two in step. Only the public API (api.ts: index.ts's own classes) is used to
 * tell errors apart, by their `code` (and class), never by their message.
 */
import * as httplib from './api.ts';

/** Every exit code the command uses, by name. */
export const EXIT = Object.freeze({
  OK: 0,
  UNSUPPORTED_PROTOCOL: 1,
  USAGE: 2,
  BAD_URL: 3,
  RESOLVE_PROXY: 5,
  RESOLVE_HOST: 6,
  CONNECT: 7,
  WEIRD_REPLY: 8,
  PARTIAL: 18,
  HTTP_ERROR: 22,
  WRITE: 23,
  READ: 26,
  TIMEOUT: 28,
  TLS: 35,
  INTERNAL: 43,
  EMPTY_REPLY: 52,
  RECEIVE: 56,
  CLIENT_CERT: 58,
  PEER_CERT: 60,
  CA_CERT: 77,
  HUNG_UP: 129,
  INTERRUPTED: 130,
  TERMINATED: 143,
} as const);

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** `[code, meaning]` rows, in order: what `--help` and the README show. */
export const EXIT_TABLE: ReadonlyArray<readonly [ExitCode, string]> = Object.freeze([
  [EXIT.OK, 'success'],
  [EXIT.UNSUPPORTED_PROTOCOL, 'unsupported URL scheme (only http:// and https://)'],
  [EXIT.USAGE, 'usage error: unknown option, missing or bad argument'],
  [EXIT.BAD_URL, 'malformed URL'],
  [EXIT.RESOLVE_PROXY, 'could not resolve the proxy host'],
  [EXIT.RESOLVE_HOST, 'could not resolve the host'],
  [EXIT.CONNECT, 'could not connect (refused, unreachable) to the host or the proxy'],
  [
    EXIT.WEIRD_REPLY,
    'the server sent something that is not a valid HTTP response (HTTP/0.9 without --http0.9)',
  ],
  [EXIT.PARTIAL, 'the connection ended before the whole body arrived'],
  [EXIT.HTTP_ERROR, 'with -f/--fail: the server answered with a status of 400 or more'],
  [EXIT.WRITE, 'could not write the output (stdout or the -o file)'],
  [EXIT.READ, 'could not read the request body (-d @FILE, stdin)'],
  [EXIT.TIMEOUT, 'timed out (--timeout)'],
  [
    EXIT.TLS,
    'TLS handshake failed (other than certificate verification), a reset during it included',
  ],
  [
    EXIT.INTERNAL,
    "internal error (a bug), or the demo did not print what Python's documentation shows",
  ],
  [EXIT.EMPTY_REPLY, 'the server closed the connection without answering'],
  [
    EXIT.RECEIVE,
    'the connection failed while sending or receiving, or the proxy refused CONNECT (or reset or closed the connection instead of answering it)',
  ],
  [EXIT.CLIENT_CERT, 'could not load the client certificate or key (--cert, --key)'],
  [EXIT.PEER_CERT, "the server's certificate or host name did not verify"],
  [EXIT.CA_CERT, 'could not read the CA certificates (--cacert)'],
  [
    EXIT.HUNG_UP,
    'hung up (SIGHUP: its terminal closed): ends by that signal (a shell shows 129), as on SIGINT below',
  ],
  [
    EXIT.INTERRUPTED,
    'interrupted (SIGINT): ends by that signal, as curl does (a shell shows 130); no temporary file is left behind, nor a new -o file (one written in place stays partial)',
  ],
  [EXIT.TERMINATED, 'terminated (SIGTERM): likewise (a shell shows 143)'],
]);

/** A failure with its exit code and the one line to print (without the `httplib: `). */
export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode: ExitCode;
  constructor(exitCode: ExitCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

/**
 * What the command was doing when an error came: it decides between close codes.
 * `connect` is the TCP connect (to the proxy, with `-x`); once it is up, `tunnel` is the
 * wait for the proxy's answer to CONNECT and `handshake` the TLS handshake.
 */
export type Phase = 'connect' | 'tunnel' | 'handshake' | 'send' | 'receive';

/** Where the command was talking to, for the messages. */
export interface Peer {
  /** The URL's host and port, as `host:port` would name them. */
  readonly host: string;
  readonly port: number;
  /** The proxy, when `-x` was given. */
  readonly proxy: { readonly host: string; readonly port: number } | null;
  /** An `https://` URL (through a proxy: a tunnel; else the proxy answers for the server). */
  readonly https: boolean;
  /** `--timeout`, seconds, or null. */
  readonly timeout: number | null;
}

const RESOLVE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'EAI_NODATA']);

const PHASE_TEXT: Readonly<Record<Phase, string>> = {
  connect: 'connecting',
  tunnel: "waiting for the proxy's answer to CONNECT",
  handshake: 'doing the TLS handshake',
  send: 'sending the request',
  receive: 'receiving the response',
};

/** Node's system error code (`ECONNREFUSED`, `EAI_AGAIN`, …), if `err` has one. */
function systemCode(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || code.startsWith('ERR_')) return null;
  return /^E[A-Z0-9_]+$/.test(code) ? code : null;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * `text` with each character a terminal would act on or hide (C0 controls, DEL, C1
 * controls, the Unicode line separators) as its JSON escape (`\n`, `\u001b`, `\u009b`).
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => {
    const json = JSON.stringify(c).slice(1, -1);
    // JSON leaves DEL, the C1 controls and the line separators as they are.
    return json.length > 1 ? json : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/**
 * A message (an error's, a server's reason phrase) on one line, whatever was put in it:
 * line breaks and the blanks around them become one space (Node's and OpenSSL's messages
 * run over several lines), and any other control character shows as its escape.
 */
export function oneLine(text: string): string {
  return escapeControls(text.replace(/\s*[\r\n]+\s*/g, ' ').trim());
}

/**
 * What the user gave (an argument, a URL, a path), as every message shows it: in single
 * quotes, with JSON's escapes for the control characters (`\r`, `\n`, `\t`, `\u001b`,
 * DEL, C1, the line separators) and for `\` and `'`, so that the message stays one line
 * and the very characters given can be seen.
 */
export function quoted(text: string): string {
  return `'${escapeControls(text.replace(/[\\']/g, (c) => `\\${c}`))}'`;
}

/**
 * Why a file could not be used, for a message that names the file itself (quoted): the
 * error's message on one line, without the paths Node ends a system error's with
 * (`ENOENT: no such file or directory, open '/d/.x.4242-1a2b3c4d.part'`): a temporary
 * file's name was never the user's, and a path given with a line break in it would show
 * there unescaped, joined to the next line.
 */
export function fileError(err: unknown): string {
  if (!(err instanceof Error)) return oneLine(String(err));
  const { syscall, path } = err as NodeJS.ErrnoException;
  const at = typeof path === 'string' ? err.message.indexOf(`, ${syscall} '`) : -1;
  return oneLine(at === -1 ? err.message : err.message.slice(0, at + `, ${syscall}`.length));
}

/** Plain words for the system errors a connection meets most. */
const SYSTEM_TEXT: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'broken pipe (the peer closed the connection)',
  EADDRNOTAVAIL: 'address not available',
};

/**
 * Who answers for the URL in messages: its host and port, or, for `http://` through a
 * proxy (which is asked for the absolute URL and answers itself), the proxy for them.
 */
export function peerName(peer: Peer): string {
  const target = `${peer.host} port ${peer.port}`;
  const proxy = peer.proxy;
  if (proxy === null || peer.https) return target;
  return `the proxy ${proxy.host} port ${proxy.port} (for ${target})`;
}

function describe(err: unknown): string {
  const code = systemCode(err);
  const text = code === null ? undefined : SYSTEM_TEXT[code];
  if (text !== undefined) return `${text} (${code})`;
  if (err instanceof Error) return oneLine(err.message || err.name);
  return oneLine(String(err));
}

/**
 * The package's own code of `err` (`ERR_HTTPLIB_…`, `ETIMEDOUT` of its `TimeoutError`,
 * `ABORT_ERR` of its `AbortError`), or null for anything else (a Node system error, a bug).
 */
function packageCode(err: unknown): string | null {
  if (
    err instanceof httplib.HTTPException ||
    err instanceof httplib.TunnelError ||
    err instanceof httplib.SSLError ||
    err instanceof httplib.TimeoutError ||
    err instanceof httplib.AbortError
  ) {
    return err.code;
  }
  return null;
}

/**
 * Turn whatever a transfer threw into a `CliError`: its exit code and one line saying
 * what failed, where, and why. Errors are told apart by their `code` (the package's, or
 * Node's system code), never by their message.
 */
export function classify(err: unknown, phase: Phase, peer: Peer): CliError {
  if (err instanceof CliError) return err;
  const why = describe(err);
  const target = peerName(peer);
  const options = { cause: err };

  switch (packageCode(err)) {
    case 'ETIMEDOUT': {
      const limit = peer.timeout === null ? '' : ` after ${peer.timeout} s`;
      return new CliError(EXIT.TIMEOUT, `timed out${limit} while ${PHASE_TEXT[phase]}`, options);
    }
    case 'ERR_HTTPLIB_SSL_CERT_VERIFICATION': {
      const text = oneLine((err as httplib.SSLCertVerificationError).verify_message);
      return new CliError(
        EXIT.PEER_CERT,
        `the certificate of ${peer.host} did not verify: ${text}`,
        options,
      );
    }
    case 'ERR_HTTPLIB_SSL':
      return new CliError(
        phase === 'connect' || phase === 'tunnel' || phase === 'handshake'
          ? EXIT.TLS
          : EXIT.RECEIVE,
        `TLS with ${peer.host} failed: ${why}`,
        options,
      );
    case 'ERR_HTTPLIB_REMOTE_DISCONNECTED':
      // While connecting through a proxy: the proxy hung up on CONNECT (the server was
      // never reached), which curl reports as a failed receive (56).
      if ((phase === 'connect' || phase === 'tunnel') && peer.proxy !== null) {
        return new CliError(
          EXIT.RECEIVE,
          `the proxy ${peer.proxy.host}:${peer.proxy.port} closed the connection without answering the tunnel request to ${target}: ${why}`,
          options,
        );
      }
      return new CliError(EXIT.EMPTY_REPLY, `empty reply from ${target}: ${why}`, options);
    case 'ERR_HTTPLIB_INCOMPLETE_READ': {
      const { partial, expected } = err as httplib.IncompleteRead;
      const missing = expected === null ? '' : `, ${expected} more bytes expected`;
      return new CliError(
        EXIT.PARTIAL,
        `the transfer from ${target} ended early (${partial.length} bytes in the last read${missing})`,
        options,
      );
    }
    case 'ERR_HTTPLIB_INVALID_URL':
      return new CliError(EXIT.BAD_URL, `malformed URL: ${why}`, options);
    case 'ERR_HTTPLIB_TUNNEL': {
      const proxy =
        peer.proxy === null ? 'the proxy' : `the proxy ${peer.proxy.host}:${peer.proxy.port}`;
      return new CliError(
        EXIT.RECEIVE,
        `${proxy} refused the tunnel to ${target}: ${why}`,
        options,
      );
    }
    case 'ERR_HTTPLIB_BODY_LENGTH_MISMATCH': {
      const { declared, got } = err as httplib.BodyLengthMismatch;
      return new CliError(
        EXIT.READ,
        `the request body changed while it was sent: ${declared} bytes declared, ${got} read`,
        options,
      );
    }
    default:
      break;
  }
  if (err instanceof httplib.HTTPException && phase === 'tunnel' && peer.proxy !== null) {
    // The proxy's answer to CONNECT was no HTTP we read (too many headers, a line too
    // long): the proxy's fault, not the server's, which was never reached (curl: 56).
    return new CliError(
      EXIT.RECEIVE,
      `the proxy ${peer.proxy.host}:${peer.proxy.port} answered the tunnel request to ${target} badly: ${err.name}: ${why}`,
      options,
    );
  }
  if (err instanceof httplib.HTTPException) {
    return new CliError(
      EXIT.WEIRD_REPLY,
      `bad response from ${target}: ${err.name}: ${why}`,
      options,
    );
  }
  const code = systemCode(err);
  if (code !== null && phase === 'connect') {
    const toProxy = peer.proxy !== null;
    const where = toProxy ? `the proxy ${peer.proxy?.host} port ${peer.proxy?.port}` : target;
    // A name getaddrinfo refuses to look up (longer than 255 bytes: EINVAL) is not
    // resolved either (curl: 6), not a failed connect.
    const unresolved =
      code === 'EINVAL' && (err as { syscall?: unknown }).syscall === 'getaddrinfo';
    if (RESOLVE_CODES.has(code) || unresolved) {
      const name = toProxy ? peer.proxy?.host : peer.host;
      return new CliError(
        toProxy ? EXIT.RESOLVE_PROXY : EXIT.RESOLVE_HOST,
        `could not resolve ${toProxy ? 'proxy' : 'host'} ${quoted(name ?? '')} (${code})`,
        options,
      );
    }
    return new CliError(EXIT.CONNECT, `could not connect to ${where}: ${why}`, options);
  }
  // Connected, then reset or closed: not a failed connect (7), as curl tells them apart.
  if (code !== null && phase === 'tunnel') {
    return new CliError(
      EXIT.RECEIVE,
      `the proxy ${peer.proxy?.host} port ${peer.proxy?.port} failed while answering the tunnel request to ${target}: ${why}`,
      options,
    );
  }
  if (code !== null && phase === 'handshake') {
    return new CliError(EXIT.TLS, `TLS with ${peer.host} failed: ${why}`, options);
  }
  if (code !== null) {
    return new CliError(
      EXIT.RECEIVE,
      `connection to ${target} failed while ${PHASE_TEXT[phase]}: ${why}`,
      options,
    );
  }
  return new CliError(
    EXIT.INTERNAL,
    `internal error while ${PHASE_TEXT[phase]}: ${err instanceof Error ? `${err.name}: ` : ''}${why}`,
    options,
  );
}
