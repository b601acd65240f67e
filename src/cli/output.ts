/**
 * Where `httplib` writes a response: stdout, or the `-o` file.
 *
 * stdout gets each piece as it arrives, the next piece read once the stream took it.
 * The `-o` file is written while the body is read (file-writer.ts: a regular file at
 * once from one reused buffer, anything else in the background; bounded memory, never
 * the whole body), under a temporary name in the same directory,
 * renamed over FILE only once the whole body arrived and was written, so FILE is never
 * half-written: any failure (or SIGINT/SIGTERM) deletes the temporary file. What a rename
 * would replace instead of writing into (a FIFO, a device, a symbolic link), and a FILE
 * this user may write but not replace keeping its owner (FileSink.create), is written
 * directly, as curl writes every FILE: truncated at the start, partial after a failure.
 */
import { constants, fstatSync, type Stats, unlinkSync } from 'node:fs';
import { access, type FileHandle, lstat, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { isatty } from 'node:tty';
import { CliError, EXIT, fileError, quoted } from './exit-codes.ts';
import { BackgroundWriter, DirectWriter, type Writer } from './file-writer.ts';

export interface Sink {
  /**
   * Write one piece (taken over: the caller must not change it); resolves once the sink
   * has room for more (a bounded queue, or the destination took it).
   */
  write(data: Buffer | string): Promise<void>;
  /** Memory the body can be read straight into, or null: pieces go to `write()`. */
  readonly lender: Lender | null;
  /** Everything was written: make it visible. */
  commit(): Promise<void>;
  /** Something failed: leave nothing behind. */
  abort(): Promise<void>;
}

function writeError(where: string, err: unknown): CliError {
  // The file as the user gave it (`where`), not the temporary file Node's message names.
  return new CliError(EXIT.WRITE, `could not write to ${where}: ${fileError(err)}`, {
    cause: err,
  });
}

/**
 * A reusable buffer lent to the reader: read into it (`readinto`), hand it back with the
 * bytes read (`writeLent`, written after what was written before), or unused (`giveBack`).
 */
export interface Lender {
  /** The buffer to read into. Rejects with the write failure, if one happened. */
  lend(): Promise<Buffer>;
  writeLent(buffer: Buffer, n: number): void;
  giveBack(buffer: Buffer): void;
}

/**
 * Whether writes to `fd` (described by `stats`) may be done at once, synchronously, from
 * a reused buffer (file-writer.ts): a regular file, or a device that is not a terminal
 * (`/dev/null`; a full one fails at once, ENOSPC). Not a pipe, a socket or a terminal:
 * their reader can make a write wait as long as it likes.
 */
function writesAtOnce(stats: Stats, fd: number): boolean {
  return stats.isFile() || (stats.isCharacterDevice() && !isatty(fd));
}

/**
 * The sink for stdout: written at once from a reused buffer when stdout is a regular file
 * (`httplib URL > FILE`) or `/dev/null` — the same way as an `-o` file, bypassing the
 * stream, whose every write is synchronous there anyway — and a StreamSink otherwise (a
 * pipe, a terminal, or a stream that is not the process's own, as in tests).
 */
export function stdoutSink(stream: Writable | NodeJS.WritableStream): Sink {
  const fd = (stream as { fd?: unknown }).fd;
  if (typeof fd === 'number') {
    let stats: Stats | null = null;
    try {
      stats = fstatSync(fd);
    } catch {
      // Closed or not there: the stream reports it as it would.
    }
    if (stats !== null && writesAtOnce(stats, fd)) return new DirectSink(fd, 'stdout');
  }
  return new StreamSink(stream, 'stdout');
}

/** A descriptor written at once (stdout redirected to a file or `/dev/null`). */
class DirectSink implements Sink {
  readonly lender: Lender;
  private readonly writer: DirectWriter;
  private readonly name: string;

  constructor(fd: number, name: string) {
    this.writer = new DirectWriter(fd);
    this.name = name;
    this.lender = lenderOf(this.writer, (err) => writeError(this.name, err));
  }

  write(data: Buffer | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    return this.writer.write(bytes).catch((err: unknown) => {
      throw writeError(this.name, err);
    });
  }

  commit(): Promise<void> {
    return this.writer.flush().catch((err: unknown) => {
      throw writeError(this.name, err);
    });
  }

  abort(): Promise<void> {
    return this.writer.settle();
  }
}

/** The `Lender` of a DirectWriter; a write failure comes out as `failed(err)`. */
function lenderOf(writer: DirectWriter, failed: (err: unknown) => unknown): Lender {
  return {
    lend: () =>
      writer.lend().catch((err: unknown) => {
        throw failed(err);
      }),
    writeLent: (buffer, n) => writer.writeLent(buffer, n),
    giveBack: (buffer) => writer.giveBack(buffer),
  };
}

/** stdout (or any writable): waits for `drain` when the stream asks to. */
export class StreamSink implements Sink {
  readonly lender = null;
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

/** A temporary file's name beside `target` (short enough for any name length limit). */
function tempName(target: string): string {
  let stem = basename(target);
  // NAME_MAX is 255 bytes: a long FILE name must not make the temporary name too long.
  if (Buffer.byteLength(stem) > 200) stem = Array.from(stem).slice(0, 40).join('');
  // Math.random, not node:crypto (~4 ms of start-up to load): the name needs to be unlikely
  // to be taken, not secret; opening it exclusively ('wx') is what makes it ours.
  const tag = Math.floor(Math.random() * 0x1_0000_0000)
    .toString(16)
    .padStart(8, '0');
  return join(dirname(target), `.${stem}.${process.pid}-${tag}.part`);
}

/**
 * The `-o FILE` sink. FILE that is a regular file, or not there yet: a temporary file
 * beside it, written while the body is read (file-writer.ts) and renamed over FILE by
 * `commit()` (with FILE's permissions and owner, as writing in place keeps them).
 * Anything else is opened and written directly, as curl does, because a rename would
 * replace it: a FIFO, a device or a socket (`-o /dev/null`, a named pipe), a symbolic
 * link (written through: the link stays, its target gets the body; `-o /dev/stdout`),
 * and a regular file with several hard links (they all keep showing the same file).
 */
export class FileSink implements Sink {
  readonly target: string;
  /** The temporary file, or null when FILE is written directly. */
  readonly temp: string | null;
  readonly lender: Lender | null;
  private handle: FileHandle | null;
  private readonly writer: Writer;

  private constructor(target: string, temp: string | null, handle: FileHandle, atOnce: boolean) {
    this.target = target;
    this.temp = temp;
    this.handle = handle;
    if (atOnce) {
      const direct = new DirectWriter(handle.fd);
      this.writer = direct;
      this.lender = lenderOf(direct, (err) => this.failed(err));
    } else {
      this.writer = new BackgroundWriter(handle);
      this.lender = null;
    }
  }

  /** Open FILE (directly) or a temporary file beside it (exclusively: nothing reused). */
  static async create(target: string): Promise<FileSink> {
    const where = quoted(target);
    let stats: Stats | null = null;
    try {
      stats = await lstat(target);
    } catch (err) {
      // A name that cannot be a file (`FILE/` where FILE is a file): refused now, before
      // a body is downloaded for nothing.
      if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') throw writeError(where, err);
      // Not there (or not reachable): opening the temporary file says why, if it fails.
    }
    // `NEW/`: a name that can only be a directory; open(2) refuses to create it (curl
    // too), instead of the whole body being downloaded beside it first.
    if (stats?.isDirectory() || (stats === null && target.endsWith('/'))) {
      throw writeError(
        where,
        Object.assign(new Error('EISDIR: is a directory'), { code: 'EISDIR' }),
      );
    }
    if (stats !== null && (!stats.isFile() || stats.nlink > 1)) return FileSink.inPlace(target);
    if (stats !== null) {
      // curl opens FILE for writing: a file this process may not write is refused, not
      // replaced (the rename would only need the directory's permission).
      try {
        await access(target, constants.W_OK);
      } catch (err) {
        throw writeError(where, err);
      }
    }
    const temp = tempName(target);
    // Known to the signal handlers before it can exist on disk.
    pending.add(temp);
    let handle: FileHandle;
    try {
      handle = await open(temp, 'wx', tempMode(stats));
    } catch (err) {
      pending.delete(temp);
      // FILE is there and writable, but this user may not make a file beside it (a
      // directory it may not write): written in place, as curl writes it. Any other
      // failure (a full disk, no descriptors left) keeps FILE as it is.
      const code = (err as NodeJS.ErrnoException).code;
      if (stats !== null && (code === 'EACCES' || code === 'EPERM')) {
        return FileSink.inPlace(target);
      }
      throw writeError(where, err);
    }
    if (stats !== null) {
      // Replacing FILE must keep who owns it and who can read it (a 0600 file stays
      // 0600; no set-id bits: new content). Where the process may not give the new file
      // FILE's owner or group (someone else's file: only root may), replacing it would
      // make it ours (and a sticky directory would refuse the rename at the end):
      // FILE is written in place instead, as curl writes it.
      const kept = await handle.chown(stats.uid, stats.gid).then(
        () => true,
        () => false,
      );
      if (!kept) {
        await handle.close().catch(() => {});
        await unlink(temp).catch(() => {});
        pending.delete(temp);
        return FileSink.inPlace(target);
      }
      await handle.chmod(stats.mode & 0o777).catch(() => {});
    }
    return new FileSink(target, temp, handle, true);
  }

  /** FILE opened and written directly (truncated now): no temporary file, no rename. */
  private static async inPlace(target: string): Promise<FileSink> {
    let handle: FileHandle;
    try {
      handle = await open(target, 'w');
    } catch (err) {
      throw writeError(quoted(target), err);
    }
    // Large reads into a reused buffer, written at once, only where no reader can make
    // a write wait: a pipe or a terminal gets each piece as soon as it arrived, written
    // in the background (its reader may stall; a timeout or Ctrl-C must not wait).
    const atOnce = await handle.stat().then(
      (s) => writesAtOnce(s, handle.fd),
      () => false,
    );
    return new FileSink(target, null, handle, atOnce);
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
    return err instanceof CliError ? err : writeError(quoted(this.target), err);
  }
}

/**
 * The mode a temporary file is created with: a new FILE's (0666 less the umask, as curl
 * creates it); one that replaces FILE, no more than FILE's owner could read (its mode
 * and owner are given to it next): a file created 0644 and only then made 0600 could be
 * opened by anyone in between, and read through that descriptor once the body was in.
 */
export function tempMode(replacing: Stats | null): number {
  return replacing === null ? 0o666 : replacing.mode & 0o600;
}
