/**
 * The two body errors that Python does not have, both `HTTPException`s (errors.ts draws
 * the whole tree): a chunked response body that breaks the framing rules, and a request
 * body whose length differs from the one declared in its `Content-Length`; and the
 * `TypeError` of memory in use that its owner transferred (detached) or shrank.
 *
 * This file only defines classes and the functions that build them: it must not do I/O.
 */
import { HTTPException } from './errors.ts';

/**
 * A chunked response body broke the framing rules (a chunk size that is not hex, a chunk
 * not followed by CRLF, a bare CR…). The read that met it rejects as Python 2.7 does,
 * with `IncompleteRead(<data read so far>)`, and this error as its `cause`; the
 * connection is closed.
 *
 * Python 2.7 raises `IncompleteRead` or `ValueError` from `int(line, 16)` without saying
 * what broke; this class says it, and is not raised on its own.
 *
 * @example
 * ```ts
 * try {
 *   await response.read();
 * } catch (err) {
 *   if (!(err instanceof httplib.IncompleteRead)) throw err;
 *   if (err.cause instanceof httplib.FramingError) console.log(err.cause.message);
 *   // invalid character 0x6f in chunk size
 * }
 * ```
 */
export class FramingError extends HTTPException {
  /** Always `'FramingError'`, the class name. */
  override name = 'FramingError';
  /** Always `'ERR_HTTPLIB_FRAMING'`. */
  override readonly code: string = 'ERR_HTTPLIB_FRAMING';
}

/**
 * A request body is not the length its `Content-Length` says. Either a body of known
 * length (a file, a `FileHandle`, a `Blob`) yielded more or fewer bytes than it declared
 * (the file grew or shrank after it was measured), or a body of unknown length (an
 * iterable, a stream) yielded more than the `Content-Length` the caller gave `request()`:
 * the call that sends it rejects, nothing past the declared length is sent, and the
 * connection is closed, since the server waits for the rest of the message. Or a body of
 * known length is longer than the `Content-Length` the caller gave `request()`: refused
 * before a byte is sent (a shorter one goes: the caller may `send()` the rest). `declared` is the length in the head, `got` the body's length
 * (or the bytes it yielded, counted up to the piece that went past `declared`).
 *
 * Python sends both, leaving the server with a message of the wrong length (the bytes
 * past it read as the next request); this package refuses to.
 *
 * @example
 * ```ts
 * import { open } from 'node:fs/promises';
 * const file = await open('upload.bin');
 * try {
 *   await conn.request('PUT', '/upload', file);
 * } catch (err) {
 *   if (!(err instanceof httplib.BodyLengthMismatch)) throw err;
 *   console.log(err.declared, err.got); // the file changed while it was sent
 * } finally {
 *   await file.close();
 * }
 * ```
 */
export class BodyLengthMismatch extends HTTPException {
  /** Always `'BodyLengthMismatch'`, the class name. */
  override name = 'BodyLengthMismatch';
  /** Always `'ERR_HTTPLIB_BODY_LENGTH_MISMATCH'`. */
  override readonly code: string = 'ERR_HTTPLIB_BODY_LENGTH_MISMATCH';
  /** The length declared in `Content-Length`. */
  readonly declared: number;
  /** The bytes the body yielded. */
  readonly got: number;
  constructor(declared: number, got: number) {
    super(`request body length mismatch: declared ${declared}, got ${got}`);
    this.declared = declared;
    this.got = got;
  }
}

/**
 * Memory a read or a send was using (readinto's buffer, a request body) was transferred
 * (detached) or shrunk by its owner meanwhile: a `TypeError`, as any misuse of an argument,
 * with `code === 'ERR_HTTPLIB_DETACHED_BUFFER'`.
 */
export function detachedMemory(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_HTTPLIB_DETACHED_BUFFER' });
}

/**
 * readinto's buffer was transferred (detached) or shrunk while its read waited: the body
 * cannot be read on.
 */
export function detachedTarget(): TypeError {
  return detachedMemory(
    "readinto()'s buffer was detached (transferred) or shrunk while the read waited: " +
      'the body cannot be read on',
  );
}
