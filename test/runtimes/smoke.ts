/**
 * The runtime smoke test (issue 16; `.ci/run` runs it): the packed package, installed
 * into a scratch project as a user would install it, runs the programs of examples/ (the
 * Python documentation's sessions, a streamed upload and download, HTTPS with a private
 * CA and a client certificate, a CONNECT tunnel) on each runtime named on the command
 * line, against local peers (test/examples/harness.ts), with the command each example's
 * opening comment documents for that runtime.
 *
 * Usage: node --import tsx test/runtimes/smoke.ts node@22.23.3 bun@1.4.5 deno@2.9.6 …
 *
 * Each runtime comes from the npm registry, pinned (`npx -y -p <name>@<version>`). Prints
 * one line per runtime and example, then the matrix; exits 1 when any run failed.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import process from 'node:process';
import { ensureBuilt, ROOT, runProgram } from '../cli/cli-harness.ts';
import { checkExample, exampleCases, startPeers } from '../examples/harness.ts';

type Runtime = 'node' | 'bun' | 'deno';

/** The command documented in `file`'s opening comment for `runtime`, as argv (file excluded). */
function documentedCommand(file: string, runtime: Runtime): string[] {
  const header = fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8').split('*/')[0] ?? '';
  const line = new RegExp(
    `\\b(${runtime}(?: run(?: --[a-z-]+)*)?) examples/${file.replace('.', '\\.')}`,
  );
  // The comment may wrap a long command: join the comment's lines first.
  const flat = header.replace(/\n \*\s*/g, ' ');
  const found = line.exec(flat);
  if (found === null) throw new Error(`examples/${file} documents no command for ${runtime}`);
  return (found[1] as string).split(' ').slice(1);
}

/**
 * The binary of `spec` (`deno@2.9.6`), installed from the npm registry by npx, checked to
 * be that version; `label` is `deno 2.9.6`.
 */
function resolveBinary(spec: string): { runtime: Runtime; bin: string; label: string } {
  const [runtime, pinned] = spec.split('@') as [Runtime, string | undefined];
  if (!['node', 'bun', 'deno'].includes(runtime) || pinned === undefined) {
    throw new Error(`${spec}: expected node@X.Y.Z, bun@X.Y.Z or deno@X.Y.Z`);
  }
  const bin = execFileSync('npx', ['-y', '-p', spec, '-c', `command -v ${runtime}`], {
    encoding: 'utf8',
  }).trim();
  const reported = execFileSync(bin, ['--version'], { encoding: 'utf8' });
  const version = /\d+\.\d+\.\d+/.exec(reported)?.[0];
  if (version !== pinned)
    throw new Error(`${bin} --version says ${reported.trim()}, not ${pinned}`);
  return { runtime, bin, label: `${runtime} ${version}` };
}

/** A scratch project with the packed package installed and examples/ copied in. */
function scratchProject(): string {
  ensureBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'httplib-ts-smoke-'));
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
      cwd: ROOT,
      encoding: 'utf8',
    }),
  )[0];
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'smoke', private: true, type: 'module' }),
  );
  execFileSync(
    'npm',
    ['install', '--offline', '--no-audit', '--no-fund', path.join(dir, packed.filename)],
    { cwd: dir, stdio: 'ignore' },
  );
  fs.cpSync(path.join(ROOT, 'examples'), path.join(dir, 'examples'), { recursive: true });
  return dir;
}

async function main(specs: string[]): Promise<number> {
  if (specs.length === 0) {
    console.error('usage: smoke.ts RUNTIME@VERSION …  (node@22.23.3, bun@1.4.5, deno@2.9.6)');
    return 2;
  }
  const runtimes = specs.map(resolveBinary);
  const project = scratchProject();
  const peers = await startPeers();
  const results: Array<[string, string, boolean]> = [];
  try {
    for (const { runtime, bin, label } of runtimes) {
      for (const c of exampleCases(peers)) {
        const command = documentedCommand(c.file, runtime);
        let ok = true;
        try {
          await checkExample(
            peers,
            c,
            (file, args) =>
              runProgram(bin, [...command, `examples/${file}`, ...args], {
                cwd: project,
                timeoutMs: 60_000,
              }),
            runtime,
          );
        } catch (err) {
          ok = false;
          console.error(`${label}: examples/${c.name} failed:\n${(err as Error).message}`);
        }
        console.log(`${ok ? 'ok' : 'FAILED'}  ${label}  examples/${c.name}`);
        results.push([label, c.name, ok]);
      }
    }
  } finally {
    await peers.close();
    fs.rmSync(project, { recursive: true, force: true });
  }
  const files = [...new Set(results.map(([, f]) => f))];
  console.log(`\n| runtime | ${files.join(' | ')} |\n| --- |${' --- |'.repeat(files.length)}`);
  for (const { label } of runtimes) {
    const cells = files.map((f) =>
      results.find(([l, g]) => l === label && g === f)?.[2] ? 'ok' : 'FAILED',
    );
    console.log(`| ${label} | ${cells.join(' | ')} |`);
  }
  return results.every(([, , ok]) => ok) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
