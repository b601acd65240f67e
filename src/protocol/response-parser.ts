/**
 * The response head parser: status line, interim (1xx) responses, header lines, and
 * the framing decision for the body (`length`, `chunked`, `will_close`).
 *
 * Push-based and incremental: `execute(buf, start, end)` consumes bytes and returns
 * how many it took, stopping exactly after the blank line that ends the head, so the
 * body (or the next response) stays with the caller. Bytes may arrive split anywhere.
 * Only a line that straddles two calls is copied (bounded by MAXLINE).
 *
 * Behaviour is CPython 2.7.18's `HTTPResponse.begin()` and `HTTPMessage.readheaders()`,
 * except for the rules that shared/API.md lists as deliberately stricter (each marked
 * STRICTER below). This file must not do I/O or keep references to the caller's
 * buffers after a call returns.
 */
import {
  BadStatusLine,
  HTTP_EXCEPTION_CODES,
  HTTPException,
  LineTooLong,
  RemoteDisconnected,
  UnknownProtocol,
} from './errors.ts';
import { appendFieldValue, fieldValue, isContinuationLine, unfold, unfoldLast } from './headers.ts';
import { MAX_SAFE_LENGTH, MAXHEADERS, MAXINTERIM, MAXLINE } from './limits.ts';
import { isPyWhitespace, pyrepr, pystrip } from './pytext.ts';

/** The options of the `HTTPException`s of a malformed header line or Content-Length. */
const BAD_HEADER_LINE = { code: HTTP_EXCEPTION_CODES.BAD_HEADER_LINE } as const;
const BAD_CONTENT_LENGTH = { code: HTTP_EXCEPTION_CODES.BAD_CONTENT_LENGTH } as const;

/** The headers whose values decide framing. */
type Tracked = 'cl' | 'te' | 'conn' | 'ka' | 'pconn';

/** How the body of a response is delimited. */
export type BodyFraming = 'none' | 'length' | 'chunked' | 'eof';

/** Everything `begin()` learns from a response head. */
export interface ResponseHead {
  /** 9, 10 or 11, as Python's `HTTPResponse.version`. */
  readonly version: 9 | 10 | 11;
  readonly status: number;
  /** The reason phrase, stripped of surrounding whitespace. */
  readonly reason: string;
  /** Raw header lines (latin1, each with its own terminator) for `HTTPMessage`. */
  readonly lines: string[];
  /** Python's `chunked`: the Transfer-Encoding is exactly `chunked`. */
  readonly chunked: boolean;
  /** Python's `length`: body bytes when known (0 for no body), else null. */
  readonly length: number | null;
  /** Python's `will_close`: the connection cannot carry another request. */
  readonly will_close: boolean;
  /** How the body decoder must read the body (derived from the fields above). */
  readonly framing: BodyFraming;
  /**
   * HTTP/0.9 simple response only: the first line, which is body, not a status line
   * (Python's `LineAndFileWrapper`). Null otherwise.
   */
  readonly bodyPrefix: Buffer | null;
}

export interface ResponseParserOptions {
  /** The request method; `'HEAD'` (exactly, as in Python) means no body. */
  readonly method?: string | null;
  /** Python's `strict`: a status line not starting with `HTTP/` is an error, not HTTP/0.9. */
  readonly strict?: boolean;
  /** Receives Python 2.7's `set_debuglevel` output (`reply:`/`header:` lines), newline included. */
  readonly debug?: ((text: string) => void) | null;
  /**
   * A proxy's answer to CONNECT: any `HTTP/x.y` version is taken (Python's `_tunnel()`
   * reads the status line without `begin()`'s version check; only its status counts).
   */
  readonly anyVersion?: boolean;
}

type Phase = 'status' | 'interim-headers' | 'headers' | 'done';

const LF = 0x0a;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
/** Reads up to this size are decoded whole to find the end of the head (a string search). */
const SMALL_TEXT = 2048;

/**
 * Python's `str.split(None, maxsplit)` for the status line: runs of whitespace
 * (SP, HT, LF, VT, FF, CR) separate fields, leading whitespace is skipped, and the
 * last field keeps the rest of the line.
 */
