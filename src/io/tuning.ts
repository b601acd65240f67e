/**
 * Every performance threshold of the I/O shell, each with the benchmark that chose it
 * (`npm run bench -- --scenario <id>`, bench/scenarios.ts). Change one only with a
 * before/after run of that benchmark (`--ref <commit>`). Nothing here changes what goes
 * on the wire or what a caller gets; only how many copies, buffers and writes it takes.
 */

/**
 * Bytes queued by a socket reader before the socket is paused until the caller reads:
 * memory stays bounded whatever the server sends (`rss-1gib`: a 1 GiB body read in
 * 64 KiB pieces stays flat). Chosen with `1mib` and `64mib` (a
 * smaller mark pauses the socket mid-response; a larger one only grows memory).
 */
export const HIGH_WATER_MARK = 256 * 1024;

/**
 * How often a socket paused at HIGH_WATER_MARK is asked whether its peer is still there,
 * while a request body is being sent on it (byte-reader.ts `probe`). A paused socket is
 * not polled, so a reset (RST) goes unseen until something reads or writes, and a body
 * waiting for its own source (a stalled stream or pipe) would wait on. Not a performance
 * threshold but a latency one: a reset is reported at most this long after it comes
 * (the question is one system call, and only while paused during a send; it puts nothing
 * on the wire). The blocking API's direct transport asks its full ring's socket at the
 * same pace (sync/worker-ring.ts).
 */
export const PAUSED_PROBE_MS = 200;

/**
 * Size of the blocks a plain-TCP socket reads bulk data into (net's `onread`), queued as
 * views: no copy of body bytes until the caller's buffer (commit 239602b: `1mib`,
 * `64mib`).
 */
export const BLOCK_SIZE = 256 * 1024;

/** A block with less room than this is left for a new one (`1mib`: no tiny tail reads). */
export const BLOCK_MIN_FREE = 16 * 1024;

/**
 * The reused buffer small reads go to, copied out of it (commit bf3498b: `small`,
 * `conn10` — a fresh block per small response cost more than the copy).
 */
export const SCRATCH_SIZE = 64 * 1024;

/**
 * A read up to this size is copied out of the scratch buffer; a larger one switches the
 * socket to block reads until reads are small again (commit bf3498b: `small`, `1mib`).
 */
export const SMALL_READ = 8 * 1024;

/**
 * The largest buffer of ours a socket reads readinto's bytes into before they are copied
 * to the caller's memory (which is never handed to the socket: it could be transferred
 * while the read waits). A larger readinto fills in several reads of this size.
 */
export const OWN_ROOM_MAX = 256 * 1024;

/**
 * How many times one socket's reads may be moved to memory a caller offers
 * (`readinto`, or `read()`'s own Buffer) and back, or to the small head buffer, before
 * the socket keeps reading into our own buffers (copied out, as when nothing is
 * offered); and, in the blocking API, to a full ring's new room before reading starts
 * again through a byte of the worker's own (sync/worker-ring.ts). Node has no call
 * that changes where a socket reads between reads except the handle's
 * `useUserBuffer()`, which stacks a new listener on the stream every time, freed
 * only when the socket closes: a long-lived connection grew by ~50 B of RSS per
 * `readinto(64 KiB)` piece (one move each, plus one per large body for the next head;
 * 320,000 pieces: +16.6 MiB), without end. With this bound (~240k such pieces, 15 GiB)
 * it grew by ~3 MiB per 64k pieces up to it and not at all after (RSS 105-106 MiB from
 * 256k to 512k pieces of 1 MiB bodies). Since readinto reads through a buffer of ours
 * (OWN_ROOM_MAX), its pieces after the first mostly go where Node reads next without a
 * move (direct-read.ts `offerOwn`).
 */
export const MAX_READ_SWITCHES = 256 * 1024;

/**
 * A request body of at most this many bytes is copied behind its head and sent in one
 * write; a larger one is written after the head without a copy (`small` for the single
 * write, `upload-buffer` against the copy).
 */
export const HEAD_AND_BODY_MAX = 16 * 1024;

/**
 * Bytes over TLS are written in pieces of at most this size, each after the socket took
 * the one before: Node encrypts all it is given in one write before it returns, so one
 * write of a 1 GiB body held the event loop for seconds (every timer stopped, the blocking
 * API's worker missed its heartbeat) and queued the whole ciphertext in memory. About a
 * millisecond of encryption per piece.
 */
export const TLS_WRITE_PIECE = 1024 * 1024;

/**
 * A result that is less than 1/SMALL_RESULT_FRACTION of the memory it is a view of is
 * copied, so that `read(10)` never keeps a 256 KiB block alive (DESIGN.md principle 3).
 * 8: `read(65536)` of a block (a quarter of it) stays a view (`1mib` read(65536)).
 */
export const SMALL_RESULT_FRACTION = 8;

/**
 * Backing stores up to this size are never the reason for a copy: Node's own pool
 * (`Buffer.poolSize`, 8 KiB) holds small buffers of every kind.
 */
