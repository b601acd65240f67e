/**
 * Running the built `httplib` command (dist/cli/main.cjs) as a child process, for the
 * CLI tests: `ensureBuilt()` (in a `before`) builds dist when it is missing or older
 * than src (scripts/build-if-stale.mjs, locked against the other test files doing the
 * same), and `runCli()` spawns the command and collects its exit code and output.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import type * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MAIN = path.join(ROOT, 'dist', 'cli', 'main.cjs');
const BUILD_IF_STALE = path.join(ROOT, 'scripts', 'build-if-stale.mjs');

/** Build dist/ if it is stale; fails the test run when the build fails. */
export function ensureBuilt(): void {
  const r = spawnSync(process.execPath, [BUILD_IF_STALE], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `the build failed:\n${r.stdout}${r.stderr}`);
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  /** stdout as text. */
  readonly out: string;
}

export interface RunOptions {
  /** Written to the child's stdin, then stdin is ended; a function may write over time. */
  readonly stdin?: string | Buffer | ((stdin: NodeJS.WritableStream) => void);
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Kill the child after this long (default 20 s). */
  readonly timeoutMs?: number;
  /** Called with the child's stdout stream as soon as it is spawned. */
  readonly onStdout?: (stdout: Readable) => void;
  /** Called once the child is spawned. */
  readonly onSpawn?: (child: import('node:child_process').ChildProcess) => void;
}

/** Run `node dist/cli/main.cjs ...args`. */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  return runNode([MAIN, ...args], options);
}

/** Run `node ...args` (a script and its arguments) and collect what it prints. */
export function runNode(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  return runProgram(process.execPath, args, options);
}

/** Run any program and collect what it prints. */
export function runProgram(
  program: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<CliResult> {
  const child = spawn(program, [...args], {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  options.onSpawn?.(child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  options.onStdout?.(child.stdout);
  child.stdin.on('error', () => {});
  const stdin = options.stdin;
  if (typeof stdin === 'function') stdin(child.stdin);
  else child.stdin.end(stdin ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out);
      resolve({
        code,
        signal,
        stdout,
        stderr: Buffer.concat(err).toString('utf8'),
        out: stdout.toString('utf8'),
      });
    });
  });
}

export interface TempDir {
  readonly dir: string;
  /** The absolute path of `name` in the directory. */
  file(name: string): string;
  remove(): void;
}

/** A fresh temporary directory; `remove()` deletes it. */
export function tempDir(): TempDir {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'httplib-cli-'));
  return {
    dir,
    file: (name) => path.join(dir, name),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** Run `fn` with a fresh temporary directory, deleted afterwards whatever happens. */
export async function withTempDir<T>(fn: (tmp: TempDir) => Promise<T>): Promise<T> {
  const tmp = tempDir();
  try {
    return await fn(tmp);
  } finally {
    tmp.remove();
  }
}

/**
 * Assert the command failed the documented way: exit `code`, nothing on stdout, and
 * stderr one line `httplib: …` matching `message`.
 */
export function assertFailure(r: CliResult, code: number, message: RegExp): void {
  assert.equal(r.code, code, `exit ${r.code}, expected ${code}; stderr: ${r.stderr}`);
  assert.equal(r.out, '', 'nothing on stdout');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0] as string, /^httplib: /);
  assert.match(lines[0] as string, message);
}

/** A TCP port on 127.0.0.1 that nothing listens on (a server is opened and closed). */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}
