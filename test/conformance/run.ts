/**
 * The conformance runner: plays every scenario of `scenarios/*.json` against CPython
 * 2.7's httplib (driver.py under `PYENV_VERSION=2.7.18 python`), against this package
 * (driver.ts, in-process), against its blocking entry `httplib-ts/sync` (driver-sync.ts,
 * in a process of its own, since its calls block) and, for information, against Python
 * 3's http.client (driver.py under `python3`), each driver with fresh scripted servers,
 * and compares. Both entries of the package are held to the same expectations.
 *
 *   node --import tsx test/conformance/run.ts [--filter text] [--no-py3] [--no-sync] [--verbose] [--json file]
 *
 * ends with exactly one line `conformance: <N> scenarios, <A> agree, <D> deliberate,
 * <F> failing (blocking entry: …)` and exits 1 if anything fails through either entry
 * (or if Python 2.7 is missing).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setdefaulttimeout } from '../../src/index.ts';
import {
  differences as diffObservations,
  judge,
  type Mismatch,
  type Observation,
} from './compare.ts';
import { loadDifferences, scenarioIndex } from './differences.ts';
import { playScenario, type Result, type ScenarioResult } from './driver.ts';
import {
  fillPlaceholders,
  type LoadedScenario,
  loadScenarios,
  normalizePort,
  normalizeStep,
  type StepObject,
} from './scenario.ts';
import { ScriptedServer } from './server.ts';

/** Seconds any blocking socket operation may take in a driver before it gives up. */
const STEP_TIMEOUT = 5;
const DRIVER_PY = new URL('./driver.py', import.meta.url).pathname;
const DRIVER_SYNC = new URL('./driver-sync.ts', import.meta.url).pathname;
const MAKE_CERTS = new URL('../fixtures/tls/make-certs.sh', import.meta.url).pathname;

/** The test PKI (make-certs.sh) in a temporary directory, for TLS scenarios. */
async function makeCerts(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'httplib-conformance-tls-'));
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', [MAKE_CERTS, dir], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`make-certs.sh exited ${code}`)),
    );
  });
  return dir;
}

export interface PythonCommand {
  command: string;
  env: NodeJS.ProcessEnv;
  label: string;
}

export const PYTHON27: PythonCommand = {
  command: 'python',
  env: { ...process.env, PYENV_VERSION: '2.7.18' },
  label: 'CPython 2.7',
};
export const PYTHON3: PythonCommand = { command: 'python3', env: process.env, label: 'Python 3' };

export interface AreaCount {
  agree: number;
  deliberate: number;
  failing: number;
}

export interface Failure {
  name: string;
  reason: string;
  mismatches: Mismatch[];
}

export interface Summary {
  total: number;
  agree: number;
  deliberate: number;
  /** Failing scenarios, through either entry (the blocking entry's failures are named so). */
  failing: number;
  /** The blocking entry's own counts (null when it was not run). */
  blocking: AreaCount | null;
  byArea: Record<string, AreaCount>;
  failures: Failure[];
  /** Python 3's agreement with us (information only), or null when not run. */
  py3: {
    version: string;
    compared: number;
    agree: number;
    byArea: Record<string, { compared: number; agree: number }>;
  } | null;
  python2Version: string;
  /** With `details`: every observation, by scenario. */
  details?: Record<
    string,
    { cpython: Observation; ours: Observation; blocking?: Observation; py3?: Observation }
  >;
}

export interface RunOptions {
  filter?: string | undefined;
  py3?: boolean | undefined;
  /** Play the scenarios through the blocking entry too (default true). */
  sync?: boolean | undefined;
  details?: boolean | undefined;
}

/** The `major.minor.micro` of a Python command, or null if it cannot run httplib. */
export function pythonVersion(py: PythonCommand, module: string): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn(
      py.command,
      ['-c', `import sys, ${module}; print('%d.%d.%d' % sys.version_info[:3])`],
      { env: py.env, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', () => resolve(null));
    child.on('close', (code) => resolve(code === 0 ? out.trim() : null));
  });
}

