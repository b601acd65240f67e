/**
 * Where `httplib` writes a response: stdout, or the `-o` file.
 *
 * stdout gets each piece as it arrives, the next piece read once the stream took it.
 * The `-o` file is written in the background while the body is read (file-writer.ts,
 * bounded memory: never the whole body), under a temporary name in the same directory,
 * renamed over FILE only once the whole body arrived and was written, so FILE is never
 * half-written: any failure (or SIGINT/SIGTERM) deletes the temporary file.
 */
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { type FileHandle, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { CliError, EXIT, oneLine } from './exit-codes.ts';
import { FileWriter } from './file-writer.ts';

export interface Sink {
  /**
   * Write one piece (taken over: the caller must not change it); resolves once the sink
   * has room for more (a bounded queue, or the destination took it).
   */
  write(data: Buffer | string): Promise<void>;
  /** Memory the body can be read straight into, or null: pieces go to `write()`. */
  readonly ring: Ring | null;
  /** Everything was written: make it visible. */
  commit(): Promise<void>;
  /** Something failed: leave nothing behind. */
  abort(): Promise<void>;
}

function writeError(where: string, err: unknown): CliError {
  const why = err instanceof Error ? oneLine(err.message) : String(err);
  return new CliError(EXIT.WRITE, `could not write to ${where}: ${why}`, { cause: err });
}

/**
 * Reusable buffers lent to the reader: read into one (`readinto`), hand it back with the
 * bytes read (`writeLent`, written in order after what is queued), or unused (`giveBack`).
 */
export interface Ring {
  /** A free buffer; waits while all are being written. Rejects with the write failure. */
  lend(): Promise<Buffer>;
  writeLent(buffer: Buffer, n: number): void;
  giveBack(buffer: Buffer): void;
}

/** stdout (or any writable): waits for `drain` when the stream asks to. */
export class StreamSink implements Sink {
  readonly ring = null;
  private readonly stream: Writable | NodeJS.WritableStream;
  private readonly name: string;
  private failure: unknown = null;

  constructor(stream: Writable | NodeJS.WritableStream, name: string) {
    this.stream = stream;
    this.name = name;
    // A closed pipe (EPIPE) is reported here, asynchronously: remember it.
    stream.on('error', (err: unknown) => {
      this.failure ??= err;
    });
  }

  write(data: Buffer | string): Promise<void> {
    if (this.failure !== null) return Promise.reject(writeError(this.name, this.failure));
    return new Promise((resolve, reject) => {
      // The callback runs once the piece was handed to the system (or failed), which is
      // the backpressure a body stream needs.
      this.stream.write(data, (err?: Error | null) => {
        const failure = err ?? this.failure;
        if (failure) reject(writeError(this.name, failure));
        else resolve();
      });
    });
  }

  commit(): Promise<void> {
    return Promise.resolve();
  }

  abort(): Promise<void> {
    return Promise.resolve();
  }
}

/** Temporary files not yet renamed or deleted, for the signal handlers. */
const pending = new Set<string>();

/** Delete every temporary file still pending (on SIGINT/SIGTERM, synchronously). */
export function removePendingFiles(): void {
  for (const path of pending) {
    try {
      unlinkSync(path);
    } catch {
      // Already gone.
    }
  }
  pending.clear();
}

/**
 * The `-o FILE` sink. FILE that is a regular file, or not there yet: a temporary file
 * beside it, written while the body is read (file-writer.ts) and renamed over FILE by
 * `commit()`. FILE that is a FIFO, a device or a socket (`-o /dev/null`, `-o /dev/stdout`,
 * a named pipe): written directly, piece by piece as the body arrives, as curl does —
 * renaming a file over it would replace the device or the pipe itself.
 */
export class FileSink implements Sink {
  readonly target: string;
  /** The temporary file, or null when FILE is written directly. */
  readonly temp: string | null;
  readonly ring: Ring | null;
  private handle: FileHandle | null;
  private readonly writer: FileWriter;

  private constructor(target: string, temp: string | null, handle: FileHandle) {
    this.target = target;
    this.temp = temp;
    this.handle = handle;
    this.writer = new FileWriter(handle);
    // Large reads into reused buffers only where nobody sees the bytes before the end:
    // a pipe or a terminal gets each piece as soon as it arrived.
    this.ring = temp === null ? null : this.ringOf(this.writer);
  }

  /** Open FILE (directly) or a temporary file beside it (exclusively: nothing reused). */
  static async create(target: string): Promise<FileSink> {
    const where = `'${target}'`;
    let special = false;
    try {
      const stats = await stat(target);
      if (stats.isDirectory()) {
        throw Object.assign(new Error(`EISDIR: is a directory`), { code: 'EISDIR' });
      }
      special = !stats.isFile();
    } catch (err) {
      // Not there (or not reachable): opening the temporary file says why, if it fails.
      if ((err as { code?: unknown }).code === 'EISDIR') throw writeError(where, err);
    }
    if (special) {
      try {
        return new FileSink(target, null, await open(target, 'w'));
      } catch (err) {
        throw writeError(where, err);
      }
    }
    const temp = join(
      dirname(target),
      `.${basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}.part`,
    );
    let handle: FileHandle;
    try {
      handle = await open(temp, 'wx', 0o666);
    } catch (err) {
      throw writeError(where, err);
    }
    pending.add(temp);
    return new FileSink(target, temp, handle);
  }

  write(data: Buffer | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    return this.writer.write(bytes).catch((err: unknown) => {
      throw this.failed(err);
    });
  }

  async commit(): Promise<void> {
    try {
      await this.writer.flush();
      const handle = this.handle;
      this.handle = null;
      await handle?.close();
      if (this.temp !== null) {
        await rename(this.temp, this.target);
        pending.delete(this.temp);
      }
    } catch (err) {
      await this.abort();
      throw this.failed(err);
    }
  }

  async abort(): Promise<void> {
    await this.writer.settle();
    const handle = this.handle;
    this.handle = null;
    await handle?.close().catch(() => {});
    if (this.temp !== null) {
      await unlink(this.temp).catch(() => {});
      pending.delete(this.temp);
    }
  }

  private failed(err: unknown): CliError {
    return err instanceof CliError ? err : writeError(`'${this.target}'`, err);
  }

  private ringOf(writer: FileWriter): Ring {
    return {
      lend: () =>
        writer.lend().catch((err: unknown) => {
          throw this.failed(err);
        }),
      writeLent: (buffer, n) => writer.writeLent(buffer, n),
      giveBack: (buffer) => writer.giveBack(buffer),
    };
  }
}