export const POOLED_MAX = 8 * 1024;

/**
 * A chunk of a chunked request body up to this size is copied behind its size line and
 * written once; a bigger one is written after it, never copied (`upload-file`).
 */
export const COALESCE_MAX = 2048;

/**
 * Bytes of a file body read per system call (in `blocksize` pieces when the default
 * blocksize is used): one thread-pool round trip per 8 KiB would cap an upload far below
 * what the socket takes (`upload-file`).
 */
export const READ_AHEAD = 256 * 1024;

/**
 * read() and read(amt) of a body framed by Content-Length, wanting at least this many
 * bytes that have not arrived yet, get a Buffer of their own that the bytes are received
 * into (straight from the socket from OFFER_OWN_MIN; below it copied out of the socket's
 * own reads) instead of collecting views of blocks and joining them (`1mib`, `64mib`
 * read()). Smaller reads take views of the queue: cheaper than a buffer of their own.
 * 64 KiB rather than 256 KiB (`1mib`/`64mib` read(65536), paired 5 and 7 rounds: × 1.36/
 * 1.23 at 1 MiB, client CPU 250 vs 302 and 222 vs 280 µs, faults 2.6 vs 8.8; × 1.08/1.00
 * at 64 MiB; `rss-1gib` unchanged, 27 MiB).
 */
export const OWN_BUFFER_MIN = 64 * 1024;

/**
 * A read(amt) that gets its own Buffer has the socket read straight into it only from
 * this size, or when it reads to the body's end (read(), a last piece): below it the
 * socket reads up to a block's free end (256 KiB) and the piece is copied out, still in
 * the cache. A direct read costs a socket read of at most the piece, a move of the
 * socket's buffer (`useUserBuffer`) and a wake-up per piece.
 * Measured under cubic (no pacing), `read(65536)` loops, alternating standalone
 * processes: 1 MiB bodies 230-243 µs per body (CPU 146-155) against 297-343 (214-253),
 * 64 MiB bodies 15.2-16.1 against 17.8-18.4 ms. read() of a whole large body and
 * readinto() keep reading straight in: copied, they were slower (read() 279-290 against
 * 214-223 µs per 1 MiB body).
 */
export const OFFER_OWN_MIN = 256 * 1024;

/**
 * The memory rule for those buffers (DESIGN.md principle 3): a declared length is a
 * claim, not bytes in hand, so it never sizes an allocation by itself. The first buffer
 * is the body's size only up to BODY_BUFFER_FIRST (a 1 MiB body: one allocation, one
 * copy); past that, the buffer is replaced by one BODY_BUFFER_GROWTH times the bytes that
 * have arrived (never more than wanted), the bytes so far copied over. So a response
 * that declares 9 EB and sends 10 bytes costs 1 MiB, and at any moment the buffer is at
 * most max(BODY_BUFFER_FIRST, BODY_BUFFER_GROWTH × bytes arrived). Growth 4 rather than 2
 * (`64mib` read(), P14 notes): fewer, larger replacements, 16.5k page faults per 64 MiB
 * instead of 24.6k (a buffer of the whole size at once: 16.4k).
 */
export const BODY_BUFFER_FIRST = 1024 * 1024;
export const BODY_BUFFER_GROWTH = 4;

/** The size of read()'s own buffer for a read of `want` bytes when `arrived` are in hand. */
export function bodyBufferSize(want: number, arrived: number): number {
  return Math.min(want, Math.max(BODY_BUFFER_FIRST, BODY_BUFFER_GROWTH * arrived));
}

let largeBlocksKept = false;

/**
 * Once per process, before the first body is read into a Buffer of its own (read() here
 * and in the blocking API): let glibc keep large blocks in its heap.
 * The garbage collector frees the bodies a caller dropped in batches, and glibc (mmap
 * threshold 128 KiB, heap top trimmed past 2 × that) then gives new 1 MiB bodies fresh
 * pages from the kernel, and malloc grows and trims its heap again and again. glibc
 * raises both thresholds by itself when a block it had mapped is freed (mallopt(3),
 * "dynamic mmap threshold"), up to 32 MiB: one such block, never touched (so it costs
 * address space, not memory) and dropped here, does that when the collector frees it.
 * Blocking API (`1mib` read()): 725 µs of CPU and 201 faults per body before, 292 µs and
 * 1.2 faults after. Main entry (`1mib` read(), paired with 2a8b642, 7 rounds): 481 µs and
 * 8.8 faults before, 343 µs and 1.4 after; `rss-1gib` unchanged (21 vs 25 MiB).
 * The process may then keep up to about 64 MiB of freed heap instead of returning it at
 * once, as after any large Buffer it frees; other allocators ignore the untouched block.
 */
export function keepLargeBlocks(): void {
  if (largeBlocksKept) return;
  largeBlocksKept = true;
  // 32 MiB is glibc's ceiling for the dynamic threshold (a block of up to 32 MiB, header
  // and page rounding included, counts).
  Buffer.allocUnsafeSlow(32 * 1024 * 1024 - 64 * 1024);
}