/** Replace the server's port by `{port}` in every string (and port-valued number). */
function normalizeValue(value: unknown, port: number): unknown {
  if (typeof value === 'string') return normalizePort(value, port);
  if (value === port) return '{port}';
  if (Array.isArray(value)) return value.map((v) => normalizeValue(v, port));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = normalizeValue(v, port);
    return out;
  }
  return value;
}

interface DriverRun {
  observations: Map<string, Observation>;
  problems: Map<string, string[]>;
}

type Play = (
  concrete: Array<{ name: string; steps: StepObject[] }>,
  cafile: string | null,
) => Promise<Record<string, ScenarioResult>>;

/** Fresh servers for every scenario, the driver over the whole batch, then the bytes received. */
async function runDriver(
  scenarios: readonly LoadedScenario[],
  play: Play,
  certDir: string | null,
): Promise<DriverRun> {
  const credentials = (name: string | undefined): { key: Buffer; cert: Buffer } | null =>
    name === undefined || certDir === null
      ? null
      : {
          key: readFileSync(join(certDir, `${name}.key`)),
          cert: readFileSync(join(certDir, `${name}.pem`)),
        };
  const servers = await Promise.all(
    scenarios.map((s) =>
      new ScriptedServer(s.server, s.listen ?? '127.0.0.1', credentials(s.tls)).listen(),
    ),
  );
  try {
    const concrete = scenarios.map((s, i) => {
      const server = servers[i] as ScriptedServer;
      return {
        name: s.name,
        steps: s.steps.map((st) => fillPlaceholders(normalizeStep(st), server.host, server.port)),
      };
    });
    const results = await play(concrete, certDir === null ? null : join(certDir, 'ca.pem'));
    await Promise.all(servers.map((s) => s.settled(2000)));
    const observations = new Map<string, Observation>();
    const problems = new Map<string, string[]>();
    scenarios.forEach((s, i) => {
      const server = servers[i] as ScriptedServer;
      const result = results[s.name] ?? {
        steps: [{ raises: 'DriverError', message: 'no result' }],
        debug: '',
      };
      observations.set(s.name, {
        steps: normalizeValue(result.steps, server.port) as Result[],
        received: server.received().map((b) => normalizePort(b.toString('latin1'), server.port)),
        debug: normalizePort(result.debug, server.port),
      });
      if (server.problems.length > 0) problems.set(s.name, server.problems);
    });
    return { observations, problems };
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
}

function pythonPlay(py: PythonCommand, stepTimeout: number): Play {
  return childPlay(py.command, [DRIVER_PY], py.env, py.label, stepTimeout);
}

/** The blocking entry's driver: a process of its own (its calls block; the servers are here). */
const syncPlay: Play = childPlay(
  process.execPath,
  ['--import', 'tsx', DRIVER_SYNC],
  process.env,
  'blocking entry',
  STEP_TIMEOUT,
);

/** A driver in a child process: the scenarios as JSON on its stdin, `{results}` on its stdout. */
function childPlay(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  label: string,
  stepTimeout: number,
): Play {
  return (concrete, cafile) =>
    new Promise((resolve, reject) => {
      const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code !== 0) {
          reject(new Error(`${label} driver exited ${code}: ${Buffer.concat(err).toString()}`));
          return;
        }
        try {
          const data = JSON.parse(Buffer.concat(out).toString('utf8')) as {
            results: Record<string, ScenarioResult>;
          };
          resolve(data.results);
        } catch (e) {
          reject(e);
        }
      });
      child.stdin.end(JSON.stringify({ stepTimeout, cafile, scenarios: concrete }));
    });
}

const tsPlay: Play = async (concrete, cafile) => {
  setdefaulttimeout(STEP_TIMEOUT);
  const results: Record<string, ScenarioResult> = {};
  try {
    for (const s of concrete) results[s.name] = await playScenario(s.steps, cafile);
  } finally {
    setdefaulttimeout(null);
  }
  return results;
};

async function timed<T>(label: string, work: Promise<T>): Promise<T> {
  const start = Date.now();
  const result = await work;
  if (process.env.CONFORMANCE_TIMING !== undefined) {
    process.stderr.write(`${label}: ${Date.now() - start} ms\n`);
  }
  return result;
}

