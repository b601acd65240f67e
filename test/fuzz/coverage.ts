/**
 * Code coverage for the fuzz target, from V8's own block coverage (the inspector's
 * `Profiler.takePreciseCoverage`, the data behind NODE_V8_COVERAGE): no instrumentation
 * and no native fuzzer needed.
 *
 * `measure(run)` resets the counters, runs one case and returns its result and features:
 * every executed block range of a src/ file, with its count bucketed as AFL does (1, 2,
 * 3, 4-7, 8-15, …), so an input that runs a loop a new number of times counts as new.
 * `summary()` reports, per src/protocol file, how many of the block ranges V8 has seen
 * were ever executed (functions never compiled are not seen, so this is an upper bound).
 *
 * One measured case costs about 2 ms, ten times an unmeasured one: the fuzzer measures
 * a fraction of its cases.
 */
import { Session } from 'node:inspector';

interface Range {
  startOffset: number;
  endOffset: number;
  count: number;
}
interface ScriptCoverage {
  url: string;
  functions: Array<{ ranges: Range[] }>;
}

/** 1, 2, 3, then one bucket per power of two (4-7, 8-15, …). */
function bucket(n: number): number {
  if (n <= 3) return n;
  return 2 + (31 - Math.clz32(n));
}

export class Coverage {
  private readonly session = new Session();
  /** Every range seen (any count), and the executed ones, per file: `start:end`. */
  private readonly seen = new Map<string, Set<string>>();
  private readonly hit = new Map<string, Set<string>>();

  constructor() {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  private post(method: string, params: object = {}): unknown {
    let result: unknown;
    let error: Error | null = null;
    // A same-thread session answers synchronously.
    this.session.post(method, params, (err, res) => {
      error = err;
      result = res;
    });
    if (error !== null) throw error;
    return result;
  }

  private take(): ScriptCoverage[] {
    return (this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] }).result;
  }

  /** Run `run` and return its result and its coverage features (src/ files only). */
  measure<T>(run: () => T): [T, string[]] {
    this.take();
    const result = run();
    const features: string[] = [];
    for (const script of this.take()) {
      const at = script.url.indexOf('/src/');
      if (at === -1 || script.url.includes('node_modules')) continue;
      const file = script.url.slice(at + 1);
      let seen = this.seen.get(file);
      let hit = this.hit.get(file);
      if (seen === undefined || hit === undefined) {
        seen = new Set();
        hit = new Set();
        this.seen.set(file, seen);
        this.hit.set(file, hit);
      }
      for (const fn of script.functions) {
        for (const r of fn.ranges) {
          const key = `${r.startOffset}:${r.endOffset}`;
          seen.add(key);
          if (r.count > 0) {
            hit.add(key);
            features.push(`${file}|${key}|${bucket(r.count)}`);
          }
        }
      }
    }
    return [result, features];
  }

  /** `file: executed/seen block ranges` for the files under src/protocol/. */
  summary(): string[] {
    const out: string[] = [];
    for (const [file, seen] of [...this.seen].sort()) {
      if (!file.startsWith('src/protocol/')) continue;
      const hit = this.hit.get(file)?.size ?? 0;
      out.push(`${file}: ${hit}/${seen.size} block ranges executed`);
    }
    return out;
  }

  close(): void {
    this.session.disconnect();
  }
}
