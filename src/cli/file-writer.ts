/**
 * Writing the `-o` file (output.ts), in one of two ways, chosen by what FILE is.
 *
 * A regular file (the temporary file, FILE written in place, or stdout redirected to a
 * file; also a device that is not a terminal, `/dev/null`) is written at once, with
 * a synchronous `write` from the buffer the body was just read into (`DirectWriter`):
 * a write to a regular file goes to the page cache, and the kernel keeps receiving into
 * the socket's buffer meanwhile, so nothing waits for the other. One reused buffer, in
 * the cache, read straight into by the socket (`readinto`): no copy, no fresh memory, no
 * thread-pool round trip per piece. Issue 14, measured (the closing note): writing in the
 * thread pool while the next buffer filled (the earlier design: 3 buffers of 1 MiB)
 * cost 9,300 page faults and 0.25 s of CPU per 64 MiB download against 3,800 and 0.15 s
 * this way, because the socket outran the writes and the rest was read into fresh blocks
 * and copied; on one CPU (the benchmark pins one) nothing ran in parallel anyway.
 *
 * Anything else (a FIFO, a terminal, a socket: `-o /dev/stdout`, a named pipe) can block
 * for as long as its reader likes, which a synchronous write must not do: a timeout or
 * Ctrl-C would wait for it. It is written in the background (`BackgroundWriter`): pieces
 * queued in order and written one `writev` at a time by the thread pool, the reader
 * waiting only when QUEUE_LIMIT bytes are queued (then the socket stops being read, and
 * TCP's own flow control slows the server down).
 *
 * Both keep the first write failure: every later call rejects with it, nothing more is
 * written, and `settle()` lets the caller close the file only once no write is running
 * on its descriptor. Nothing here knows HTTP, names files or chooses exit codes.
 */
import { writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/** Size of the buffer a regular file's body is read into: one system call writes it. */
export const BUFFER_SIZE = 1024 * 1024;
/** Bytes of pieces queued or being written in the background, at most. */
export const QUEUE_LIMIT = 2 * 1024 * 1024;
/** Pieces joined in one `writev` at most (far below any system's IOV_MAX). */
const GATHER_MAX = 64;

/** What output.ts writes a file with. */
export interface Writer {
  /**
   * Write `data` (taken over: the caller must not change it) after what was written.
   * Resolves once there is room for more; rejects with the write failure, if one happened.
   */
  write(data: Buffer): Promise<void>;
  /** Wait until everything is written; rejects with the write failure, if any. */
  flush(): Promise<void>;
  /** Write nothing more; resolves (never rejects) once no write uses the descriptor. */
  settle(): Promise<void>;
}

/** A regular file: each write done at once, synchronously (see the module comment). */
export class DirectWriter implements Writer {
  readonly #fd: number;
  #failure: unknown = null;
  #stopped = false;
  /** The buffer to lend; made when first needed (a body read in pieces never needs it). */
  #buffer: Buffer | null = null;

  /** `fd`: a regular file, or a device that takes every write at once (`/dev/null`). */
  constructor(fd: number) {
    this.#fd = fd;
  }

  async write(data: Buffer): Promise<void> {
    this.#check();
    this.#writeAll(data);
    this.#check();
  }

  /** The buffer to read the body into; `writeLent` or `giveBack` it before the next. */
  lend(): Promise<Buffer> {
    try {
      this.#check();
    } catch (err) {
      return Promise.reject(err);
    }
    const buffer = this.#buffer ?? Buffer.allocUnsafeSlow(BUFFER_SIZE);
    this.#buffer = null;
    return Promise.resolve(buffer);
  }

  /** Write the first `n` bytes of the lent buffer now; it can be lent again. */
  writeLent(buffer: Buffer, n: number): void {
    if (!this.#stopped) this.#writeAll(buffer.subarray(0, n));
    this.giveBack(buffer);
  }

  /** The lent buffer, unused (the read into it failed or found nothing). */
  giveBack(buffer: Buffer): void {
    this.#buffer = buffer;
  }

  async flush(): Promise<void> {
    this.#check();
  }

  async settle(): Promise<void> {
    this.#stopped = true;
  }

  #check(): void {
    if (this.#failure !== null) throw this.#failure;
    if (this.#stopped) throw new Error('the file is closed');
  }

  /** Every byte of `data`, or the failure kept (and no more writes). */
  #writeAll(data: Buffer): void {
    try {
      let done = 0;
      while (done < data.length) {
        const n = writeSync(this.#fd, data, done, data.length - done);
        // No error and no progress: a file system that would make this loop forever.
        if (n === 0) throw Object.assign(new Error('no bytes written'), { code: 'EIO' });
        done += n;
      }
    } catch (err) {
      this.#failure = err;
      this.#stopped = true;
    }
  }
}

/** Anything but a regular file: pieces written in order, in the background. */
export class BackgroundWriter implements Writer {
  readonly #handle: FileHandle;
  /** Writes not started yet, in order. */
  #queue: Buffer[] = [];
  /** Bytes queued or being written. */
  #queued = 0;
  /** The running write, if any. */
  #running: Promise<void> | null = null;
  /** The first write failure (the error as the file system gave it). */
  #failure: unknown = null;
  /** No more writes are started (after a failure or `settle()`). */
  #stopped = false;
  /** Callers waiting for room (the queue shorter, or a failure). */
  #waiters: Array<() => void> = [];

  constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  async write(data: Buffer): Promise<void> {
    this.#check();
    if (data.length === 0) return;
    this.#queued += data.length;
    this.#queue.push(data);
    if (this.#running === null) this.#running = this.#run();
    while (this.#queued > QUEUE_LIMIT) {
      await this.#changed();
      this.#check();
    }
  }

  async flush(): Promise<void> {
    while (this.#running !== null) await this.#running;
    this.#check();
  }

  async settle(): Promise<void> {
    this.#stopped = true;
    this.#drop();
    while (this.#running !== null) await this.#running;
  }

  #check(): void {
    if (this.#failure !== null) throw this.#failure;
    if (this.#stopped) throw new Error('the file is closed');
  }

  /** Write the queue in order, gathering what queued up during each write into one. */
  async #run(): Promise<void> {
    while (this.#queue.length > 0 && !this.#stopped) {
      const batch = this.#queue.splice(0, GATHER_MAX);
      try {
        await writeAll(this.#handle, batch);
      } catch (err) {
        this.#failure = err;
        this.#stopped = true;
      }
      this.#release(batch);
    }
    this.#drop();
    this.#running = null;
    this.#wake();
  }

  /** Pieces done with (written, or dropped): counted off, waiters woken. */
  #release(pieces: readonly Buffer[]): void {
    for (const p of pieces) this.#queued -= p.length;
    this.#wake();
  }

  /** Once stopped, what is still queued is never written. */
  #drop(): void {
    if (!this.#stopped) return;
    const dropped = this.#queue;
    this.#queue = [];
    this.#release(dropped);
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #wake(): void {
    const waiters = this.#waiters;
    if (waiters.length === 0) return;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

/**
 * Write every byte of `parts` at the file's current position (also right for a FIFO or
 * a device, which have none): one `writev`, then the rest after a short write.
 */
async function writeAll(handle: FileHandle, parts: Buffer[]): Promise<void> {
  let rest = parts;
  for (;;) {
    const { bytesWritten } = await handle.writev(rest);
    // No error and no progress: a file system that would make this loop forever.
    if (bytesWritten === 0) throw Object.assign(new Error('no bytes written'), { code: 'EIO' });
    let skip = bytesWritten;
    let i = 0;
    while (i < rest.length && skip >= (rest[i] as Buffer).length) {
      skip -= (rest[i] as Buffer).length;
      i++;
    }
    if (i === rest.length) return;
    rest = rest.slice(i);
    rest[0] = (rest[0] as Buffer).subarray(skip);
  }
}