/** Run every scenario (matching `filter`) and judge it. Throws if Python 2.7 is missing. */
export async function runConformance(options: RunOptions = {}): Promise<Summary> {
  const python2Version = await pythonVersion(PYTHON27, 'httplib');
  if (python2Version === null || !python2Version.startsWith('2.7.')) {
    throw new Python27Missing();
  }
  const all = loadScenarios();
  const diffs = loadDifferences();
  const listedIn = scenarioIndex(diffs);
  const known = new Set(all.map((s) => s.name));
  for (const name of listedIn.keys()) {
    if (!known.has(name)) throw new Error(`differences.json names unknown scenario ${name}`);
  }
  const filter = options.filter;
  const scenarios = filter === undefined ? all : all.filter((s) => s.name.includes(filter));
  const py3Scenarios = scenarios.filter((s) => s.py3 !== false);
  const py3Version = options.py3 === false ? null : await pythonVersion(PYTHON3, 'http.client');

  const certDir = scenarios.some((s) => s.tls !== undefined) ? await makeCerts() : null;
  let runs: [DriverRun, DriverRun, DriverRun | null, DriverRun | null];
  try {
    runs = await Promise.all([
      timed(
        'CPython 2.7 driver',
        runDriver(scenarios, pythonPlay(PYTHON27, STEP_TIMEOUT), certDir),
      ),
      timed('TypeScript driver', runDriver(scenarios, tsPlay, certDir)),
      options.sync === false
        ? Promise.resolve(null)
        : timed('blocking entry driver', runDriver(scenarios, syncPlay, certDir)),
      py3Version === null
        ? Promise.resolve(null)
        : // Python 3 is information only: a shorter timeout keeps its failures cheap.
          timed('Python 3 driver', runDriver(py3Scenarios, pythonPlay(PYTHON3, 1), certDir)),
    ]);
  } finally {
    if (certDir !== null) rmSync(certDir, { recursive: true, force: true });
  }
  const [py2, ours, blocking, py3] = runs;

  const summary: Summary = {
    total: scenarios.length,
    agree: 0,
    deliberate: 0,
    failing: 0,
    byArea: {},
    failures: [],
    blocking: blocking === null ? null : { agree: 0, deliberate: 0, failing: 0 },
    py3: null,
    python2Version,
  };
  for (const s of scenarios) {
    summary.byArea[s.area] ??= { agree: 0, deliberate: 0, failing: 0 };
    const area = summary.byArea[s.area] as AreaCount;
    const ops = s.steps.map((st) => normalizeStep(st).op);
    const p = py2.observations.get(s.name) as Observation;
    const o = ours.observations.get(s.name) as Observation;
    const problems = [...(py2.problems.get(s.name) ?? []), ...(ours.problems.get(s.name) ?? [])];
    const verdict =
      problems.length > 0
        ? {
            outcome: 'failing' as const,
            reason: `server script: ${problems.join('; ')}`,
            mismatches: [],
          }
        : judge(p, o, ops, s.expect, listedIn.has(s.name));
    summary[verdict.outcome]++;
    area[verdict.outcome]++;
    if (verdict.outcome === 'failing') {
      summary.failures.push({
        name: s.name,
        reason: verdict.reason,
        mismatches: verdict.mismatches,
      });
    }
    if (blocking !== null && summary.blocking !== null) {
      // The blocking entry, held to the same expectations.
      const b = blocking.observations.get(s.name) as Observation;
      const bProblems = [
        ...(py2.problems.get(s.name) ?? []),
        ...(blocking.problems.get(s.name) ?? []),
      ];
      const bVerdict =
        bProblems.length > 0
          ? {
              outcome: 'failing' as const,
              reason: `server script: ${bProblems.join('; ')}`,
              mismatches: [],
            }
          : judge(p, b, ops, s.expect, listedIn.has(s.name));
      summary.blocking[bVerdict.outcome]++;
      if (bVerdict.outcome === 'failing') {
        if (verdict.outcome !== 'failing') {
          summary[verdict.outcome]--;
          area[verdict.outcome]--;
          summary.failing++;
          area.failing++;
        }
        summary.failures.push({
          name: `${s.name} [httplib-ts/sync]`,
          reason: bVerdict.reason,
          mismatches: bVerdict.mismatches,
        });
      }
    }
  }
  if (options.details === true) {
    summary.details = {};
    for (const s of scenarios) {
      const py3Obs = py3?.observations.get(s.name);
      const syncObs = blocking?.observations.get(s.name);
      summary.details[s.name] = {
        cpython: py2.observations.get(s.name) as Observation,
        ours: ours.observations.get(s.name) as Observation,
        ...(syncObs === undefined ? {} : { blocking: syncObs }),
        ...(py3Obs === undefined ? {} : { py3: py3Obs }),
      };
    }
  }
  if (py3 !== null && py3Version !== null) {
    let agree = 0;
    const byArea: Record<string, { compared: number; agree: number }> = {};
    for (const s of py3Scenarios) {
      const ops = s.steps.map((st) => normalizeStep(st).op);
      const p = py3.observations.get(s.name) as Observation;
      const o = ours.observations.get(s.name) as Observation;
      byArea[s.area] ??= { compared: 0, agree: 0 };
      const area = byArea[s.area] as { compared: number; agree: number };
      area.compared++;
      if (diffObservations(p, o, ops).length === 0) {
        agree++;
        area.agree++;
      }
    }
    summary.py3 = { version: py3Version, compared: py3Scenarios.length, agree, byArea };
  }
  return summary;
}

