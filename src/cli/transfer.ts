/**
 * One `httplib [METHOD] URL` request, done with the package's public API only (api.ts,
 * and tls.ts for https://): an `HTTPConnection` or `HTTPSConnection` (through a CONNECT
 * tunnel, or with an absolute-URI request to an HTTP proxy), `request()`, `getresponse()`, and
 * the body streamed to stdout or the `-o` file as it arrives (body-copy.ts).
 *
 * Every failure is thrown as a `CliError` (exit code and one line); the connection, the
 * body source and the temporary `-o` file are closed or removed on every path.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { fstatSync, type Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import * as httplib from './api.ts';
import type { DataSource, FetchOptions } from './args.ts';
import { copyBody } from './body-copy.ts';
import {
  CliError,
  classify,
  EXIT,
  fileError,
  oneLine,
  type Peer,
  type Phase,
  peerName,
  quoted,
} from './exit-codes.ts';
import { FileSink, type Sink, stdoutSink } from './output.ts';
import { ProgressBar } from './progress.ts';

/** The process streams the command uses (parameters, so that nothing else is touched). */
export interface TransferIO {
  /** Read only for `-d @-` (a getter may make it on demand: process.stdin costs start-up). */
  readonly stdin: Readable;
  readonly stdout: Writable | NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean; readonly columns?: number };
  /** Sent as `User-Agent: httplib-ts/<version>` unless `-H` gives one. */
  readonly version: string;
}

/** The URL's parts that the request needs. */
export interface Target {
  readonly https: boolean;
  /** As `HTTPConnection` takes it: a name, an IPv4 address or a bracketed IPv6 one. */
  readonly host: string;
  readonly port: number;
  /** Path and query (the fragment is never sent). */
  readonly path: string;
  /** `scheme://host[:port]` + path: the request target through an HTTP proxy. */
  readonly absolute: string;
  /** `Basic …` from `user:password@`, or null. */
  readonly authorization: string | null;
}

function basic(url: URL): string | null {
  if (url.username === '' && url.password === '') return null;
  const credentials = Buffer.concat([
    percentDecoded(url.username),
    Buffer.from(':'),
    percentDecoded(url.password),
  ]);
  return `Basic ${credentials.toString('base64')}`;
}

/**
 * A URL's user name or password as curl sends it: each `%XX` the byte it names (`%ff`
 * too, which is no UTF-8), and a `%` not followed by two hex digits as it is.
 */
function percentDecoded(text: string): Buffer {
  const raw = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const hex = raw[i] === 0x25 ? raw.toString('latin1', i + 1, i + 3) : '';
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      out[n++] = Number.parseInt(hex, 16);
      i += 2;
    } else {
      out[n++] = raw[i] as number;
    }
  }
  return out.subarray(0, n);
}

/**
 * A URL (or a proxy's) holding a space or an ASCII control character is refused as it
 * was typed (exit 3), as curl refuses it: the URL parser would strip CR, LF and TAB and
 * leading and trailing spaces, and percent-encode the others, so that another request
 * than the one typed is sent (`/a\r\nX-Injected: 1` went as `/aX-Injected:%201`).
 */
