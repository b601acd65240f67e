/**
 * The search of the response-parser fuzz target, run in a worker thread by
 * response-parser.fuzz.ts (through worker-boot.mjs, which registers tsx first).
 *
 * Each case comes from a fast-check plan: a seed, corpus or pool input mutated
 * (mutations.ts), two inputs spliced, or a response from the valid-response model
 * (mutated, or as it is, then checked against the model). Every case runs the pure
 * oracles (oracles.ts); every `clientEvery`th also the client differential, every
 * `llhttpEvery`th the llhttp differential, every `coverageEvery`th is measured for
 * coverage (coverage.ts). Before running a case, the worker copies it to shared memory
 * and bumps a counter, so the main thread can save the case of a hang or a crash.
 * Findings and inputs with a new outcome shape are minimised and posted to the main
 * thread, which writes the corpus.
 */

import { isDeepStrictEqual } from 'node:util';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import type { PureOutcome } from '../property/drive.ts';
import { mutateAll, mutationArb } from '../property/mutations.ts';
import { expected, readOptions, serialize } from '../property/response-expect.ts';
import { specArb } from '../property/response-model.ts';
import { Coverage } from './coverage.ts';
import {
  type CaseInput,
  type CorpusEntry,
  checkClient,
  checkLlhttp,
  checkPure,
  findingKey,
  minimise,
  outcomeClass,
  signature,
} from './oracles.ts';
import { SEEDS } from './seeds.ts';

export interface WorkerInit {
  seed: number;
  clientEvery: number;
  llhttpEvery: number;
  coverageEvery: number;
  shared: SharedArrayBuffer;
  known: string[];
  extra: Array<{ bytes: Uint8Array; method: string }>;
}

export type FromWorker =
  | {
      type: 'progress';
      execs: number;
      clientExecs: number;
      llhttpExecs: number;
      signatures: number;
      heapMb: number;
      features: number;
      coverageKept: number;
      coverage: string[];
    }
  | {
      type: 'keep';
      entry: Omit<CorpusEntry, 'file' | 'expect'> & { bytes: Uint8Array; expect: string };
    };

/** Methods as indices in the shared memory (the watchdog's copy of the current case). */
export const METHODS = ['GET', 'HEAD', 'POST', 'CONNECT'];

/** An input to mutate, with the method it is read with. */
interface PoolInput {
  bytes: Buffer;
  method: string;
}