export class Python27Missing extends Error {
  constructor() {
    super(
      'CPython 2.7.18 is not available (`PYENV_VERSION=2.7.18 python -c "import httplib"` failed): ' +
        'the conformance suite cannot compare anything',
    );
  }
}

export function summaryLine(s: Summary): string {
  const b = s.blocking;
  const blocking =
    b === null
      ? ''
      : ` (blocking entry: ${b.agree} agree, ${b.deliberate} deliberate, ${b.failing} failing)`;
  return `conformance: ${s.total} scenarios, ${s.agree} agree, ${s.deliberate} deliberate, ${s.failing} failing${blocking}`;
}

function show(value: unknown, max = 400): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

/** A human report of the failures and the counts by area (without the summary line). */
export function report(s: Summary, verbose = false): string {
  const lines: string[] = [];
  for (const f of s.failures) {
    lines.push(`FAIL ${f.name}: ${f.reason}`);
    for (const m of f.mismatches) {
      lines.push(`  ${m.what}:`);
      lines.push(`    cpython 2.7: ${show(m.cpython, verbose ? 5000 : 400)}`);
      lines.push(`    ours:        ${show(m.ours, verbose ? 5000 : 400)}`);
      if ('expected' in m) lines.push(`    expected:    ${show(m.expected, verbose ? 5000 : 400)}`);
    }
  }
  lines.push('');
  lines.push(`against CPython ${s.python2Version}, by area (agree / deliberate / failing):`);
  for (const [area, c] of Object.entries(s.byArea)) {
    lines.push(`  ${area.padEnd(16)} ${c.agree} / ${c.deliberate} / ${c.failing}`);
  }
  if (s.py3 !== null) {
    const areas = Object.entries(s.py3.byArea)
      .map(([area, c]) => `${area} ${c.agree}/${c.compared}`)
      .join(', ');
    lines.push(
      `information: Python ${s.py3.version}'s http.client agrees with us on ${s.py3.agree} of ${s.py3.compared} scenarios (${areas})`,
    );
  }
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const arg = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i === -1 ? undefined : argv[i + 1];
  };
  let summary: Summary;
  try {
    summary = await runConformance({
      filter: arg('--filter'),
      py3: !argv.includes('--no-py3'),
      sync: !argv.includes('--no-sync'),
      details: arg('--json') !== undefined,
    });
  } catch (err) {
    if (err instanceof Python27Missing) {
      process.stderr.write(`\n!!! ${err.message}\n\n`);
      return 1;
    }
    throw err;
  }
  const json = arg('--json');
  if (json !== undefined) writeFileSync(json, `${JSON.stringify(summary, null, 2)}\n`);
  process.stdout.write(`${report(summary, argv.includes('--verbose'))}\n`);
  process.stdout.write(`${summaryLine(summary)}\n`);
  return summary.failing > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