function refuseBlanks(text: string, what: 'URL' | 'proxy'): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the point
  const blank = /[\u0000-\u0020\u007f]/.exec(text);
  if (blank === null) return;
  const c = blank[0];
  const code = `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
  throw new CliError(
    EXIT.BAD_URL,
    `malformed ${what} ${quoted(text)}: ${c === ' ' ? 'a space' : `a control character (${quoted(c)})`} at character ${blank.index + 1} (percent-encode it: ${code})`,
  );
}

/**
 * RFC 3986's remove_dot_segments (5.2.4) on a path as typed: `.` and `..` segments are
 * resolved, as curl resolves them unless `--path-as-is`; encoded ones (`%2e%2e`) are
 * not dot segments, and stay, as in curl.
 */
export function removeDotSegments(path: string): string {
  let input = path;
  let output = '';
  while (input !== '') {
    if (input.startsWith('../')) input = input.slice(3);
    else if (input.startsWith('./')) input = input.slice(2);
    else if (input.startsWith('/./')) input = input.slice(2);
    else if (input === '/.') input = '/';
    else if (input.startsWith('/../') || input === '/..') {
      input = `/${input.slice(input === '/..' ? 3 : 4)}`;
      output = output.slice(0, Math.max(0, output.lastIndexOf('/')));
    } else if (input === '.' || input === '..') input = '';
    else {
      const end = input.indexOf('/', input.startsWith('/') ? 1 : 0);
      const segment = end === -1 ? input : input.slice(0, end);
      output += segment;
      input = input.slice(segment.length);
    }
  }
  return output;
}

/**
 * The path and query to send, from what was typed after the host: up to the fragment,
 * `/` when empty, dot segments resolved unless `asIs`; every other character as typed
 * (`\`, `"`, `%2e`), as curl sends it, but for non-ASCII characters, percent-encoded in
 * UTF-8 (curl's lower-case hex; curl sends them raw in the query, which the package
 * refuses, as Python does: bytes above 0x7f in a request line).
 */
