/**
 * `npm run bench`: runs the scenarios of bench/scenarios.ts against bench/server.ts and
 * prints one markdown table per scenario; writes the results as JSON (and markdown) to
 * bench/results/. See bench/README.md.
 *
 * Every measurement is a fresh client process (bench/client.ts, or bench/py_client.py for
 * CPython) with an untimed warm-up; the server is a separate process. Both are pinned with
 * taskset when it is there: `--layout same` puts them on one CPU (isolates CPU cost, the
 * stable figure), `split` on two (adds cross-CPU wake-ups, closer to a network). Each round
 * runs every row of a scenario, in an order rotated from round to round; the tables give
 * medians over the rounds, and each ratio is the median of the ratios taken within a round.
 *
 * The TypeScript of src/ and of the client and server is compiled to JavaScript first
 * (typescript's transpileModule, the same output as `tsc`), into .tmp/bench/, so that the
 * measured processes run plain `node` without a loader.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { ClientResult, ClientSpec } from './client.ts';
import { REFERENCES, type Row, type RowClient, SCENARIOS, type Scenario } from './scenarios.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------
// Options

interface Options {
  quick: boolean;
  rounds: number;
  layout: 'same' | 'split' | 'none';
  scenarios: string[] | null;
  clients: string[] | null;
  bare: boolean;
  json: string;
  python: string;
  /** Measure src/ as committed at this git revision instead of the working tree. */
  ref: string | null;
  /**
   * Also measure src/ as committed at this revision, as extra httplib-ts rows in the same
   * rounds (a paired before/after: the `× @rev` column).
   */
  vs: string | null;
  list: boolean;
}

const USAGE = `usage: npm run bench -- [options]
  --quick              a few requests per row, 1 round (a smoke test; the numbers mean nothing)
  --rounds N           rounds per scenario (default 5; 1 with --quick)
  --layout L           same (default): server and client pinned to one CPU;
                       split: server on one CPU, client on another; none: no pinning
  --scenario a,b       only these scenarios (ids: ${SCENARIOS.map((s) => s.id).join(', ')})
  --client a,b         only these rows, by client (httplib, httplib-sync, node-http,
                       undici-request, undici-dispatch, python, raw, raw-onread) or row id
                       (httplib:amt);
                       the reference rows (raw, raw-onread, undici-request) stay in
  --bare               with --client: leave the reference rows out too
  --json PATH          where to write the results (default bench/results/latest.json;
                       bench/results/quick.json with --quick)
  --python CMD         the Python 3 to run (default python3)
  --ref REV            measure src/ as committed at git revision REV (e.g. a "before"
                       commit) instead of the working tree; bench/ is always the working tree
  --vs REV             also measure src/ as committed at REV, as extra httplib-ts rows
                       ("@REV", main entry and blocking API) in the same rounds: a paired
                       before/after (column × @REV)
  --list               list the scenarios and their rows, and exit`;

function parseOptions(argv: string[]): Options {
  const opts: Options = {
    quick: false,
    rounds: 0,
    layout: 'same',
    scenarios: null,
    clients: null,
    bare: false,
    json: '',
    python: 'python3',
    ref: null,
    vs: null,
    list: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/) : [arg];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${name} needs a value\n${USAGE}`);
      return v;
    };
    switch (name) {
      case '--quick':
        opts.quick = true;
        break;
      case '--rounds':
        opts.rounds = Number(value());
        if (!Number.isInteger(opts.rounds) || opts.rounds < 1) throw new Error('bad --rounds');
        break;
      case '--layout': {
        const v = value();
        if (v !== 'same' && v !== 'split' && v !== 'none') throw new Error(`bad --layout ${v}`);
        opts.layout = v;
        break;
      }
      case '--scenario':
        opts.scenarios = value().split(',').filter(Boolean);
        break;
      case '--client':
        opts.clients = value().split(',').filter(Boolean);
        break;
      case '--bare':
        opts.bare = true;
        break;
      case '--json':
        opts.json = value();
        break;
      case '--python':
        opts.python = value();
        break;
      case '--ref':
        opts.ref = value();
        break;
      case '--vs':
        opts.vs = value();
        break;
      case '--list':
        opts.list = true;
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${arg}\n${USAGE}`);
    }
  }
  if (opts.rounds === 0) opts.rounds = opts.quick ? 1 : 5;
  if (opts.json === '') {
    opts.json = join(ROOT, 'bench', 'results', opts.quick ? 'quick.json' : 'latest.json');
  }
  for (const id of opts.scenarios ?? []) {
    if (!SCENARIOS.some((s) => s.id === id)) throw new Error(`unknown scenario ${id}\n${USAGE}`);
  }
  return opts;
}