function splitStatusLine(line: string): string[] {
  const parts: string[] = [];
  const n = line.length;
  let i = 0;
  while (parts.length < 2) {
    while (i < n && isPyWhitespace(line.charCodeAt(i))) i++;
    if (i >= n) return parts;
    const start = i;
    while (i < n && !isPyWhitespace(line.charCodeAt(i))) i++;
    parts.push(line.slice(start, i));
  }
  while (i < n && isPyWhitespace(line.charCodeAt(i))) i++;
  if (i < n) parts.push(line.slice(i));
  return parts;
}

/** The length of the line without its `\r\n` or `\n` terminator. */
function contentLength(line: string): number {
  const n = line.length;
  if (n > 0 && line.charCodeAt(n - 1) === LF) {
    return n > 1 && line.charCodeAt(n - 2) === 0x0d ? n - 2 : n - 1;
  }
  return n;
}

/** The line without its `\r\n` or `\n` terminator (a line cut by EOF has none). */
function lineContent(line: string): string {
  const n = line.length;
  if (n > 0 && line.charCodeAt(n - 1) === LF) {
    return n > 1 && line.charCodeAt(n - 2) === 0x0d ? line.slice(0, n - 2) : line.slice(0, n - 1);
  }
  return line;
}

/**
 * Whether a line cut by EOF is (the start of) a status line: after Python's leading
 * whitespace, it starts with `HTTP/` or is a non-empty prefix of it.
 */
function looksLikeStatusLine(line: string): boolean {
  let i = 0;
  while (i < line.length && isPyWhitespace(line.charCodeAt(i))) i++;
  const text = line.slice(i, i + 5);
  return text.length > 0 && 'HTTP/'.startsWith(text);
}

function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * Whether `line` starts with the header name `lower` (lower-case ASCII) in any ASCII
 * case; the caller has checked that the colon follows it.
 */
