/**
 * Where a file descriptor stands (its file position) and whether it was opened for
 * reading: what a body read through a descriptor of the caller's needs to know before its
 * head goes out, and what Node does not expose (no `lseek`, no `fcntl(F_GETFL)`).
 *
 * Linux gives both in `/proc/self/fdinfo/<fd>` (`pos:` and `flags:`, octal); elsewhere
 * (macOS, Windows), and on Deno, whose `node:fs` descriptors are its own resource ids and
 * not the process's, nothing can tell: `null`, and the caller must not guess (a body sent
 * with a length computed from a wrong position is cut short or runs over it).
 *
 * This file reads that one file and nothing else: it never reads or moves the descriptor.
 */
import { readFile } from 'node:fs';
import { promisify } from 'node:util';

const readFileAsync = promisify(readFile);

/** Linux's O_ACCMODE and O_WRONLY (asm-generic/fcntl.h), as `flags:` shows them. */
const O_ACCMODE = 0o3;
const O_WRONLY = 0o1;

export interface DescriptorState {
  /** The file position: where the next `read` of the descriptor starts. */
  readonly position: number;
  /** Opened for writing only (`0>>file` on stdin): every read fails with EBADF. */
  readonly writeOnly: boolean;
}

/** `fd`'s position and access mode, or null where the system cannot say. */
export async function descriptorState(fd: number): Promise<DescriptorState | null> {
  if (process.platform !== 'linux' || 'Deno' in globalThis) return null;
  let text: string;
  try {
    text = await readFileAsync(`/proc/self/fdinfo/${fd}`, 'latin1');
  } catch {
    // /proc not mounted (a bare container), or the descriptor is closed: the read or the
    // fstat that follows reports the latter as it would.
    return null;
  }
  const pos = /^pos:\s*(\d+)$/m.exec(text)?.[1];
  const flags = /^flags:\s*([0-7]+)$/m.exec(text)?.[1];
  if (pos === undefined || flags === undefined) return null;
  const position = Number(pos);
  if (!Number.isSafeInteger(position)) return null;
  return { position, writeOnly: (Number.parseInt(flags, 8) & O_ACCMODE) === O_WRONLY };
}
