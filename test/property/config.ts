/**
 * fast-check settings shared by the property tests: a fixed seed (so CI is repeatable)
 * that `FC_SEED` overrides, run counts scaled by `FC_RUNS_SCALE` (e.g. `10` for a longer
 * local run), and failures reported with the command line that replays them.
 */
import fc from 'fast-check';

/** The default seed: any fixed number; change it only on purpose. */
const DEFAULT_SEED = 20260611;

export const SEED = process.env.FC_SEED === undefined ? DEFAULT_SEED : Number(process.env.FC_SEED);
const SCALE = process.env.FC_RUNS_SCALE === undefined ? 1 : Number(process.env.FC_RUNS_SCALE);

export function params(numRuns: number): fc.Parameters<unknown> {
  return { seed: SEED, numRuns: Math.max(1, Math.round(numRuns * SCALE)) };
}

function replayHint(file: string, err: unknown): Error {
  const hint =
    `property failed with FC_SEED=${SEED} (replay: FC_SEED=${SEED} ` +
    `node scripts/run-tests.mjs ${file}); fast-check's report follows`;
  return new Error(`${hint}\n${err instanceof Error ? err.message : String(err)}`, {
    cause: err,
  });
}

/** `fc.assert` with this file's settings; a failure names the seed that replays it. */
export function check<T>(file: string, property: fc.IProperty<T>, numRuns: number): void {
  try {
    fc.assert(property, params(numRuns) as fc.Parameters<T>);
  } catch (err) {
    throw replayHint(file, err);
  }
}

/** The async form of `check`. */
export async function checkAsync<T>(
  file: string,
  property: fc.IAsyncProperty<T>,
  numRuns: number,
): Promise<void> {
  try {
    await fc.assert(property, params(numRuns) as fc.Parameters<T>);
  } catch (err) {
    throw replayHint(file, err);
  }
}
