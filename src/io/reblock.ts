/**
 * Re-cutting a stream of Buffers into pieces of one size: how an explicit `blocksize`
 * is honoured for stream bodies (body-source.ts). This file must not touch sockets or
 * clocks.
 */

/**
 * `pieces` cut into pieces of exactly `size` bytes, the last one shorter (Python 3 sends
 * `read(blocksize)` of a file per write). A piece that spans two source pieces is a copy;
 * the others are views of the source's Buffers, which nothing writes into afterwards.
 */
export async function* reblock(
  pieces: AsyncIterable<Buffer>,
  size: number,
): AsyncGenerator<Buffer, void, undefined> {
  let held: Buffer[] = [];
  let heldLength = 0;
  for await (const piece of pieces) {
    let at = 0;
    if (heldLength > 0) {
      at = Math.min(size - heldLength, piece.length);
      held.push(piece.subarray(0, at));
      heldLength += at;
      if (heldLength < size) continue;
      yield Buffer.concat(held, heldLength);
      held = [];
      heldLength = 0;
    }
    for (; piece.length - at >= size; at += size) yield piece.subarray(at, at + size);
    if (at < piece.length) {
      held = [piece.subarray(at)];
      heldLength = piece.length - at;
    }
  }
  if (heldLength > 0) yield Buffer.concat(held, heldLength);
}