function selectRows(scenario: Scenario, opts: Options, vsName: string | null): Row[] {
  let rows = scenario.rows;
  if (opts.clients !== null) {
    const wanted = opts.clients;
    // curl is the command line's reference row.
    const refs = new Set<string>([...Object.values(REFERENCES), 'curl']);
    rows = rows.filter(
      (r) =>
        wanted.includes(r.client) || wanted.includes(r.id) || (!opts.bare && refs.has(r.client)),
    );
  }
  if (vsName === null) return rows;
  // The same httplib-ts rows (main entry and blocking API) again, built from the --vs
  // revision, in the same rounds.
  const again = rows
    .filter((r) => r.client === 'httplib' || r.client === 'httplib-sync')
    .map(
      (r): Row => ({
        ...r,
        id: `${r.client}@vs:${r.mode}`,
        label: `${r.label} @${vsName}`,
        vs: true,
      }),
    );
  return [...rows, ...again];
}

// ---------------------------------------------------------------------------------------
// Machine, pinning, build

interface Machine {
  /** The --vs revision (short hash), when given. */
  vs?: string;
  cpuModel: string;
  cpus: number;
  os: string;
  memoryGiB: number;
  node: string;
  undici: string;
  python: string | null;
  /** The kernel's TCP congestion control (e.g. bbr, which paces its sends with a timer). */
  tcpCongestion: string | null;
  commit: string;
  date: string;
}

function tryRun(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: ROOT });
  return r.status === 0 ? r.stdout.trim() : null;
}

function machineInfo(opts: Options): Machine {
  const cpus = os.cpus();
  const undiciPkg = JSON.parse(
    readFileSync(join(ROOT, 'node_modules', 'undici', 'package.json'), 'utf8'),
  ) as { version: string };
  const head = tryRun('git', ['rev-parse', '--short', opts.ref ?? 'HEAD']) ?? 'unknown';
  const dirty =
    opts.ref === null && (tryRun('git', ['status', '--porcelain', '--', 'src']) ?? '') !== '';
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    undici: undiciPkg.version,
    python: tryRun(opts.python, ['-c', 'import platform; print(platform.python_version())']),
    tcpCongestion: readProc('/proc/sys/net/ipv4/tcp_congestion_control')?.trim() ?? null,
    commit: dirty ? `${head} (src/ modified)` : head,
    date: new Date().toISOString(),
  };
}

/** The CPUs server and client run on, as taskset prefixes (empty: not pinned). */
interface Pinning {
  server: string[];
  client: string[];
  note: string;
}

function pinning(layout: Options['layout']): Pinning {
  const none = (note: string): Pinning => ({ server: [], client: [], note });
  if (layout === 'none') return none('not pinned (--layout none)');
  const out = tryRun('taskset', ['-cp', String(process.pid)]);
  if (out === null) return none('not pinned: taskset is not available');
  const list = out.slice(out.lastIndexOf(':') + 1).trim();
  const allowed: number[] = [];
  for (const part of list.split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || Number.isNaN(a)) continue;
    for (let c = a; c <= (b ?? a); c++) allowed.push(c);
  }
  const first = allowed[0];
  if (first === undefined) return none('not pinned: no CPU list from taskset');
  if (layout === 'same') {
    const cpu = ['taskset', '-c', String(first)];
    return { server: cpu, client: cpu, note: `same: server and client on CPU ${first}` };
  }
  const second = allowed[1];
  if (second === undefined) {
    const cpu = ['taskset', '-c', String(first)];
    return { server: cpu, client: cpu, note: `same (split needs 2 CPUs): CPU ${first}` };
  }
  return {
    server: ['taskset', '-c', String(first)],
    client: ['taskset', '-c', String(second)],
    note: `split: server on CPU ${first}, client on CPU ${second}`,
  };
}

