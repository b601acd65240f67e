/**
 * The ways a caller reads a whole body, each returning how many bytes it got: for tests
 * that must hold whichever way the body is read.
 */
import type { HTTPResponse } from '../../src/index.ts';

export const WHOLE_BODY_READS: ReadonlyArray<
  readonly [string, (r: HTTPResponse) => Promise<number>]
> = [
  ['read()', async (r) => (await r.read()).length],
  [
    'read(65536) loop',
    async (r) => {
      let total = 0;
      for (let b = await r.read(65536); b.length > 0; b = await r.read(65536)) total += b.length;
      return total;
    },
  ],
  [
    'readinto(50,000) loop',
    async (r) => {
      const target = Buffer.alloc(50_000);
      let total = 0;
      for (let n = await r.readinto(target); n > 0; n = await r.readinto(target)) total += n;
      return total;
    },
  ],
  [
    'for await',
    async (r) => {
      let total = 0;
      for await (const chunk of r) total += chunk.length;
      return total;
    },
  ],
];
