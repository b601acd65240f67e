/**
 * The body decoder: turns the bytes after a response head into body bytes, for the
 * four framings of `ResponseHead.framing` (no body, Content-Length, chunked, until the
 * server closes).
 *
 * It never copies or buffers body bytes: `decode()` reports where the next piece of
 * body lies in the caller's buffer (`dataStart`..`dataEnd`), consuming framing bytes
 * (chunk sizes, extensions, CRLFs, trailers) on the way. It never reads past the end of
 * the body, so bytes after it stay with the caller.
 *
 * Chunked decoding follows RFC 9112 §7.1 strictly where CPython 2.7's `_read_chunked`
 * was lenient (STRICTER, shared/API.md): the size is plain hex within 2^53 - 1, and one
 * rule holds for every line of a chunked body (size line, the CRLF after the data, the
 * last chunk, trailer lines, the final empty line): it ends with CRLF, and a bare LF or
 * a bare CR anywhere in it is an error. (RFC 9112 §2.2 lets a recipient accept a bare
 * LF only in the start line and header fields, which the head parser does, as Python;
 * Python 2.7 and 3 accept bare LFs in some chunked lines and not in others, llhttp in
 * none.) Limits are Python's: 65536 bytes per size or trailer line, 100 trailer lines
 * (gh-150743).
 * This file must not do I/O.
 */
import { FramingError } from './body-errors.ts';
import { HTTP_EXCEPTION_CODES, HTTPException, LineTooLong } from './errors.ts';
import { MAX_SAFE_LENGTH, MAXLINE, MAXTRAILERS } from './limits.ts';
import type { BodyFraming } from './response-parser.ts';

/** What the end of the connection means for the body. */
export type EofResult =
  | { readonly complete: true }
  | { readonly complete: false; readonly expected: number | null };

const COMPLETE: EofResult = Object.freeze({ complete: true });

type ChunkState =
  | 'size' // hex digits of the chunk size
  | 'size-ws' // whitespace after the size: only a chunk extension may follow
  | 'ext' // inside a chunk extension, dropped
  | 'size-lf' // CR seen at the end of the size line
  | 'data'
  | 'data-cr' // CRLF after the chunk data
  | 'data-lf'
  | 'trailer-start' // start of a trailer line, or of the final blank line
  | 'trailer' // inside a trailer line, dropped
  | 'trailer-lf'
  | 'end-lf' // CR of the final blank line seen
  | 'done';

const CR = 0x0d;
const LF = 0x0a;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** Decodes one response body. */
export class BodyDecoder {
  readonly framing: BodyFraming;
  /** Start of the body bytes found by the last `decode()` call, in the caller's buffer. */
  dataStart = 0;
  /** End (exclusive) of the body bytes found by the last `decode()` call. */
  dataEnd = 0;

  private finished: boolean;
  /** Content-Length: bytes left. Chunked: bytes left in the current chunk. */
  private left: number;
  private state: ChunkState = 'size';
  private sizeDigits = 0;
  private lineLength = 0;
  private trailerCount = 0;

  constructor(framing: BodyFraming, length: number | null = null) {
    this.framing = framing;
    this.left = framing === 'length' ? (length ?? 0) : 0;
    this.finished = framing === 'none' || (framing === 'length' && this.left === 0);
  }

  /** True once the whole body has been decoded. */
  get done(): boolean {
    return this.finished;
  }

  /** Content-Length bodies: bytes still to come. Other framings: null. */
  get remaining(): number | null {
    if (this.framing === 'length') return this.left;
    if (this.framing === 'none') return 0;
    return null;
  }

  /** Python's `chunk_left`: bytes left in the current chunk, null between chunks. */
  get chunkLeft(): number | null {
    return this.framing === 'chunked' && this.state === 'data' ? this.left : null;
  }

  /**
   * Consume bytes of `buf[pos:end]` and find at most `max` body bytes. Returns the new
   * position; the body bytes found are `buf[dataStart:dataEnd]` (possibly empty).
   * Framing bytes before the next body bytes are consumed even when `max` is 0, so
   * `decode(buf, pos, end, 0)` completes a body whose remaining bytes are all framing.
   * Throws `FramingError` or `LineTooLong` for a malformed chunked body.
   */
  decode(buf: Uint8Array, pos: number, end: number, max: number): number {
    this.dataStart = pos;
    this.dataEnd = pos;
    if (this.finished) return pos;
    switch (this.framing) {
      case 'none':
        return pos;
      case 'eof': {
        const n = Math.min(end - pos, max);
        this.dataEnd = pos + n;
        return pos + n;
      }
      case 'length': {
        const n = Math.min(end - pos, max, this.left);
        this.dataEnd = pos + n;
        this.left -= n;
        if (this.left === 0) this.finished = true;
        return pos + n;
      }
      case 'chunked':
        return this.decodeChunked(buf, pos, end, max);
    }
  }

  /**
   * Account for `n` body bytes that went straight into the caller's memory without
   * passing through `decode` (Content-Length and until-close bodies only; `n` never
   * exceeds `remaining`).
   */
  consumeDirect(n: number): void {
    if (this.framing === 'length') {
      if (n > this.left) throw new RangeError(`${n} bytes exceed the ${this.left} left`);
      this.left -= n;
      if (this.left === 0) this.finished = true;
    } else if (this.framing !== 'eof') {
      throw new RangeError(`no direct reads for a ${this.framing} body`);
    }
  }

