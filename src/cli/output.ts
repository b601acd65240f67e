/**
 * Where `httplib` writes a response: stdout, or the `-o` file.
 *
 * A body is written piece by piece as it arrives, waiting for the destination to take
 * each piece (never buffered whole). The `-o` file is written under a temporary name in
 * the same directory and renamed over FILE only once the whole body arrived, so FILE is
 * never half-written: any failure (or SIGINT/SIGTERM) deletes the temporary file.
 */
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { CliError, EXIT, oneLine } from './exit-codes.ts';

export interface Sink {
  /** Write one piece; resolves once the destination took it. */
  write(data: Buffer | string): Promise<void>;
  /** Everything was written: make it visible. */
  commit(): Promise<void>;
  /** Something failed: leave nothing behind. */
  abort(): Promise<void>;
}

function writeError(where: string, err: unknown): CliError {
  const why = err instanceof Error ? oneLine(err.message) : String(err);
  return new CliError(EXIT.WRITE, `could not write to ${where}: ${why}`, { cause: err });
}

/** stdout (or any writable): waits for `drain` when the stream asks to. */
export class StreamSink implements Sink {
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

/** The `-o FILE` sink: a temporary file beside FILE, renamed over it by `commit()`. */
export class AtomicFileSink implements Sink {
  readonly target: string;
  readonly temp: string;
  private handle: FileHandle | null;

  private constructor(target: string, temp: string, handle: FileHandle) {
    this.target = target;
    this.temp = temp;
    this.handle = handle;
  }

  /** Create the temporary file (exclusively, so nothing of somebody else is reused). */
  static async create(target: string): Promise<AtomicFileSink> {
    const temp = join(
      dirname(target),
      `.${basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}.part`,
    );
    let handle: FileHandle;
    try {
      handle = await open(temp, 'wx', 0o666);
    } catch (err) {
      throw writeError(`'${target}'`, err);
    }
    pending.add(temp);
    return new AtomicFileSink(target, temp, handle);
  }

  async write(data: Buffer | string): Promise<void> {
    const handle = this.handle;
    if (handle === null) throw writeError(`'${this.target}'`, new Error('already closed'));
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    try {
      let offset = 0;
      while (offset < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
        offset += bytesWritten;
      }
    } catch (err) {
      throw writeError(`'${this.target}'`, err);
    }
  }

  async commit(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    try {
      await handle?.close();
      await rename(this.temp, this.target);
      pending.delete(this.temp);
    } catch (err) {
      await this.removeTemp();
      throw writeError(`'${this.target}'`, err);
    }
  }

  async abort(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close().catch(() => {});
    await this.removeTemp();
  }

  private async removeTemp(): Promise<void> {
    await unlink(this.temp).catch(() => {});
    pending.delete(this.temp);
  }
}
