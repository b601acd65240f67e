/**
 * Counts a socket's moves of its reads: calls of its handle's `useUserBuffer()`, each of
 * which leaves Node a listener until the socket closes (io/tuning.ts MAX_READ_SWITCHES).
 * The count starts when this is called.
 */
export function countMoves(socket: unknown): () => number {
  const handle = (socket as { _handle: { useUserBuffer(b: Uint8Array): void } })._handle;
  let moves = 0;
  const useUserBuffer = handle.useUserBuffer;
  handle.useUserBuffer = function (this: unknown, b: Uint8Array) {
    moves++;
    return useUserBuffer.call(this, b);
  };
  return () => moves;
}