function listTs(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) listTs(path, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/**
 * Compiles src/ (the working tree's, or as committed at `ref`) and the bench processes to
 * JavaScript under `outDir`, in the same layout.
 */
function build(outDir: string, ref: string | null): void {
  const sources = new Map<string, () => string>();
  if (ref === null) {
    for (const file of listTs(join(ROOT, 'src'))) {
      sources.set(file, () => readFileSync(file, 'utf8'));
    }
  } else {
    const listed = execFileSync('git', ['ls-tree', '-r', '--name-only', ref, '--', 'src'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    for (const path of listed.split('\n')) {
      if (!path.endsWith('.ts') || path.endsWith('.d.ts')) continue;
      sources.set(join(ROOT, path), () =>
        execFileSync('git', ['show', `${ref}:${path}`], { cwd: ROOT, encoding: 'utf8' }),
      );
    }
  }
  for (const name of ['client.ts', 'client-sync.ts', 'server.ts']) {
    const file = join(ROOT, 'bench', name);
    sources.set(file, () => readFileSync(file, 'utf8'));
  }
  for (const [file, read] of sources) {
    const result = ts.transpileModule(read(), {
      fileName: file,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2023,
        rewriteRelativeImportExtensions: true,
        verbatimModuleSyntax: true,
      },
    });
    const target = join(outDir, relative(ROOT, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, result.outputText);
  }
}

// ---------------------------------------------------------------------------------------
// Processes

/** CPU time (µs) of a process so far, from /proc; null where there is no /proc. */
let clockTicks = 0;
function procCpuUs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (clockTicks === 0) clockTicks = Number(tryRun('getconf', ['CLK_TCK']) ?? 100) || 100;
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / clockTicks;
  } catch {
    return null;
  }
}

function readProc(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * Soft hrtimer expiries so far, all CPUs (/proc/softirqs, HRTIMER); null without /proc.
 * On an otherwise idle machine these are mostly TCP's pacing timer: with a pacing
 * congestion control (bbr) and no fq qdisc, the sender's TCP sends a paced burst and
 * sets this timer for the next. See bench/README.md, "Two modes on one CPU".
 */
function softHrtimers(): number | null {
  const text = readProc('/proc/softirqs');
  const line = text?.split('\n').find((l) => l.trimStart().startsWith('HRTIMER:'));
  if (line === undefined) return null;
  let sum = 0;
  for (const field of line.trim().split(/\s+/).slice(1)) sum += Number(field) || 0;
  return sum;
}

interface Server {
  child: ChildProcess;
  pid: number;
  ports: Record<string, number>;
}

async function startServer(script: string, pin: Pinning, tlsDir: string | null): Promise<Server> {
  const cmd = [...pin.server, process.execPath, script, JSON.stringify({ tlsDir })];
  const child = spawn(cmd[0] as string, cmd.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
  const info = JSON.parse(first) as { pid: number; ports: Record<string, number> };
  return { child, pid: info.pid, ports: info.ports };
}

function stopServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null) {
      resolve();
      return;
    }
    server.child.once('exit', () => resolve());
    server.child.stdin?.end();
    setTimeout(() => server.child.kill('SIGKILL'), 3000).unref();
  });
}

interface Measurement {
  result: ClientResult;
  serverCpuUs: number | null;
  /** Soft hrtimer expiries over the timed part (softHrtimers). */
  hrtimers: number | null;
}

function measure(cmd: string[], server: Server, timeoutMs: number): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0] as string, cmd.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: ROOT,
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    let server0: number | null = null;
    let serverCpuUs: number | null = null;
    let hrtimers0: number | null = null;
    let hrtimers: number | null = null;
    let result: ClientResult | null = null;
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      if (line === 'START') {
        server0 = procCpuUs(server.pid);
        hrtimers0 = softHrtimers();
      } else if (line === 'STOP') {
        const s1 = procCpuUs(server.pid);
        if (server0 !== null && s1 !== null) serverCpuUs = s1 - server0;
        const h1 = softHrtimers();
        if (hrtimers0 !== null && h1 !== null) hrtimers = h1 - hrtimers0;
      } else if (line.startsWith('RESULT ')) result = JSON.parse(line.slice(7)) as ClientResult;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      stderr += `\n(killed after ${timeoutMs / 1000} s)`;
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0 && result !== null) resolve({ result, serverCpuUs, hrtimers });
      else {
        const tail = stderr.trim().split('\n').slice(-6).join('\n');
        reject(new Error(`exit ${code}${result === null ? ', no result' : ''}: ${tail}`));
      }
    });
  });
}