function nameIs(line: string, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    const c = line.charCodeAt(i);
    const folded = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
    if (folded !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Incremental parser for one response head. Create one per `getresponse()`.
 */
export class ResponseParser {
  /** Set once the head is complete. */
  head: ResponseHead | null = null;

  private phase: Phase = 'status';
  private readonly method: string | null;
  private readonly strict: boolean;
  private readonly debug: ((text: string) => void) | null;
  private readonly anyVersion: boolean;
  /** Pieces of a line that straddles `execute` calls (copied; at most MAXLINE bytes). */
  private pending: Buffer[] | null = null;
  private pendingLength = 0;
  /** Whether any byte of a response has been seen (EOF before that is RemoteDisconnected). */
  private sawBytes = false;
  private interimCount = 0;
  private lineCount = 0;
  private lines: string[] = [];
  /** Whether the last header line was a field whose continuation lines belong to it. */
  private lastField: 'kept' | 'ignored' | null = null;

  private version = '';
  private status = 0;
  private reason = '';

  // The values of the fields that decide framing, read, unfolded and joined by headers.ts
  // exactly as `HTTPMessage` reads them (`getheader`'s value), except Content-Length,
  // whose fields are kept apart (STRICTER: they must agree).
  private contentLengths: string[] | null = null;
  private transferEncoding: string | null = null;
  private connection: string | null = null;
  private keepAlive: string | null = null;
  private proxyConnection: string | null = null;
  /** Which tracked header the last field was, so a continuation line can extend it. */
  private lastTracked: Tracked | null = null;
  /** Where the last field's value starts in its joined value (for a continuation). */
  private lastStart = 0;

  constructor(options: ResponseParserOptions = {}) {
    this.method = options.method ?? null;
    this.strict = options.strict ?? false;
    this.debug = options.debug ?? null;
    this.anyVersion = options.anyVersion ?? false;
  }

  /** True once the whole head has been parsed (`head` is set). */
  get done(): boolean {
    return this.phase === 'done';
  }

  /**
   * Parse bytes of the head. Returns the number of bytes consumed from `buf[start:end]`:
   * all of them while the head is incomplete, or exactly up to the end of the head.
   * Throws an `HTTPException` subclass when the head is invalid.
   */
  execute(buf: Buffer, start = 0, end = buf.length): number {
    let pos = start;
    if (end > start) this.sawBytes = true;
    while (this.phase !== 'done' && pos < end) {
      if (this.pending === null) {
        // Fast path: when the rest of a CRLF head is here, decode it as one string and
        // split that (one native call per head instead of one per line). A short read
        // (a small response) is decoded whole and searched as a string: one native call.
        if (end - pos <= SMALL_TEXT) {
          const text = buf.toString('latin1', pos, end);
          const stop = text.indexOf('\r\n\r\n');
          if (stop !== -1) {
            pos = this.executeText(stop + 4 === text.length ? text : text.slice(0, stop + 4), pos);
            continue;
          }
        } else {
          const stop = buf.indexOf(HEAD_END, pos);
          if (stop !== -1 && stop + 4 <= end && stop + 4 - pos <= MAXLINE) {
            pos = this.executeText(buf.toString('latin1', pos, stop + 4), pos);
            continue;
          }
        }
      }
      let nl = buf.indexOf(LF, pos);
      if (nl >= end) nl = -1;
      if (nl === -1) {
        this.stash(buf, pos, end);
        return end;
      }
      const lineEnd = nl + 1;
      let line: string;
      if (this.pending === null) {
        if (lineEnd - pos > MAXLINE) throw this.tooLong();
        line = buf.toString('latin1', pos, lineEnd);
      } else {
        if (this.pendingLength + (lineEnd - pos) > MAXLINE) throw this.tooLong();
        line = this.takePending() + buf.toString('latin1', pos, lineEnd);
      }
      pos = lineEnd;
      this.onLine(line);
    }
    return pos;
  }

  /**
   * Feed the complete lines of `text` (which ends with CRLF CRLF and started at byte
   * `pos`) until the head is done or the text is used up; returns the new byte position.
   */
  private executeText(text: string, pos: number): number {
    let i = 0;
    const n = text.length;
    while (i < n && this.phase !== 'done') {
      const nl = text.indexOf('\n', i);
      const line = text.slice(i, nl + 1);
      i = nl + 1;
      this.onLine(line);
    }
    return pos + i;
  }

  /**
   * The server closed the connection. Completes the head if the bytes so far allow it
   * (an HTTP/0.9 response whose first line had no terminator), else throws:
   * `RemoteDisconnected` when nothing or only part of a head arrived (STRICTER: Python
   * 2.7 turns a cut head into a response with the headers seen so far).
   */
  finish(): void {
    if (this.phase === 'done') return;
    if (this.pending !== null) {
      const line = this.takePending();
      // STRICTER: only a first line that is not HTTP can be complete without its line
      // end (an HTTP/0.9 body). A cut header line, or a cut line that is or starts like
      // a status line (`HTT`, `HTTP/1.1 2`), is a head cut short: never an HTTP/0.9 200
      // made of the partial status line, nor a misleading "no colon" or "bare CR".
      if (this.phase !== 'status' || looksLikeStatusLine(line)) {
        if (this.debug !== null && this.phase === 'status') this.debug(`reply: ${pyrepr(line)}\n`);
        throw new RemoteDisconnected(
          'Remote end closed connection before the end of the response head',
        );
      }
      this.onLine(line);
      if (this.done) return;
    }
    // Nothing, or only complete interim responses (Python 3: a lone `100 Continue`
    // followed by EOF is RemoteDisconnected too). Python 2.7 still prints the empty
    // status line it read.
    if (!this.sawBytes || this.phase === 'status') {
      if (this.debug !== null && this.phase === 'status') this.debug("reply: ''\n");
      throw new RemoteDisconnected();
    }
    throw new RemoteDisconnected(
      'Remote end closed connection before the end of the response head',
    );
  }

  private tooLong(): LineTooLong {
    // Python 2.7 says "header line" for the status line too.
    return new LineTooLong('header line');
  }

  private stash(buf: Buffer, pos: number, end: number): void {
    this.pendingLength += end - pos;
    if (this.pendingLength > MAXLINE) throw this.tooLong();
    // Copy: the caller may reuse its buffer after this call. Pieces are joined once, when
    // the line ends, so a line sent one byte at a time costs linear time.
    const piece = Buffer.from(buf.subarray(pos, end));
    if (this.pending === null) this.pending = [piece];
    else this.pending.push(piece);
  }

  private takePending(): string {
    const pieces = this.pending ?? [];
    this.pending = null;
    const text =
      pieces.length === 1
        ? (pieces[0] as Buffer).toString('latin1')
        : Buffer.concat(pieces, this.pendingLength).toString('latin1');
    this.pendingLength = 0;
    return text;
  }

  private onLine(line: string): void {
    switch (this.phase) {
      case 'status':
        this.onStatusLine(line);
        return;
      case 'interim-headers':
        this.onHeaderLine(line, true);
        return;
      case 'headers':
        this.onHeaderLine(line, false);
        return;
      case 'done':
        return;
    }
  }

  private onStatusLine(line: string): void {
    if (this.debug !== null) this.debug(`reply: ${pyrepr(line)}\n`);
    if (this.fastStatusLine(line)) return;
    const parts = splitStatusLine(line);
    const version = parts.length >= 2 ? (parts[0] as string) : '';
    if (!version.startsWith('HTTP/')) {
      if (this.strict) throw new BadStatusLine(line);
      // Python 2.7: an HTTP/0.9 simple response; the line is the start of the body.
      this.version = 'HTTP/0.9';
      this.status = 200;
      this.reason = '';
      this.complete(Buffer.from(line, 'latin1'));
      return;
    }
    // STRICTER: a bare CR in the status line; a code that is not plain digits (Python's
    // int() also takes '+200').
    if (lineContent(line).includes('\r')) throw new BadStatusLine(line);
    const code = parts[1] as string;
    if (!isDigits(code)) throw new BadStatusLine(line);
    const status = Number(code);
    if (status < 100 || status > 999) throw new BadStatusLine(line);

    if (status >= 100 && status < 200 && status !== 101) {
      // STRICTER: every 1xx but 101 is interim (Python skips only 100 and then hands the
      // real response to the next request), and their number is capped (gh-150743).
      this.interimCount++;
      if (this.interimCount > MAXINTERIM) {
        throw new HTTPException(`got more than ${MAXINTERIM} interim responses`, {
          code: HTTP_EXCEPTION_CODES.TOO_MANY_INTERIM,
        });
      }
      this.phase = 'interim-headers';
      this.lineCount = 0;
      this.lastField = null;
      return;
    }
    this.version = version;
    this.status = status;
    this.reason = parts[2] ?? '';
    if (version === 'HTTP/0.9') {
      // Python 2.7: an explicit HTTP/0.9 status line; no headers, body until close.
      this.complete(null);
      return;
    }
    if (version !== 'HTTP/1.0' && !version.startsWith('HTTP/1.') && !this.anyVersion) {
      throw new UnknownProtocol(version);
    }
    this.phase = 'headers';
    this.lineCount = 0;
    this.lastField = null;
  }

  /**
   * The common case, `HTTP/1.x NNN reason` with a final (non-1xx) status, parsed without
   * splitting; false when the line needs the general rules of `onStatusLine`.
   */
  private fastStatusLine(line: string): boolean {
    const end = contentLength(line);
    if (
      end < 12 ||
      (end > 12 && line.charCodeAt(12) !== 0x20) ||
      line.charCodeAt(8) !== 0x20 ||
      !line.startsWith('HTTP/1.')
    ) {
      return false;
    }
    const minor = line.charCodeAt(7);
    const d0 = line.charCodeAt(9) - 0x30;
    const d1 = line.charCodeAt(10) - 0x30;
    const d2 = line.charCodeAt(11) - 0x30;
    if (minor < 0x30 || minor > 0x39 || d0 < 2 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) {
      return false;
    }
    const cr = line.indexOf('\r');
    if (cr !== -1 && cr < end) return false;
    this.version = minor === 0x30 ? 'HTTP/1.0' : 'HTTP/1.1';
    this.status = d0 * 100 + d1 * 10 + d2;
    this.reason = end > 13 ? line.slice(13, end) : '';
    this.phase = 'headers';
    this.lineCount = 0;
    this.lastField = null;
    return true;
  }

  private onHeaderLine(line: string, interim: boolean): void {
    if (line === '\r\n' || line === '\n' || (interim && pystrip(line) === '')) {
      // Python 2.7 ends a skipped 100 block at any blank-looking line.
      if (interim) {
        this.phase = 'status';
        this.lineCount = 0;
      } else {
        this.complete(null);
      }
      return;
    }
    // Python 2.7 checks the count before reading each line, and counts only the lines it
    // keeps; every line counts here, dropped ones too (empty names, Unix From lines), as
    // Python 3 counts them, so that no kind of line can be sent without end (a documented
    // difference: conformance differences.json `header-count-every-line`).
    this.lineCount++;
    if (this.lineCount > MAXHEADERS) {
      throw new HTTPException(`got more than ${MAXHEADERS} headers`, {
        code: HTTP_EXCEPTION_CODES.TOO_MANY_HEADERS,
      });
    }
    const contentEnd = contentLength(line);
    const cr = line.indexOf('\r');
    if (cr !== -1 && cr < contentEnd) {
      // STRICTER: a bare CR is not a line ending and not allowed inside a field.
      throw new HTTPException(`header line with a bare CR: ${pyrepr(line)}`, BAD_HEADER_LINE);
    }
    if (interim && this.debug !== null) this.debug(`header: ${pystrip(line)}\n`);
    if (!interim && this.lastField === null && line.startsWith('From ')) {
      // Python 2.7 (rfc822's readheaders: `if firstline and line.startswith('From ')`) and 3
      // (the email parser) drop Unix "From " lines (an mbox envelope) at the start of the
      // headers, colon or not, case-sensitively: no field, nor a `header:` debug line.
      // `lastField` is still null only while nothing but such lines came. They count.
      return;
    }
    if (isContinuationLine(line)) {
      // obs-fold: a continuation of the previous field.
      if (this.lastField === null) {
        throw new HTTPException(
          `header continuation line without a header: ${pyrepr(line)}`,
          BAD_HEADER_LINE,
        );
      }
      if (this.lastField === 'ignored' || interim) return;
      this.lines.push(line);
      if (this.lastTracked !== null) this.extendTracked(this.lastTracked, line);
      return;
    }
    const colon = line.indexOf(':');
    if (colon === -1 || colon >= contentEnd) {
      // STRICTER: Python 2.7 skips such a line and keeps parsing.
      throw new HTTPException(`header line without a colon: ${pyrepr(line)}`, BAD_HEADER_LINE);
    }
    if (colon === 0) {
      // Python 2.7: an empty name is "probably a benign mistake": the line is dropped.
      this.lastField = 'ignored';
      this.lastTracked = null;
      return;
    }
    this.lastField = 'kept';
    if (interim) return;
    this.lines.push(line);
    this.track(line, colon);
  }

  /**
   * Remember the value of a field that decides framing. The name is `line[0:colon]`;
   * nothing is sliced for the other headers.
   */
  private track(line: string, colon: number): void {
    let which: Tracked | null = null;
    switch (colon) {
      case 10:
        if (nameIs(line, 'connection')) which = 'conn';
        else if (nameIs(line, 'keep-alive')) which = 'ka';
        break;
      case 14:
        if (nameIs(line, 'content-length')) which = 'cl';
        break;
      case 16:
        if (nameIs(line, 'proxy-connection')) which = 'pconn';
        break;
      case 17:
        if (nameIs(line, 'transfer-encoding')) which = 'te';
        break;
    }
    this.lastTracked = which;
    if (which === null) return;
    const value = fieldValue(line, colon);
    if (which === 'cl') {
      if (this.contentLengths === null) this.contentLengths = [value];
      else this.contentLengths.push(value);
      return;
    }
    const joined = appendFieldValue(this.joined(which), value);
    this.lastStart = joined.length - value.length;
    this.setJoined(which, joined);
  }

  /** The continuation line `line` extends the last field's value (RFC 9112 §5.2). */
  private extendTracked(which: Tracked, line: string): void {
    if (which === 'cl') {
      const lengths = this.contentLengths as string[];
      const last = lengths.length - 1;
      lengths[last] = unfold(lengths[last] as string, line);
    } else {
      this.setJoined(which, unfoldLast(this.joined(which) as string, this.lastStart, line));
    }
  }

  /** The joined value of a tracked header but Content-Length, or null. */
  private joined(which: Exclude<Tracked, 'cl'>): string | null {
    switch (which) {
      case 'te':
        return this.transferEncoding;
      case 'conn':
        return this.connection;
      case 'ka':
        return this.keepAlive;
      case 'pconn':
        return this.proxyConnection;
    }
  }

  private setJoined(which: Exclude<Tracked, 'cl'>, value: string): void {
    switch (which) {
      case 'te':
        this.transferEncoding = value;
        return;
      case 'conn':
        this.connection = value;
        return;
      case 'ka':
        this.keepAlive = value;
        return;
      case 'pconn':
        this.proxyConnection = value;
        return;
    }
  }

  /** The head is complete: take the framing decisions of Python 2.7's `begin()`. */
  private complete(bodyPrefix: Buffer | null): void {
    this.phase = 'done';
    const status = this.status;
    const reason = pystrip(this.reason);
    const lines = this.lines;
    if (this.debug !== null) for (const line of lines) this.debug(`header: ${line}`);
    if (this.version === 'HTTP/0.9') {
      // A HEAD response never has a body, not even an HTTP/0.9 one (Python 2.7's read()
      // returns '' for HEAD whatever the status line; its `length` stays None).
      const head = this.method === 'HEAD';
      this.head = {
        version: 9,
        status,
        reason,
        lines,
        chunked: false,
        length: head ? 0 : null,
        will_close: true,
        framing: head ? 'none' : 'eof',
        bodyPrefix: head ? null : bodyPrefix,
      };
      return;
    }
    const version = this.version === 'HTTP/1.0' ? 10 : 11;
    const transferEncoding = this.transferEncoding;
    const contentLengths = this.contentLengths;
    const chunked = transferEncoding !== null && transferEncoding.toLowerCase() === 'chunked';
    let willClose = this.checkClose(version);
    let length: number | null = null;

    const noBody =
      status === 204 || status === 304 || (status >= 100 && status < 200) || this.method === 'HEAD';
    const tunnel = this.method === 'CONNECT' && status >= 200 && status < 300;
    if (noBody || tunnel) {
      // RFC 9112 §6.3: whatever Content-Length or Transfer-Encoding say, there is no
      // body; after a 2xx to CONNECT the connection is a tunnel.
      length = 0;
      // STRICTER: a 101 hands the connection to another protocol; never reuse it.
      if (status === 101) willClose = true;
    } else if (chunked) {
      // STRICTER: Content-Length beside chunked may be an attempt to desynchronise a
      // proxy in between; the body is read as chunked and the connection not reused.
      if (contentLengths !== null) willClose = true;
    } else if (contentLengths !== null) {
      length = parseContentLength(contentLengths);
      // STRICTER: another Transfer-Encoding beside Content-Length (RFC 9112 §6.3: the
      // coding overrides the length). Read by the length as Python does, but never reuse
      // the connection: a proxy in between may have framed it the other way.
      if (transferEncoding !== null) willClose = true;
    }
    if (!willClose && !chunked && length === null) willClose = true;
    this.head = {
      version,
      status,
      reason,
      lines,
      chunked,
      length,
      will_close: willClose,
      framing: length === 0 ? 'none' : chunked ? 'chunked' : length === null ? 'eof' : 'length',
      bodyPrefix: null,
    };
  }

  /** Python 2.7's `_check_close()` over the merged header values. */
  private checkClose(version: 10 | 11): boolean {
    const connection = this.connection;
    if (version === 11) {
      return connection?.toLowerCase().includes('close') === true;
    }
    if (this.keepAlive) return false;
    if (connection?.toLowerCase().includes('keep-alive')) return false;
    if (this.proxyConnection?.toLowerCase().includes('keep-alive')) return false;
    return true;
  }
}

/**
 * STRICTER: Python 2.7 reads the body until close when Content-Length is not an
 * integer (and silently so when repeated fields make the merged value `5, 7`). Here
 * every field must be plain digits, all fields must agree, and the value must be a
 * safe integer; anything else is an error and the connection is not reused.
 */
function parseContentLength(lengths: readonly string[]): number {
  let length = -1;
  for (const text of lengths) {
    if (!isDigits(text)) {
      throw new HTTPException(`invalid Content-Length: ${pyrepr(text)}`, BAD_CONTENT_LENGTH);
    }
    const value = Number(text);
    if (value > MAX_SAFE_LENGTH) {
      throw new HTTPException(`Content-Length too large: ${text}`, BAD_CONTENT_LENGTH);
    }
    if (length !== -1 && value !== length) {
      throw new HTTPException(
        `conflicting Content-Length values: ${lengths.map(pyrepr).join(', ')}`,
        BAD_CONTENT_LENGTH,
      );
    }
    length = value;
  }
  return length;
}