function requestTarget(typed: string, asIs: boolean): string {
  const withoutFragment = typed.split('#', 1)[0] as string;
  const q = withoutFragment.indexOf('?');
  let path = q === -1 ? withoutFragment : withoutFragment.slice(0, q);
  const query = q === -1 ? '' : withoutFragment.slice(q);
  if (!path.startsWith('/')) path = `/${path}`;
  if (!asIs) path = removeDotSegments(path);
  return `${path}${query}`.replace(/[\u0080-\u{10ffff}]+/gu, (text) =>
    Array.from(Buffer.from(text, 'utf8'), (b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
  );
}

/**
 * Parse a URL as curl takes it (no scheme: `http://`). Throws `CliError` 1 or 3.
 * `asIs`: `--path-as-is`, dot segments kept.
 *
 * The URL parser is given the scheme and the authority only: it would rewrite the path
 * and the query (a `\` made `/`, `%2e%2e` resolved, `"` and `<>` percent-encoded), and a
 * tool for testing servers sends what was typed, as curl does.
 */
export function parseTarget(text: string, asIs = false): Target {
  refuseBlanks(text, 'URL');
  const withScheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text) ? text : `http://${text}`;
  // The authority ends at the first '/', '?' or '#' (RFC 3986 3.2); the URL parser also
  // ends it at a '\', which curl (and RFC 3986) do not: `host\path` is no host.
  const [, origin, authority, rest] = /^([^:]*:\/\/)([^/?#]*)(.*)$/s.exec(withScheme) ?? [];
  let url: URL;
  try {
    if (authority === undefined || authority.includes('\\')) throw new Error('bad authority');
    url = new URL(`${origin}${authority}/`);
  } catch {
    throw new CliError(EXIT.BAD_URL, `malformed URL ${quoted(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(
      EXIT.UNSUPPORTED_PROTOCOL,
      `unsupported URL scheme '${url.protocol.slice(0, -1)}' in ${quoted(text)} (http:// or https:// only)`,
    );
  }
  if (url.hostname === '') throw new CliError(EXIT.BAD_URL, `no host in URL ${quoted(text)}`);
  const https = url.protocol === 'https:';
  const port =
    url.port === '' ? (https ? httplib.HTTPS_PORT : httplib.HTTP_PORT) : Number(url.port);
  const path = requestTarget(rest as string, asIs);
  return {
    https,
    host: url.hostname,
    port,
    path,
    absolute: `${url.protocol}//${url.host}${path}`,
    authorization: basic(url),
  };
}

/** Curl's default proxy port. */
const PROXY_PORT = 1080;

/** `-x [http://][user:pass@]host[:port]`. */
export function parseProxy(text: string): { host: string; port: number; auth: string | null } {
  refuseBlanks(text, 'proxy');
  const withScheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError(EXIT.BAD_URL, `malformed proxy ${quoted(text)} (HOST:PORT)`);
  }
  if (url.protocol !== 'http:') {
    throw new CliError(
      EXIT.UNSUPPORTED_PROTOCOL,
      `unsupported proxy scheme '${url.protocol.slice(0, -1)}' (only http:// proxies)`,
    );
  }
  if (url.hostname === '') throw new CliError(EXIT.BAD_URL, `no host in proxy ${quoted(text)}`);
  return {
    host: url.hostname,
    port: url.port === '' ? PROXY_PORT : Number(url.port),
    auth: basic(url),
  };
}

/**
 * Regular files up to this size are read whole before the request (as curl reads `-d @FILE`):
 * their bytes are then what is sent, whatever the size the system gives (0 for /proc
 * files, 4096 for /sys ones), and a failure to read them is exit 26, before a byte goes
 * out. Larger regular files are sent from the file (Content-Length from its size).
 */
const READ_WHOLE_MAX = 1024 * 1024;

/** The request body, how to let go of it, and whether an error was its source's. */
interface Body {
  readonly body: string | Buffer | FileHandle | Readable | null;
  close(): Promise<void>;
  /** Whether `err` came from reading the body (stdin's stream failed with it). */
  failed(err: unknown): boolean;
}

const never = (): boolean => false;

async function openBody(data: DataSource | null, io: TransferIO): Promise<Body> {
  const none = async (): Promise<void> => {};
  if (data === null) return { body: null, close: none, failed: never };
  switch (data.kind) {
    case 'text':
      return { body: data.text, close: none, failed: never };
    case 'stdin': {
      // Node reads a directory on stdin as an empty stream: refuse it, as curl does (26).
      const stdin = io.stdin;
      const fd = (stdin as { fd?: unknown }).fd;
      if (typeof fd === 'number' && fstatOrNull(fd)?.isDirectory() === true) {
        throw new CliError(EXIT.READ, 'could not read the body from stdin: it is a directory');
      }
      // What stdin fails with (EBADF: opened for writing only) is a body that could not
      // be read (26), not a connection that failed (56): emitted by the stream as it
      // reads, or, where the package can tell beforehand (Linux), the rejection of
      // request() itself, before the head goes out.
      const failures = new WeakSet<object>();
      const onError = (err: unknown): void => {
        if (typeof err === 'object' && err !== null) failures.add(err);
      };
      stdin.on('error', onError);
      return {
        body: stdin,
        close: async () => {
          stdin.off('error', onError);
        },
        failed: (err) =>
          typeof err === 'object' &&
          err !== null &&
          (failures.has(err) || (err as { code?: unknown }).code === 'EBADF'),
      };
    }
    case 'file': {
      const cannotRead = (err: unknown): CliError =>
        new CliError(
          EXIT.READ,
          `could not read the body from ${quoted(data.path)}: ${fileError(err)}`,
          { cause: err },
        );
      let handle: FileHandle;
      let whole: Buffer | null = null;
      try {
        handle = await open(data.path, 'r');
      } catch (err) {
        throw cannotRead(err);
      }
      try {
        const stat = await handle.stat();
        if (stat.isDirectory()) {
          throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
        }
        // (Not a FIFO or a device: those are streamed as they give, as before.)
        if (stat.isFile() && stat.size <= READ_WHOLE_MAX) whole = await handle.readFile();
      } catch (err) {
        await handle.close().catch(() => {});
        throw cannotRead(err);
      }
      if (whole !== null) {
        await handle.close().catch(() => {});
        return { body: whole, close: none, failed: never };
      }
      return { body: handle, close: () => handle.close().catch(() => {}), failed: never };
    }
  }
}

function hasHeader(headers: ReadonlyArray<readonly [string, string]>, name: string): boolean {
  return headers.some(([n]) => n.toLowerCase() === name);
}

/** The status line and headers as received, for -i/-I. */
function headBytes(res: httplib.HTTPResponse): Buffer {
  if (res.version === 9) return Buffer.alloc(0); // HTTP/0.9 has neither
  const version = res.version === 10 ? 'HTTP/1.0' : 'HTTP/1.1';
  const text = `${version} ${res.status} ${res.reason}\r\n${res.msg.headers.join('')}\r\n`;
  return Buffer.from(text, 'latin1');
}

/**
 * What an HTTP/0.9 reply starts with, for a message: `the reply starts "…"` (its first
 * line, at most 40 characters). The reply to HEAD has no body to show it from (Python
 * gives such a reply no length): that is said instead of an empty quote.
 */
async function replyStart(res: httplib.HTTPResponse): Promise<string> {
  const start = (await res.peek(40)).subarray(0, 40).toString('latin1');
  if (start === '') return 'the reply (to HEAD: no bytes of it can be shown) has no status line';
  const line = start.split(/\r?\n/)[0] ?? '';
  const shown = line.length === start.length && line.length === 40 ? `${line}…` : line;
  return `no status line, the reply starts ${JSON.stringify(shown)}`;
}

/** Do the request; resolves to the exit code (0), throws `CliError`. */
export async function transfer(options: FetchOptions, io: TransferIO): Promise<number> {
  const target = parseTarget(options.url, options.pathAsIs);
  const proxy = options.proxy === null ? null : parseProxy(options.proxy);
  const peer: Peer = {
    host: target.host,
    port: target.port,
    proxy,
    https: target.https,
    timeout: options.timeout,
  };
  // The TLS half is loaded (and compiled) only when the URL needs it.
  const tls = target.https ? await import('./tls.ts') : null;
  const context = tls === null ? null : tls.tlsContext(options);

  // Headers: the given ones in order, then what the command adds unless given.
  // Not those `-H 'Name:'` left out.
  const headers: Array<[string, string]> = options.headers.map(([n, v]) => [n, v]);
  const wanted = (name: string): boolean => !hasHeader(headers, name) && !options.removed.has(name);
  if (wanted('user-agent')) headers.push(['User-Agent', `httplib-ts/${io.version}`]);
  if (target.authorization !== null && wanted('authorization')) {
    headers.push(['Authorization', target.authorization]);
  }
  if (options.data !== null && wanted('content-type')) {
    headers.push(['Content-Type', 'application/x-www-form-urlencoded']);
  }

  const timeout = { timeout: options.timeout };
  let conn: httplib.HTTPConnection;
  let url = target.path;
  try {
    if (proxy === null) {
      conn =
        tls !== null
          ? new tls.HTTPSConnection(target.host, target.port, { ...timeout, context })
          : new httplib.HTTPConnection(target.host, target.port, timeout);
    } else if (tls !== null) {
      conn = new tls.HTTPSConnection(proxy.host, proxy.port, { ...timeout, context });
      conn.set_tunnel(
        target.host,
        target.port,
        proxy.auth === null ? null : { 'Proxy-Authorization': proxy.auth },
      );
    } else {
      conn = new httplib.HTTPConnection(proxy.host, proxy.port, timeout);
      url = target.absolute;
      if (proxy.auth !== null && wanted('proxy-authorization')) {
        headers.push(['Proxy-Authorization', proxy.auth]);
      }
    }
  } catch (err) {
    throw classify(err, 'connect', peer);
  }
  if (options.verbose) {
    conn.debugOutput = io.stderr;
    conn.set_debuglevel(1);
  }

  const body = await openBody(options.data, io);
  let sink: Sink | null = null;
  let progress: ProgressBar | null = null;
  let phase: Phase = 'connect';
  // How far the connect got (the package's messages): TCP connected (`httplib:connect`),
  // then, through a proxy, its CONNECT accepted (`httplib:tunnel`). A failure after TCP
  // is the proxy's answer to CONNECT until the tunnel is up, then the TLS handshake (the
  // proxy may fail half-way through its answer: that is still the proxy's).
  let reached: 'none' | 'tcp' | 'tunnel' = 'none';
  const connected = (message: unknown): void => {
    if ((message as { connection?: unknown }).connection === conn) reached = 'tcp';
  };
  const tunnelled = (message: unknown): void => {
    if ((message as { connection?: unknown }).connection === conn) reached = 'tunnel';
  };
  diagnostics_channel.subscribe('httplib:connect', connected);
  diagnostics_channel.subscribe('httplib:tunnel', tunnelled);
  try {
    try {
      await conn.connect();
    } catch (err) {
      const at = reached as 'none' | 'tcp' | 'tunnel';
      if (at !== 'none' && (tls !== null || proxy !== null)) {
        phase = proxy !== null && at === 'tcp' ? 'tunnel' : 'handshake';
      }
      throw err;
    } finally {
      diagnostics_channel.unsubscribe('httplib:connect', connected);
      diagnostics_channel.unsubscribe('httplib:tunnel', tunnelled);
    }
    phase = 'send';
    // -H 'Transfer-Encoding: chunked' with a body: the body is framed in chunks, as curl
    // frames it (Python sends it as it is: the caller frames it).
    const chunked = headers.some(
      ([n, v]) => n.toLowerCase() === 'transfer-encoding' && /(^|,)\s*chunked\s*$/i.test(v),
    );
    await conn.request(options.method, url, body.body, headers, { encode_chunked: chunked });
    phase = 'receive';
    const res = await conn.getresponse();
    if (res.version === 9 && !options.http09) {
      // No status line: Python 2.7 (and this library, unless `strict`) reads the reply as
      // an HTTP/0.9 body; a curl-like tool refuses it unless asked (an SSH banner or a
      // TLS alert must not come out as a successful download).
      throw new CliError(
        EXIT.WEIRD_REPLY,
        `${peerName(peer)} did not answer in HTTP: ${await replyStart(res)} (--http0.9 accepts it as an HTTP/0.9 body)`,
      );
    }
    if (options.fail && res.status >= 400) {
      throw new CliError(
        EXIT.HTTP_ERROR,
        `the server answered ${res.status} ${oneLine(res.reason)} (-f/--fail)`,
      );
    }
    sink = options.output === null ? stdoutSink(io.stdout) : await FileSink.create(options.output);
    if (options.include) await sink.write(headBytes(res));
    if (!options.headOnly) {
      if (options.output !== null && io.stderr.isTTY === true) {
        progress = new ProgressBar(io.stderr, res.length);
      }
      await copyBody(res, sink, progress, peer);
    }
    await sink.commit();
    progress?.finish();
    return EXIT.OK;
  } catch (err) {
    progress?.abort();
    await sink?.abort();
    if (body.failed(err)) {
      throw new CliError(
        EXIT.READ,
        `could not read the body from stdin: ${oneLine((err as Error).message)}`,
        { cause: err },
      );
    }
    if (
      err instanceof httplib.BodyLengthMismatch &&
      headers.some(([n]) => n.toLowerCase() === 'content-length')
    ) {
      // The command's own arguments disagree (curl sends both as given): not a body that
      // could not be read (26).
      throw new CliError(
        EXIT.USAGE,
        `the request body is longer than the Content-Length given with -H (${err.declared} bytes): ${err.got} bytes or more`,
        { cause: err },
      );
    }
    throw classify(err, phase, peer);
  } finally {
    conn.close();
    await body.close();
  }
}

function fstatOrNull(fd: number): Stats | null {
  try {
    return fstatSync(fd);
  } catch {
    return null;
  }
}