// ---------------------------------------------------------------------------------------
// Results

interface Run {
  round: number;
  rowId: string;
  ok: boolean;
  error?: string;
  /** Timed requests made (fewer than the scenario's count when the time budget ran out). */
  requests: number;
  /** req/s or MB/s (10^6 bytes), per the scenario's unit. */
  rate: number;
  elapsedMs: number;
  cpuUsPerRequest: number;
  /** Minor page faults of the client process per request (fresh memory touched). */
  faultsPerRequest: number;
  serverCpuPercent: number | null;
  /** Soft hrtimer expiries (mostly TCP pacing) per request over the timed part. */
  hrtimersPerRequest: number | null;
  /** Involuntary context switches of the client per request (preempted by the server). */
  preemptedPerRequest: number | null;
  rssAboveBaselineMiB: number | null;
  maxRssMiB: number;
}

interface RowSummary {
  id: string;
  label: string;
  client: string;
  mode: string;
  kind: string;
  runs: Run[];
  median: {
    rate: number | null;
    rateMin: number | null;
    rateMax: number | null;
    cpuUsPerRequest: number | null;
    faultsPerRequest: number | null;
    serverCpuPercent: number | null;
    hrtimersPerRequest: number | null;
    preemptedPerRequest: number | null;
    rssAboveBaselineMiB: number | null;
    maxRssMiB: number | null;
  };
  ratios: {
    floor: number | null;
    onread: number | null;
    undici: number | null;
    /** Against CPython's row reading the same way (`read()`, `read(65536)`, `readinto`). */
    python: number | null;
    /** The command-line rows: against curl's. */
    curl: number | null;
    /** httplib-ts rows with --vs: this build ÷ the --vs revision's, within each round. */
    vs?: number | null;
  };
  /**
   * Rows of the blocking API: against the main entry's row and CPython's row that read
   * the same way (same mode), medians of the ratios within a round.
   */
  blocking?: { async: number | null; python: number | null };
  skipped?: string;
}

interface ScenarioSummary {
  id: string;
  title: string;
  description: string;
  unit: string;
  conns: number;
  count: number;
  warmup: number;
  bytesPerRequest: number;
  rows: RowSummary[];
}

function median(values: Array<number | null>): number | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return null;
  v.sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 === 1
    ? (v[mid] as number)
    : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

function summarise(rows: Row[], runs: Run[], skipped: Map<string, string>): RowSummary[] {
  const byRound = new Map<number, Map<string, Run>>();
  for (const run of runs) {
    if (!run.ok) continue;
    let m = byRound.get(run.round);
    if (m === undefined) {
      m = new Map();
      byRound.set(run.round, m);
    }
    m.set(run.rowId, run);
  }
  const reference = (row: Row, client: string): Row | undefined =>
    rows.find((r) => r.client === client && r.kind === row.kind);
  /** Median over the rounds of row ÷ ref, both measured in the round. */
  const within = (row: Row, ref: Row | undefined): number | null => {
    if (ref === undefined) return null;
    const values: number[] = [];
    for (const round of byRound.values()) {
      const a = round.get(row.id);
      const b = round.get(ref.id);
      if (a !== undefined && b !== undefined && b.rate > 0) values.push(a.rate / b.rate);
    }
    return median(values);
  };
  // CPython's row reading the same way; rows that drain pieces compare with read(65536).
  const python = (row: Row): Row | undefined =>
    rows.find((r) => r.client === 'python' && r.mode === row.mode) ??
    (row.kind === 'pieces'
      ? rows.find((r) => r.client === 'python' && r.mode === 'amt')
      : undefined);
  return rows.map((row): RowSummary => {
    const mine = runs.filter((r) => r.rowId === row.id);
    const ok = mine.filter((r) => r.ok);
    const ratio = (client: string): number | null => within(row, reference(row, client));
    const rates = ok.map((r) => r.rate);
    const summary: RowSummary = {
      id: row.id,
      label: row.label,
      client: row.client,
      mode: row.mode,
      kind: row.kind,
      runs: mine,
      median: {
        rate: median(rates),
        rateMin: rates.length ? Math.min(...rates) : null,
        rateMax: rates.length ? Math.max(...rates) : null,
        cpuUsPerRequest: median(ok.map((r) => r.cpuUsPerRequest)),
        faultsPerRequest: median(ok.map((r) => r.faultsPerRequest)),
        serverCpuPercent: median(ok.map((r) => r.serverCpuPercent)),
        hrtimersPerRequest: median(ok.map((r) => r.hrtimersPerRequest)),
        preemptedPerRequest: median(ok.map((r) => r.preemptedPerRequest)),
        rssAboveBaselineMiB: median(ok.map((r) => r.rssAboveBaselineMiB)),
        maxRssMiB: median(ok.map((r) => r.maxRssMiB)),
      },
      ratios: {
        floor: ratio(REFERENCES.floor),
        onread: ratio(REFERENCES.onread),
        undici: ratio(REFERENCES.undici),
        python: row.client === 'python' ? null : within(row, python(row)),
        curl: ratio('curl'),
      },
    };
    if ((row.client === 'httplib' || row.client === 'httplib-sync') && row.vs !== true) {
      const before = rows.find(
        (r) => r.vs === true && r.client === row.client && r.mode === row.mode,
      );
      if (before !== undefined) summary.ratios.vs = within(row, before);
    }
    if (row.client === 'httplib-sync' && row.vs !== true) {
      const same = (client: string): number | null =>
        within(
          row,
          rows.find((r) => r.client === client && r.mode === row.mode && r.vs !== true),
        );
      summary.blocking = { async: same('httplib'), python: same('python') };
    }
    const why = skipped.get(row.id);
    if (why !== undefined) summary.skipped = why;
    return summary;
  });
}

