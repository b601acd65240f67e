/**
 * Fuzz target for the response side (issue 6, item 3): `npm run fuzz -- --minutes 10`.
 *
 * Jazzer.js, the npm libFuzzer port, is out: its prebuilt binary needs glibc 2.38, and
 * older releases download binaries at install, which `npm ci` here cannot. Instead, a
 * long fast-check-driven run mutates seeds (seeds.ts: llhttp/curl/Go/CPython-style
 * cases), the committed corpus and responses from the valid-response model, guided two
 * ways: by coverage (coverage.ts: V8's block coverage of src/, measured on every
 * `--coverage-every`th case; an input that executes a new block, or a block a new
 * number of times, joins the pool of inputs to mutate), and by behaviour (an input that
 * reaches an outcome not seen before, as error class and message shape, framing and
 * verdict, is minimised and kept in the committed corpus).
 *
 * Oracles for every case, on the pure core (drive.ts): the exception is one of the
 * core's classes; the resource invariants hold (no accepted run of more than MAXLINE
 * bytes without LF, decode() progresses, at most MAXHEADERS lines kept); a random split
 * and (for small inputs) byte-by-byte feeding give the same outcome as the whole input;
 * a case takes less than a time cap. Unmutated model responses must give the modelled
 * outcome. Every `--client-every` cases, the same bytes also go through HTTPConnection
 * over an in-memory socket: it must settle with a value or HTTPException/TypeError/
 * TimeoutError and agree with the core's verdict.
 *
 * The search (worker.ts) runs in a worker thread; this main thread keeps the time
 * budget, writes the corpus and watches the worker: a worker that stops
 * making progress (a hang: the core is synchronous) is terminated and the case it was
 * running (kept in shared memory) is saved, as is the case of a worker that dies
 * (exception, out of memory: the worker has a heap limit).
 *
 * Output: each finding (minimised) and each input with a new outcome is written to
 * test/fixtures/fuzz-corpus/ (`<sha1>.bin` plus `index.json` with the outcome class),
 * which test/property/fuzz-corpus.test.ts replays in `npm test`.
 *
 * Every `--llhttp-every` cases, node:http's client (llhttp, strict) parses the same bytes:
 * where both accept the response, status and body must agree.
 *
 * Options: --minutes N (default 1), --seed N, --client-every N (default 16),
 * --llhttp-every N (default 8), --coverage-every N (default 10; 0: off),
 * --no-save, --update-corpus (recompute every corpus entry's outcome and exit).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { drivePure } from '../property/drive.ts';
import {
  CORPUS_DIR,
  type CorpusEntry,
  corpusBytes,
  findingKey,
  INDEX,
  loadCorpus,
  outcomeClass,
  signature,
} from './oracles.ts';
import { SEEDS } from './seeds.ts';
import { type FromWorker, METHODS, type WorkerInit } from './worker.ts';

/** Biggest case kept in shared memory for the watchdog. */
const SHARED_MAX = 4 * 1024 * 1024;

/** The worker is declared hung after this long without progress. */
const STALL_MS = 15_000;

function saveEntry(
  corpus: CorpusEntry[],
  e: Omit<CorpusEntry, 'file'> & { bytes: Uint8Array },
): CorpusEntry {
  const bytes = Buffer.from(e.bytes);
  const file = `${createHash('sha1').update(bytes).update(`${e.method}|${e.strict}|${e.eof}`).digest('hex').slice(0, 12)}.bin`;
  const { bytes: _b, ...rest } = e;
  const entry: CorpusEntry = { file, ...rest };
  if (!corpus.some((x) => x.file === file)) {
    mkdirSync(CORPUS_DIR, { recursive: true });
    writeFileSync(new URL(file, CORPUS_DIR), bytes);
    corpus.push(entry);
  }
  return entry;
}

function writeIndex(corpus: CorpusEntry[]): void {
  mkdirSync(CORPUS_DIR, { recursive: true });
  corpus.sort(
    (a, b) =>
      (a.found ?? '~').localeCompare(b.found ?? '~') ||
      a.signature.localeCompare(b.signature) ||
      a.file.localeCompare(b.file),
  );
  writeFileSync(INDEX, `${JSON.stringify(corpus, null, 1)}\n`);
}