  /** The connection reached its end: is the body complete? */
  eof(): EofResult {
    if (this.finished) return COMPLETE;
    switch (this.framing) {
      case 'none':
      case 'eof':
        this.finished = true;
        return COMPLETE;
      case 'length':
        return { complete: false, expected: this.left };
      case 'chunked':
        // Python: "a vanishingly small number of sites EOF without sending the
        // trailer": a body that ended with its last chunk is complete.
        if (
          this.state === 'trailer-start' ||
          this.state === 'trailer' ||
          this.state === 'trailer-lf' ||
          this.state === 'end-lf'
        ) {
          this.finished = true;
          this.state = 'done';
          return COMPLETE;
        }
        return { complete: false, expected: this.state === 'data' ? this.left : null };
    }
  }

  private decodeChunked(buf: Uint8Array, pos: number, end: number, max: number): number {
    while (pos < end) {
      switch (this.state) {
        case 'data': {
          if (max === 0) return pos;
          const n = Math.min(end - pos, max, this.left);
          this.dataStart = pos;
          this.dataEnd = pos + n;
          this.left -= n;
          if (this.left === 0) this.state = 'data-cr';
          return pos + n;
        }
        case 'size': {
          const c = buf[pos] as number;
          const h = hexValue(c);
          if (h >= 0) {
            this.left = this.left * 16 + h;
            this.sizeDigits++;
            if (this.left > MAX_SAFE_LENGTH) throw new FramingError('chunk size too large');
          } else if (this.sizeDigits === 0) {
            throw new FramingError(`invalid chunk size: no hex digits before byte 0x${hex2(c)}`);
          } else if (c === CR) {
            this.state = 'size-lf';
          } else if (c === 0x3b) {
            this.state = 'ext';
          } else if (c === 0x20 || c === 0x09) {
            this.state = 'size-ws';
          } else if (c === LF) {
            throw new FramingError('chunk size line ended by a bare LF');
          } else {
            throw new FramingError(`invalid character 0x${hex2(c)} in chunk size`);
          }
          this.sizeLineByte();
          pos++;
          break;
        }
        case 'size-ws': {
          const c = buf[pos] as number;
          if (c === 0x3b) this.state = 'ext';
          else if (c === LF) throw new FramingError('chunk size line ended by a bare LF');
          else if (c !== 0x20 && c !== 0x09) {
            throw new FramingError('whitespace after a chunk size must lead to an extension');
          }
          this.sizeLineByte();
          pos++;
          break;
        }
        case 'ext': {
          // Skip the extension quickly: only CR or LF end it.
          let i = pos;
          while (i < end) {
            const c = buf[i] as number;
            if (c === CR || c === LF) break;
            i++;
          }
          this.lineLength += i - pos;
          if (this.lineLength >= MAXLINE) throw new LineTooLong('chunk size');
          pos = i;
          if (pos < end) {
            if (buf[pos] === LF) throw new FramingError('chunk size line ended by a bare LF');
            this.state = 'size-lf';
            this.sizeLineByte();
            pos++;
          }
          break;
        }
        case 'size-lf': {
          if (buf[pos] !== LF) throw new FramingError('bare CR in chunk size line');
          pos++;
          this.sizeDigits = 0;
          this.lineLength = 0;
          this.state = this.left === 0 ? 'trailer-start' : 'data';
          break;
        }
        case 'data-cr': {
          if (buf[pos] !== CR) throw new FramingError('chunk data not followed by CRLF');
          pos++;
          this.state = 'data-lf';
          break;
        }
        case 'data-lf': {
          if (buf[pos] !== LF) throw new FramingError('chunk data not followed by CRLF');
          pos++;
          this.state = 'size';
          break;
        }
        case 'trailer-start': {
          const c = buf[pos] as number;
          pos++;
          if (c === CR) {
            this.state = 'end-lf';
          } else if (c === LF) {
            throw new FramingError('chunked body ended by a bare LF');
          } else {
            this.trailerCount++;
            if (this.trailerCount > MAXTRAILERS) {
              throw new HTTPException(`got more than ${MAXTRAILERS} trailers`, {
                code: HTTP_EXCEPTION_CODES.TOO_MANY_TRAILERS,
              });
            }
            this.lineLength = 1;
            this.state = 'trailer';
          }
          break;
        }
        case 'trailer': {
          let i = pos;
          while (i < end) {
            const c = buf[i] as number;
            if (c === CR || c === LF) break;
            i++;
          }
          this.lineLength += i - pos;
          if (this.lineLength >= MAXLINE) throw new LineTooLong('trailer line');
          pos = i;
          if (pos < end) {
            if (buf[pos] === LF) throw new FramingError('trailer line ended by a bare LF');
            this.state = 'trailer-lf';
            this.lineLength++;
            if (this.lineLength >= MAXLINE) throw new LineTooLong('trailer line');
            pos++;
          }
          break;
        }
        case 'trailer-lf': {
          if (buf[pos] !== LF) throw new FramingError('bare CR in a trailer line');
          pos++;
          this.state = 'trailer-start';
          break;
        }
        case 'end-lf': {
          if (buf[pos] !== LF) throw new FramingError('bare CR ending the chunked body');
          pos++;
          this.finish();
          return pos;
        }
        case 'done':
          return pos;
      }
    }
    return pos;
  }

  /** Count one byte of a chunk-size line against Python's 65536-byte line limit. */
  private sizeLineByte(): void {
    this.lineLength++;
    // The line's terminator still has to come, so the limit is reached one byte early.
    if (this.lineLength >= MAXLINE) throw new LineTooLong('chunk size');
  }

  private finish(): void {
    this.state = 'done';
    this.finished = true;
  }
}

function hex2(c: number): string {
  return c.toString(16).padStart(2, '0');
}
