/**
 * Counts a socket's moves of its reads: calls of its handle's `useUserBuffer()`, each of
 * which leaves Node a listener until the socket closes (io/tuning.ts MAX_READ_SWITCHES)
 * and makes the socket read into the memory it is given. `seen`, when given, is called
 * with that memory. The count starts when this is called.
 */
export function countMoves(socket: unknown, seen?: (memory: Uint8Array) => void): () => number {
  const handle = (socket as { _handle: { useUserBuffer(b: Uint8Array): void } })._handle;
  let moves = 0;
  const useUserBuffer = handle.useUserBuffer;
  handle.useUserBuffer = function (this: unknown, b: Uint8Array) {
    moves++;
    seen?.(b);
    return useUserBuffer.call(this, b);
  };
  return () => moves;
}