/**
 * Recompute every entry's outcome, and keep only the smallest input of each outcome
 * shape (entries that record a finding are all kept).
 */
function updateCorpus(): void {
  const corpus = loadCorpus();
  const best = new Map<string, CorpusEntry>();
  const keep: CorpusEntry[] = [];
  for (const e of corpus) {
    const bytes = corpusBytes(e);
    const out = drivePure([bytes], { method: e.method, strict: e.strict }, e.eof).outcome;
    e.expect = outcomeClass(out);
    e.signature = signature(out);
    if (e.found !== undefined) {
      keep.push(e);
      continue;
    }
    const other = best.get(e.signature);
    if (other === undefined || bytes.length < corpusBytes(other).length) best.set(e.signature, e);
  }
  keep.push(...best.values());
  for (const e of corpus) {
    if (!keep.includes(e)) rmSync(new URL(e.file, CORPUS_DIR));
  }
  writeIndex(keep);
  console.log(`fuzz: ${corpus.length} corpus entries updated, ${keep.length} kept`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '1' },
      seed: { type: 'string' },
      'client-every': { type: 'string', default: '16' },
      'llhttp-every': { type: 'string', default: '8' },
      'coverage-every': { type: 'string', default: '10' },
      'no-save': { type: 'boolean', default: false },
      'update-corpus': { type: 'boolean', default: false },
    },
  });
  if (values['update-corpus']) {
    updateCorpus();
    return;
  }
  const budgetMs = Number(values.minutes) * 60_000;
  let seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
  const clientEvery = Number(values['client-every']);
  const llhttpEvery = Number(values['llhttp-every']);
  const coverageEvery = Number(values['coverage-every']);
  const save = !values['no-save'];
  const corpus = loadCorpus();
  const started = Date.now();
  console.log(
    `fuzz: response parser, ${values.minutes} min, seed ${seed}, ${SEEDS.length} seeds + ${corpus.length} corpus entries, ` +
      `client every ${clientEvery} cases, llhttp every ${llhttpEvery}, coverage every ${coverageEvery}, started ${new Date(started).toISOString()}`,
  );
  const found: CorpusEntry[] = [];
  let newEntries = 0;
  let totalExecs = 0;
  let totalClient = 0;
  let totalLlhttp = 0;
  let features = 0;
  let coverageKept = 0;
  let coverageSummary: string[] = [];
  let signatures = 0;
  let peakHeap = 0;
  let restarts = 0;
  let lastPrint = 0;

  const runWorker = (): Promise<'done' | 'restart'> =>
    new Promise((resolve) => {
      const shared = new SharedArrayBuffer(32 + SHARED_MAX);
      const meta = new Int32Array(shared, 0, 8);
      const init: WorkerInit = {
        seed,
        clientEvery,
        llhttpEvery,
        coverageEvery,
        shared,
        known: corpus.map((e) => (e.found === undefined ? e.signature : findingKey(e.found))),
        extra: corpus.map((e) => ({ bytes: new Uint8Array(corpusBytes(e)), method: e.method })),
      };
      // worker-boot.mjs registers tsx in the worker, then loads worker.ts.
      const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
        workerData: init,
        resourceLimits: { maxOldGenerationSizeMb: 1024 },
      });
      const execsAtStart = totalExecs;
      const clientAtStart = totalClient;
      const llhttpAtStart = totalLlhttp;
      const keptAtStart = coverageKept;
      let lastCount = -1;
      let lastChange = Date.now();
      let settled = false;
      const finish = (how: 'done' | 'restart'): void => {
        if (settled) return;
        settled = true;
        clearInterval(watch);
        clearTimeout(budget);
        resolve(how);
      };
      const saveShared = (why: string): void => {
        const n = Atomics.load(meta, 1);
        const bytes = new Uint8Array(shared, 32, n).slice();
        const entry = saveEntry(corpus, {
          method: METHODS[Atomics.load(meta, 2)] ?? 'GET',
          strict: Atomics.load(meta, 4) === 1,
          eof: Atomics.load(meta, 3) === 1,
          expect: 'crash',
          signature: why,
          found: why,
          bytes,
        });
        found.push(entry);
        console.log(`fuzz: FOUND ${why} -> ${entry.file}`);
      };
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'progress') {
          totalExecs = execsAtStart + m.execs;
          totalClient = clientAtStart + m.clientExecs;
          totalLlhttp = llhttpAtStart + m.llhttpExecs;
          signatures = Math.max(signatures, m.signatures);
          peakHeap = Math.max(peakHeap, m.heapMb);
          features = Math.max(features, m.features);
          coverageKept = keptAtStart + m.coverageKept;
          if (m.coverage.length > 0) coverageSummary = m.coverage;
        } else {
          const entry = save ? saveEntry(corpus, m.entry) : { ...m.entry, file: '(not saved)' };
          if (m.entry.found !== undefined) {
            found.push(entry as CorpusEntry);
            console.log(
              `fuzz: FOUND ${m.entry.found} (${m.entry.bytes.length} bytes after minimising) -> ${entry.file}`,
            );
          } else {
            newEntries++;
          }
        }
      });
      worker.on('error', (err) => {
        if (Atomics.load(meta, 0) === 0) {
          console.error('fuzz: the worker failed before running a case:', err);
          process.exit(2);
        }
        saveShared(`worker died: ${err.name}: ${err.message.slice(0, 200)}`);
        restarts++;
        finish('restart');
      });
      worker.on('exit', () => finish('done'));
      const watch = setInterval(() => {
        const count = Atomics.load(meta, 0);
        if (count !== lastCount) {
          lastCount = count;
          lastChange = Date.now();
        } else if (Date.now() - lastChange > STALL_MS) {
          saveShared(`hang: no progress for ${STALL_MS / 1000} s`);
          restarts++;
          void worker.terminate();
          finish('restart');
        }
        const elapsed = (Date.now() - started) / 1000;
        if (elapsed - lastPrint >= 60) {
          lastPrint = elapsed;
          console.log(
            `fuzz: ${elapsed.toFixed(0)} s, ${totalExecs} cases (${(totalExecs / elapsed).toFixed(0)}/s), ${signatures} outcome shapes, ${features} coverage features, ${found.length} findings, heap ${peakHeap} MB`,
          );
        }
      }, 1000);
      const left = budgetMs - (Date.now() - started);
      const budget = setTimeout(() => worker.postMessage({ type: 'stop' }), Math.max(0, left));
    });

  while (Date.now() - started < budgetMs) {
    const how = await runWorker();
    if (how === 'done') break;
    seed += 7919;
  }
  if (save) writeIndex(corpus);
  const seconds = (Date.now() - started) / 1000;
  console.log(`fuzz: finished ${new Date().toISOString()} after ${seconds.toFixed(0)} s`);
  console.log(
    `fuzz: ${totalExecs} cases (${(totalExecs / seconds).toFixed(0)}/s), ${totalClient} also through the client, ${totalLlhttp} also through llhttp`,
  );
  console.log(
    `fuzz: ${signatures} distinct outcome shapes and findings, ${newEntries} new corpus inputs, worker restarts ${restarts}, peak heap ${peakHeap} MB`,
  );
  console.log(
    `fuzz: coverage guidance: ${features} features (src/ block ranges x hit-count buckets), ${coverageKept} inputs kept for new coverage`,
  );
  for (const line of coverageSummary) console.log(`fuzz: coverage ${line}`);
  console.log(`fuzz: ${found.length} findings${found.length > 0 ? ':' : ''}`);
  for (const f of found) console.log(`  ${f.file}  ${f.found}`);
  if (save) console.log(`fuzz: corpus ${corpus.length} entries in test/fixtures/fuzz-corpus/`);
  process.exitCode = found.length > 0 ? 1 : 0;
}

await main();
