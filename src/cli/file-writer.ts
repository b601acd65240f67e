/**
 * Writing the `-o` file while the next part of the body is read (issue 14): writes go to
 * the file one at a time, in order, in the background, and the reader waits only when
 * the memory set aside for writing is full. Waiting for each write before reading on
 * left the socket and the disk taking turns; this lets them work at once.
 *
 * Memory stays bounded whatever the disk's speed: at most RING_BUFFERS reusable buffers
 * of RING_SIZE bytes that the body is read straight into (`lend` → `readinto` →
 * `writeLent`), plus at most QUEUE_LIMIT bytes of pieces handed over as they arrived
 * (`write`). A slow disk makes the reader wait, and the socket then stops being read:
 * TCP's own flow control slows the server down.
 *
 * The first write failure is kept: every later call rejects with it, nothing more is
 * written, and `settle()` lets the caller close the file only once no write is running
 * on its descriptor. Nothing here knows HTTP, names files or chooses exit codes.
 */
import type { FileHandle } from 'node:fs/promises';

/** Size of each buffer the body is read into: one system call writes one of them. */
export const RING_SIZE = 1024 * 1024;
/** Buffers in the ring: one being filled, one being written, one ready. */
export const RING_BUFFERS = 3;
/** Bytes of pieces (headers, `read1` results) queued or being written, at most. */
export const QUEUE_LIMIT = 2 * 1024 * 1024;
/** Pieces joined in one `writev` at most (far below any system's IOV_MAX). */
const GATHER_MAX = 64;

/** One queued write: `data`, and the ring buffer it belongs to, if it is one. */
interface Entry {
  readonly data: Buffer;
  readonly lent: Buffer | null;
}

export class FileWriter {
  readonly #handle: FileHandle;
  /** Writes not started yet, in order. */
  #queue: Entry[] = [];
  /** Bytes of queued or running pieces that are not ring buffers. */
  #pieceBytes = 0;
  /** The running write, if any. */
  #running: Promise<void> | null = null;
  /** The first write failure (the error as the file system gave it). */
  #failure: unknown = null;
  /** No more writes are started (after a failure or `settle()`). */
  #stopped = false;
  /** Ring buffers free to lend, and how many exist (made only when first needed). */
  readonly #free: Buffer[] = [];
  #made = 0;
  /** Callers waiting for room (a buffer back, the queue shorter, or a failure). */
  #waiters: Array<() => void> = [];

  constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  /** The first write failure, or null. */
  get failure(): unknown {
    return this.#failure;
  }

  /**
   * Queue `data` (taken over: the caller must not change it) to be written after what is
   * queued. Resolves once the queue is back under its limit; rejects with the write
   * failure, if one happened.
   */
  async write(data: Buffer): Promise<void> {
    this.#check();
    if (data.length === 0) return;
    this.#pieceBytes += data.length;
    this.#push({ data, lent: null });
    while (this.#pieceBytes > QUEUE_LIMIT) {
      await this.#changed();
      this.#check();
    }
  }

  /** A ring buffer to read into; waits while every buffer is queued or being written. */
  async lend(): Promise<Buffer> {
    for (;;) {
      this.#check();
      const free = this.#free.pop();
      if (free !== undefined) return free;
      if (this.#made < RING_BUFFERS) {
        this.#made++;
        return Buffer.allocUnsafeSlow(RING_SIZE);
      }
      await this.#changed();
    }
  }

  /** Queue the first `n` bytes of a lent buffer; it comes back to the ring once written. */
  writeLent(buffer: Buffer, n: number): void {
    if (n === 0 || this.#stopped) {
      this.giveBack(buffer);
      return;
    }
    this.#push({ data: buffer.subarray(0, n), lent: buffer });
  }

  /** A lent buffer that will not be written (the read into it failed or found nothing). */
  giveBack(buffer: Buffer): void {
    this.#free.push(buffer);
    this.#wake();
  }

  /** Wait until everything queued is written; rejects with the write failure, if any. */
  async flush(): Promise<void> {
    while (this.#running !== null) await this.#running;
    this.#check();
  }

  /**
   * Start no more writes and wait for the running one (never rejects): afterwards the
   * file can be closed without a write still using its descriptor.
   */
  async settle(): Promise<void> {
    this.#stopped = true;
    this.#drop();
    while (this.#running !== null) await this.#running;
  }

  #check(): void {
    if (this.#failure !== null) throw this.#failure;
    if (this.#stopped) throw new Error('the file is closed');
  }

  #push(entry: Entry): void {
    this.#queue.push(entry);
    if (this.#running === null) this.#running = this.#run();
  }

  /** Write the queue in order, gathering what queued up during each write into one. */
  async #run(): Promise<void> {
    while (this.#queue.length > 0 && !this.#stopped) {
      const batch = this.#queue.splice(0, GATHER_MAX);
      try {
        await writeAll(
          this.#handle,
          batch.map((e) => e.data),
        );
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

  /** Entries done with (written, or dropped): ring buffers back, piece bytes counted off. */
  #release(entries: readonly Entry[]): void {
    for (const e of entries) {
      if (e.lent === null) this.#pieceBytes -= e.data.length;
      else this.#free.push(e.lent);
    }
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