async function work(init: WorkerInit): Promise<void> {
  const port = parentPort;
  if (port === null) return;
  const meta = new Int32Array(init.shared, 0, 8);
  const data = new Uint8Array(init.shared, 32);
  let stop = false;
  port.on('message', (m: { type: string }) => {
    if (m.type === 'stop') stop = true;
  });
  const seen = new Set(init.known);
  const pool: PoolInput[] = [
    ...SEEDS.map((s) => ({ bytes: Buffer.from(s.text, 'latin1'), method: s.method ?? 'GET' })),
    ...init.extra.map((e) => ({ bytes: Buffer.from(e.bytes), method: e.method })),
  ];
  /** Executed src/ block ranges, without hit counts: a new one goes to the corpus. */
  const blocks = new Set<string>();
  const learn = (got: string[]): { fresh: boolean; newBlock: boolean } => {
    let fresh = false;
    let newBlock = false;
    for (const f of got) {
      if (features.has(f)) continue;
      features.add(f);
      fresh = true;
      const block = f.slice(0, f.lastIndexOf('|'));
      if (!blocks.has(block)) {
        blocks.add(block);
        newBlock = true;
      }
    }
    return { fresh, newBlock };
  };
  let execs = 0;
  let clientExecs = 0;
  let llhttpExecs = 0;
  const coverage = init.coverageEvery > 0 ? new Coverage() : null;
  const features = new Set<string>();
  let coverageKept = 0;
  /** Inputs kept for new coverage stay in memory only, and only small ones. */
  const POOL_INPUT_MAX = 16 * 1024;
  const POOL_MAX = 20_000;
  /** Inputs kept in the committed corpus for new coverage: small ones only. */
  const CORPUS_INPUT_MAX = 4096;

  const plan = fc.record({
    source: fc.oneof(
      { weight: 5, arbitrary: fc.constant('pool' as const) },
      { weight: 4, arbitrary: fc.constant('model' as const) },
      { weight: 1, arbitrary: fc.constant('valid' as const) },
      { weight: 1, arbitrary: fc.constant('splice' as const) },
    ),
    pick: fc.nat(),
    other: fc.nat(),
    spec: specArb,
    mutations: fc.array(mutationArb, { minLength: 1, maxLength: 6 }),
    cuts: fc.array(fc.nat(), { maxLength: 6 }),
    eof: fc.boolean(),
    method: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, fc.constantFrom(...METHODS)),
    strict: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, fc.constant(true)),
  });

  const share = (c: CaseInput): void => {
    const n = Math.min(c.bytes.length, data.length);
    data.set(c.bytes.subarray(0, n), 0);
    meta[1] = n;
    meta[2] = METHODS.indexOf(c.method);
    meta[3] = c.eof ? 1 : 0;
    meta[4] = c.strict ? 1 : 0;
    Atomics.add(meta, 0, 1);
  };

  /** Sends `c` to the main thread for the committed corpus. */
  const post = (c: CaseInput, outcome: PureOutcome, sig: string, found: string | null): void => {
    const entry = {
      method: c.method,
      strict: c.strict,
      eof: c.eof,
      expect: outcomeClass(outcome),
      signature: sig,
      bytes: new Uint8Array(c.bytes),
      ...(found === null ? {} : { found }),
    };
    port.postMessage({ type: 'keep', entry } satisfies FromWorker);
  };

  const keep = (
    c: CaseInput,
    outcome: PureOutcome,
    found: string | null,
    cuts: readonly number[],
  ): void => {
    const sig = found ?? signature(outcome);
    const kind = found === null ? null : found.slice(0, found.indexOf(':'));
    // Minimise while the same finding (or the same outcome shape) persists.
    const still = (b: Buffer): boolean => {
      share({ ...c, bytes: b });
      const r = checkPure({ ...c, bytes: b }, cuts);
      if (kind === null) return r.findings.length === 0 && signature(r.outcome) === sig;
      return r.findings.some((f) => f.startsWith(`${kind}:`));
    };
    const shrinkable = kind === null || ['exception', 'invariant', 'split', 'slow'].includes(kind);
    const small = shrinkable ? minimise(c, still, found === null ? 1500 : 6000) : c.bytes;
    const final = checkPure({ ...c, bytes: small }, cuts);
    post(
      { ...c, bytes: small },
      final.outcome,
      found === null ? sig : signature(final.outcome),
      found,
    );
    pool.push({ bytes: small, method: c.method });
  };

  /** Counts so far; `summary`: the coverage summary (sent with the last report only). */
  const progress = (summary: string[]): void => {
    port.postMessage({
      type: 'progress',
      execs,
      clientExecs,
      llhttpExecs,
      signatures: seen.size,
      heapMb: Math.round(process.memoryUsage().heapUsed / 1e6),
      features: features.size,
      coverageKept,
      coverage: summary,
    } satisfies FromWorker);
  };

  if (coverage !== null) {
    // Start from what the seeds and the committed corpus already cover.
    for (const input of pool) {
      const c: CaseInput = { bytes: input.bytes, method: input.method, strict: false, eof: true };
      share(c);
      learn(coverage.measure(() => checkPure(c, [c.bytes.length >> 1]))[1]);
    }
  }
  let lastReport = 0;
  for (let batch = 0; !stop; batch++) {
    const cases = fc.sample(plan, { seed: init.seed + batch, numRuns: 200 });
    for (const p of cases) {
      if (stop) break;
      let bytes: Buffer;
      let method = p.method;
      let strict = p.strict;
      let eof = p.eof;
      let model: ReturnType<typeof expected> | null = null;
      switch (p.source) {
        case 'pool': {
          const base = pool[p.pick % pool.length] as PoolInput;
          bytes = mutateAll(base.bytes, p.mutations);
          method ??= base.method;
          break;
        }
        case 'splice': {
          const a = pool[p.pick % pool.length] as PoolInput;
          const b = pool[p.other % pool.length] as PoolInput;
          const cut = (x: Buffer, k: number): number => (x.length === 0 ? 0 : k % x.length);
          bytes = Buffer.concat([
            a.bytes.subarray(0, cut(a.bytes, p.other)),
            b.bytes.subarray(cut(b.bytes, p.pick)),
          ]);
          method ??= a.method;
          break;
        }
        case 'model':
        case 'valid': {
          const s = serialize(p.spec);
          ({ method, strict } = readOptions(p.spec));
          if (p.source === 'valid') {
            bytes = s.bytes;
            eof = s.eof;
            model = expected(p.spec);
          } else {
            bytes = mutateAll(s.bytes, p.mutations);
          }
          break;
        }
      }
      const c: CaseInput = { bytes, method: method ?? 'GET', strict, eof };
      share(c);
      let r: ReturnType<typeof checkPure>;
      if (coverage !== null && execs % init.coverageEvery === 0) {
        let got: string[];
        [r, got] = coverage.measure(() => checkPure(c, p.cuts));
        const { fresh, newBlock } = learn(got);
        if (fresh && c.bytes.length <= POOL_INPUT_MAX && pool.length < POOL_MAX) {
          pool.push({ bytes: c.bytes, method: c.method });
          coverageKept++;
        }
        if (newBlock && c.bytes.length <= CORPUS_INPUT_MAX && r.findings.length === 0) {
          // A block no kept input runs: the committed corpus gets it, as it is.
          post(c, r.outcome, `coverage: ${signature(r.outcome)}`, null);
        }
      } else {
        r = checkPure(c, p.cuts);
      }
      execs++;
      if (model !== null) {
        const o = r.outcome;
        const ok =
          'error' in model
            ? o.errorClass === model.error
            : o.errorClass === undefined &&
              o.incomplete === undefined &&
              o.status === model.status &&
              o.body === model.body &&
              o.framing === model.framing &&
              o.will_close === model.will_close &&
              isDeepStrictEqual(o.lines, model.lines);
        if (!ok) r.findings.push(`model: got ${signature(o)}`);
      }
      if (init.clientEvery > 0 && execs % init.clientEvery === 0) {
        r.findings.push(...(await checkClient(c, p.cuts, r.outcome)));
        clientExecs++;
      }
      if (init.llhttpEvery > 0 && execs % init.llhttpEvery === 0) {
        r.findings.push(...(await checkLlhttp(c, p.cuts, r.outcome)));
        llhttpExecs++;
      }
      for (const f of r.findings) {
        const key = findingKey(f);
        if (seen.has(key)) continue;
        seen.add(key);
        keep(c, r.outcome, f, p.cuts);
      }
      if (r.findings.length === 0) {
        const sig = signature(r.outcome);
        if (!seen.has(sig)) {
          seen.add(sig);
          keep(c, r.outcome, null, p.cuts);
        }
      }
      const now = Date.now();
      if (now - lastReport > 1000) {
        lastReport = now;
        progress([]);
        // Let the 'stop' message in.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }
  progress(coverage?.summary() ?? []);
  coverage?.close();
  port.close();
}

if (!isMainThread) await work(workerData as WorkerInit);