// ---------------------------------------------------------------------------------------
// Markdown

function fmt(n: number | null, digits = 0): string {
  if (n === null) return '–';
  return n.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function fmtCpu(us: number | null): string {
  return us !== null && us < 100 ? fmt(us, 1) : fmt(us, 0);
}

function fmtRatio(r: number | null): string {
  return r === null ? '–' : r.toFixed(2);
}

/** Which table a scenario prints: RSS peaks, the command line's, or the usual one. */
function tableKind(scenario: Scenario | undefined): 'rss' | 'cli' | null {
  if (scenario?.rss === true) return 'rss';
  return scenario?.cli === true ? 'cli' : null;
}

function table(s: ScenarioSummary, kind: 'rss' | 'cli' | null, vs: string | null): string {
  const rss = kind === 'rss';
  const lines: string[] = [];
  const bytes =
    s.bytesPerRequest >= MiB ? `${s.bytesPerRequest / MiB} MiB` : `${s.bytesPerRequest} B`;
  lines.push(`### ${s.id}: ${s.title}`, '');
  lines.push(
    `${s.description} ${fmt(s.count)} × ${bytes} per run after a warm-up of ${fmt(s.warmup)}.`,
    '',
  );
  const unit = s.unit;
  if (kind === 'cli') {
    lines.push(
      '| command | MB/s | min–max | wall time per download (ms) | × curl (MB/s) |',
      '|---|---:|---:|---:|---:|',
    );
  } else if (rss) {
    lines.push(
      '| client | peak RSS above baseline (MiB) | max RSS (MiB) | MB/s | client CPU µs/req | × floor |',
      '|---|---:|---:|---:|---:|---:|',
    );
  } else {
    lines.push(
      `| client | ${unit} | min–max | client CPU µs/req | client faults/req | server CPU | pacing timers/req | client preempted/req | × floor | × onread floor | × undici request | × CPython |${vs === null ? '' : ` × @${vs} |`}`,
      `|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|${vs === null ? '' : '---:|'}`,
    );
  }
  for (const r of s.rows) {
    const m = r.median;
    const failed = r.runs.filter((x) => !x.ok).length;
    let label = r.label;
    const capped = r.runs.filter((x) => x.ok && x.requests < s.count);
    if (r.skipped !== undefined) label += ` (skipped: ${r.skipped})`;
    else if (failed > 0) label += ` (${failed} of ${r.runs.length} runs failed)`;
    if (capped.length > 0) {
      const made = median(capped.map((x) => x.requests));
      label += ` (time budget: ${fmt(made)} of ${fmt(s.count)} requests)`;
    }
    if (kind === 'cli') {
      const range = m.rateMin === null ? '–' : `${fmt(m.rateMin)}–${fmt(m.rateMax)}`;
      const perDownload = median(r.runs.filter((x) => x.ok).map((x) => x.elapsedMs / x.requests));
      lines.push(
        `| ${label} | ${fmt(m.rate)} | ${range} | ${fmt(perDownload)} | ${fmtRatio(r.ratios.curl)} |`,
      );
    } else if (rss) {
      lines.push(
        `| ${label} | ${fmt(m.rssAboveBaselineMiB, 1)} | ${fmt(m.maxRssMiB, 0)} | ${fmt(m.rate)} | ${fmtCpu(m.cpuUsPerRequest)} | ${fmtRatio(r.ratios.floor)} |`,
      );
    } else {
      const range = m.rateMin === null ? '–' : `${fmt(m.rateMin)}–${fmt(m.rateMax)}`;
      const server = m.serverCpuPercent === null ? '–' : `${fmt(m.serverCpuPercent)}%`;
      const paired = vs === null ? '' : ` ${fmtRatio(r.ratios.vs ?? null)} |`;
      lines.push(
        `| ${label} | ${fmt(m.rate)} | ${range} | ${fmtCpu(m.cpuUsPerRequest)} | ${fmtCpu(m.faultsPerRequest)} | ${server} | ${fmtCpu(m.hrtimersPerRequest)} | ${fmt(m.preemptedPerRequest, 2)} | ${fmtRatio(r.ratios.floor)} | ${fmtRatio(r.ratios.onread)} | ${fmtRatio(r.ratios.undici)} | ${fmtRatio(r.ratios.python)} |${paired}`,
      );
    }
  }
  const blocking = s.rows.filter((r) => r.blocking !== undefined);
  if (blocking.length > 0) {
    lines.push(
      '',
      '| blocking API (httplib-ts/sync) | × httplib-ts (same reading) | × CPython http.client (same reading) |',
      '|---|---:|---:|',
    );
    for (const r of blocking) {
      lines.push(
        `| ${r.label} | ${fmtRatio(r.blocking?.async ?? null)} | ${fmtRatio(r.blocking?.python ?? null)} |`,
      );
    }
  }
  lines.push('');
  return lines.join('\n');
}

function header(machine: Machine, pin: Pinning, opts: Options): string {
  return [
    '## httplib-ts benchmark',
    '',
    `- machine: ${machine.cpuModel} × ${machine.cpus} CPUs, ${machine.os}, ${machine.memoryGiB} GiB`,
    `- node ${machine.node}, undici ${machine.undici}, CPython ${machine.python ?? '(not found)'}; httplib-ts at ${machine.commit}${machine.vs === undefined ? '' : ` (rows "@${machine.vs}": src/ at ${machine.vs}, in the same rounds)`}`,
    `- pinning: ${pin.note}; TCP congestion control: ${machine.tcpCongestion ?? 'unknown'}`,
    `- ${opts.rounds} round${opts.rounds === 1 ? '' : 's'}${opts.quick ? ' (--quick: a smoke test, the numbers mean nothing)' : ''}, row order rotated each round; medians over the rounds. Each ratio is the median of the ratios taken within a round, against the reference row reading the same way (whole body vs pieces): floor = raw net.Socket, onread floor = net.Socket with onread, undici = undici request, CPython = CPython's http.client reading the same way (read(), read(65536) or readinto; the other clients' drains against read(65536)).`,
    `- MB = 10^6 bytes. Client CPU = user + system time of the client process (process.cpuUsage / getrusage) per request; client faults = its minor page faults per request (fresh memory touched: resourceUsage / getrusage); server CPU = the server process's CPU time over the timed part, in % of wall time (/proc, 10 ms ticks); pacing timers = soft hrtimer expiries per request, all CPUs (/proc/softirqs): with bbr, the server's paced sends; above ~1 a row ran in the slow of two modes that one shared CPU falls into (bench/README.md); client preempted = the client's involuntary context switches per request (resourceUsage / getrusage, all threads): on one shared CPU mostly the server woken by a request taking the CPU, which breaks up the batches of both (bench/README.md, "Ten connections on one CPU").`,
    `- ${machine.date}`,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const scenarios = SCENARIOS.filter(
    (s) => opts.scenarios === null || opts.scenarios.includes(s.id),
  );
  if (opts.list) {
    for (const s of scenarios) {
      console.log(`${s.id}: ${s.title}`);
      for (const r of selectRows(s, opts, opts.vs)) console.log(`  ${r.id.padEnd(24)} ${r.label}`);
    }
    return;
  }
  const machine = machineInfo(opts);
  const vs =
    opts.vs === null ? null : (tryRun('git', ['rev-parse', '--short', opts.vs]) ?? opts.vs);
  if (vs !== null) machine.vs = vs;
  const pin = pinning(opts.layout);
  const started = Date.now();

  mkdirSync(join(ROOT, '.tmp', 'bench'), { recursive: true });
  const work = mkdtempSync(join(ROOT, '.tmp', 'bench', 'run-'));
  const cleanup = (): void => rmSync(work, { recursive: true, force: true });
  process.on('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => process.exit(130));
  }
  build(work, opts.ref);
  const clientScript = join(work, 'bench', 'client.js');
  // The --vs revision's src/ with the same bench client, in a directory of its own.
  const vsClientScript = join(work, 'vs', 'bench', 'client.js');
  if (opts.vs !== null) build(join(work, 'vs'), opts.vs);
  const serverScript = join(work, 'bench', 'server.js');

  let tlsDir: string | null = null;
  if (scenarios.some((s) => s.tls)) {
    tlsDir = join(work, 'tls');
    execFileSync('bash', [join(ROOT, 'test', 'fixtures', 'tls', 'make-certs.sh'), tlsDir], {
      stdio: 'ignore',
    });
  }
  const uploadFiles = new Map<number, string>();
  const uploadFile = (size: number): string => {
    let file = uploadFiles.get(size);
    if (file === undefined) {
      file = join(work, `upload-${size}.bin`);
      writeFileSync(file, Buffer.alloc(size, 0x7a));
      uploadFiles.set(size, file);
    }
    return file;
  };

  const pyScript = join(ROOT, 'bench', 'py_client.py');
  // The command line is measured as users run it: the working tree's dist/, built and
  // bundled (npm run build) when stale; never another revision's.
  let cliMissing: string | null = null;
  if (scenarios.some((s) => s.cli)) {
    if (opts.ref !== null) cliMissing = '--ref: the command line runs the working tree only';
    else if (
      spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-if-stale.mjs')], {
        cwd: ROOT,
        stdio: 'inherit',
      }).status !== 0
    ) {
      cliMissing = 'the build failed';
    }
  }
  /** Why the rows of a client cannot run here (they are listed as skipped). */
  const unavailable: Partial<Record<RowClient, string | null>> = {
    python: machine.python === null ? `${opts.python} not found` : null,
    curl: tryRun('curl', ['--version']) === null ? 'curl not found' : null,
    'httplib-cli': cliMissing,
    'httplib-cli-noca':
      cliMissing ??
      ((process.env.NODE_EXTRA_CA_CERTS ?? '') === ''
        ? 'NODE_EXTRA_CA_CERTS is not set: the row above is this one'
        : null),
  };
  const timeoutMs = opts.quick ? 60_000 : 300_000;

  process.stdout.write(`${header(machine, pin, opts)}\n`);
  const summaries: ScenarioSummary[] = [];
  let failures = 0;

  for (const scenario of scenarios) {
    const rows = selectRows(scenario, opts, vs);
    if (rows.length === 0) continue;
    const counts = opts.quick ? scenario.quick : scenario.full;
    const bytesPerRequest =
      opts.quick && scenario.quickBytesPerRequest !== undefined
        ? scenario.quickBytesPerRequest
        : scenario.bytesPerRequest;
    const server = await startServer(serverScript, pin, scenario.tls ? tlsDir : null);
    const runs: Run[] = [];
    const skipped = new Map<string, string>();
    const t0 = Date.now();
    try {
      for (let round = 0; round < opts.rounds; round++) {
        const k = round % rows.length;
        const order = [...rows.slice(k), ...rows.slice(0, k)];
        for (const row of order) {
          const notRun = unavailable[row.client];
          if (notRun !== null && notRun !== undefined) {
            skipped.set(row.id, notRun);
            continue;
          }
          const port = server.ports[row.listener ?? scenario.listener];
          if (port === undefined)
            throw new Error(`no listener ${row.listener ?? scenario.listener}`);
          const spec: ClientSpec = {
            client: row.client,
            mode: row.mode,
            host: '127.0.0.1',
            port,
            path: scenario.path.replace('{bytes}', String(bytesPerRequest)),
            warmPath: scenario.warmPath.replace('{bytes}', String(bytesPerRequest)),
            ca: scenario.tls && tlsDir !== null ? join(tlsDir, 'ca.pem') : null,
            conns: scenario.conns,
            count: counts.count,
            warmup: counts.warmup,
            upload:
              scenario.upload === undefined
                ? null
                : {
                    kind: scenario.upload,
                    size: bytesPerRequest,
                    file: scenario.upload === 'file' ? uploadFile(bytesPerRequest) : '',
                  },
            rss: scenario.rss === true,
            budgetMs: opts.quick ? 5_000 : 20_000,
            warmBudgetMs: opts.quick ? 3_000 : 10_000,
          };
          const cmd =
            row.client === 'python'
              ? [...pin.client, opts.python, pyScript, JSON.stringify(spec)]
              : [
                  ...pin.client,
                  process.execPath,
                  ...(scenario.rss ? ['--expose-gc'] : []),
                  row.vs === true ? vsClientScript : clientScript,
                  JSON.stringify(spec),
                ];
          try {
            const { result, serverCpuUs, hrtimers } = await measure(cmd, server, timeoutMs);
            const expected = result.requests * bytesPerRequest;
            if (result.requests < 1 || result.bytes !== expected) {
              throw new Error(
                `${result.requests} requests, ${result.bytes} bytes: expected ${expected}`,
              );
            }
            const seconds = result.elapsedNs / 1e9;
            runs.push({
              round,
              rowId: row.id,
              ok: true,
              requests: result.requests,
              rate:
                scenario.unit === 'req/s'
                  ? result.requests / seconds
                  : result.bytes / seconds / 1e6,
              elapsedMs: result.elapsedNs / 1e6,
              cpuUsPerRequest: (result.cpuUserUs + result.cpuSystemUs) / result.requests,
              faultsPerRequest: result.minorFaults / result.requests,
              serverCpuPercent:
                serverCpuUs === null ? null : (serverCpuUs / (result.elapsedNs / 1e3)) * 100,
              hrtimersPerRequest: hrtimers === null ? null : hrtimers / result.requests,
              preemptedPerRequest: result.preempted / result.requests,
              rssAboveBaselineMiB: scenario.rss
                ? (result.rssPeak - result.rssBaseline) / MiB
                : null,
              maxRssMiB: result.maxRssKiB / 1024,
            });
          } catch (err) {
            failures++;
            const message = err instanceof Error ? err.message : String(err);
            process.stderr.write(
              `bench: ${scenario.id} ${row.id} round ${round + 1}: ${message}\n`,
            );
            runs.push({
              round,
              rowId: row.id,
              ok: false,
              error: message,
              requests: 0,
              rate: 0,
              elapsedMs: 0,
              cpuUsPerRequest: 0,
              faultsPerRequest: 0,
              serverCpuPercent: null,
              hrtimersPerRequest: null,
              preemptedPerRequest: null,
              rssAboveBaselineMiB: null,
              maxRssMiB: 0,
            });
          }
        }
      }
    } finally {
      await stopServer(server);
    }
    const summary: ScenarioSummary = {
      id: scenario.id,
      title: scenario.title,
      description: scenario.description,
      unit: scenario.unit,
      conns: scenario.conns,
      count: counts.count,
      warmup: counts.warmup,
      bytesPerRequest,
      rows: summarise(rows, runs, skipped),
    };
    summaries.push(summary);
    process.stdout.write(`${table(summary, tableKind(scenario), vs)}\n`);
    process.stderr.write(`bench: ${scenario.id} took ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }

  const elapsed = (Date.now() - started) / 1000;
  const markdown = [
    header(machine, pin, opts),
    ...summaries.map((s) => table(s, tableKind(SCENARIOS.find((x) => x.id === s.id)), vs)),
  ].join('\n');
  const jsonPath = opts.json;
  mkdirSync(dirname(jsonPath), { recursive: true });
  const { list: _list, ...options } = opts;
  writeFileSync(
    jsonPath,
    `${JSON.stringify({ machine, pinning: pin.note, options, elapsedSeconds: elapsed, scenarios: summaries }, null, 2)}\n`,
  );
  writeFileSync(`${jsonPath.replace(/\.json$/, '')}.md`, markdown);
  process.stdout.write(
    `Results: ${relative(process.cwd(), jsonPath)} (and .md), ${elapsed.toFixed(0)} s in all${failures ? `; ${failures} measurement(s) failed` : ''}.\n`,
  );
  process.exitCode = failures > 0 ? 1 : 0;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
