/**
 * The `-o FILE` progress bar (issue 8, item 1): drawn on stderr only when stderr is a
 * terminal. The built command runs inside a real pseudo-terminal (`script -qfec … /dev/null`,
 * util-linux) against a server that sends its body in timed pieces, and the bar's text
 * (percentage, bytes, rate, ETA) is read back from the terminal; with stderr piped,
 * nothing is drawn. `formatProgress` is also checked on its own.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  formatBytes,
  formatDuration,
  formatProgress,
  lineBreakForMessage,
  ProgressBar,
} from '../../src/cli/progress.ts';
import { type HttpServer, httpServer } from '../integration/servers.ts';
import {
  type CliResult,
  ensureBuilt,
  MAIN,
  runCli,
  runProgram,
  withTempDir,
} from './cli-harness.ts';

/** The options of a test that needs a pseudo-terminal. */
const TERMINAL = {
  skip:
    spawnSync('script', ['-qfec', 'true', '/dev/null']).status === 0
      ? false
      : 'script (util-linux) is not installed',
};

const PIECE = 100_000;
const TOTAL = 4 * PIECE;

/** A shell word. */
const sh = (word: string): string => `'${word.replace(/'/g, "'\\''")}'`;

/**
 * Run the built command with `args` in a pseudo-terminal, its stdout through the shell
 * command `pipe` when one is given; `out` of the result is what the terminal showed.
 */
function inTerminal(args: readonly string[], pipe?: string): Promise<CliResult> {
  const command = [process.execPath, MAIN, ...args].map(sh).join(' ');
  return runProgram('script', ['-qfec', pipe ? `${command} | ${pipe}` : command, '/dev/null']);
}

/** The lines the terminal showed, the bar's redraws (\r) split apart, escapes removed. */
function screen(output: string): string[] {
  return (
    output
      // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escapes are the point
      .replace(/\x1b\[K/g, '')
      .split(/\r\n|\r|\n/)
      .map((l) => l.trimEnd())
      .filter((l) => l !== '')
  );
}

describe('the progress bar', () => {
  let server: HttpServer;
  before(async () => {
    ensureBuilt();
    server = await httpServer((req, res) => {
      const chunked = req.url === '/chunked';
      res.writeHead(200, chunked ? {} : { 'Content-Length': TOTAL });
      // Four pieces 300 ms apart: the bar is redrawn in between.
      let sent = 0;
      const next = (): void => {
        res.write(Buffer.alloc(PIECE, 0x61 + sent));
        sent++;
        if (sent === 4) res.end();
        else setTimeout(next, 300);
      };
      next();
    });
  });
  after(() => server.close());
  const url = (path: string): string => `http://127.0.0.1:${server.port}${path}`;

  it(
    'in a terminal: percentage, bytes, rate and ETA while the length is known',
    TERMINAL,
    async () => {
      await withTempDir(async (tmp) => {
        const r = await inTerminal([url('/known'), '-o', tmp.file('out.bin')]);
        assert.equal(r.code, 0, r.out);
        const lines = screen(r.out);
        const bar =
          /^ {0,2}\d{1,3}% \[#*-*\] {2}[\d.]+ (B|KiB|MiB) \/ 390\.6 KiB {2}[\d.]+ (B|KiB|MiB)\/s {2}/;
        const during = lines.filter((l) => bar.test(l) && / {2}ETA \d+:\d\d$/.test(l));
        assert.ok(
          during.length >= 2,
          `redrawn during the transfer with an ETA:\n${lines.join('\n')}`,
        );
        assert.ok(
          during.some((l) => /^ {1,2}\d{2}%/.test(l)),
          `a percentage between 0 and 100 is shown:\n${lines.join('\n')}`,
        );
        const final = lines.at(-1) as string;
        assert.match(
          final,
          /^100% \[#+\] {2}390\.6 KiB \/ 390\.6 KiB {2}[\d.]+ (KiB|MiB)\/s {2}in \d+:\d\d$/,
        );
        assert.equal(fs.statSync(tmp.file('out.bin')).size, TOTAL);
      });
    },
  );

  it('in a terminal: bytes and rate when the length is not known', TERMINAL, async () => {
    await withTempDir(async (tmp) => {
      const r = await inTerminal([url('/chunked'), '-o', tmp.file('out.bin')]);
      assert.equal(r.code, 0, r.out);
      const lines = screen(r.out);
      assert.ok(!lines.some((l) => l.includes('%')), `no percentage:\n${lines.join('\n')}`);
      assert.ok(
        lines.some((l) =>
          /^[\d.]+ (KiB|MiB) {2}[\d.]+ (B|KiB|MiB)\/s {2}elapsed \d+:\d\d$/.test(l),
        ),
        `bytes and rate during the transfer:\n${lines.join('\n')}`,
      );
      assert.match(lines.at(-1) as string, /^390\.6 KiB {2}[\d.]+ (KiB|MiB)\/s {2}in \d+:\d\d$/);
      assert.equal(fs.statSync(tmp.file('out.bin')).size, TOTAL);
    });
  });

  it('nothing is drawn when stderr is a pipe', async () => {
    await withTempDir(async (tmp) => {
      const r = await runCli([url('/known'), '-o', tmp.file('out.bin')]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.equal(fs.statSync(tmp.file('out.bin')).size, TOTAL);
    });
  });

  it(
    'nothing is drawn without -o, even in a terminal (the body is on the screen)',
    TERMINAL,
    async () => {
      const r = await inTerminal([url('/known'), '-o', '-'], 'wc -c');
      assert.equal(r.code, 0, r.out);
      assert.deepEqual(screen(r.out), [String(TOTAL)]);
    },
  );
});

describe("a message while a bar's line is open (a signal's)", () => {
  it('starts on a new line only while a bar is drawn and not ended', () => {
    assert.equal(lineBreakForMessage(), '');
    const written: string[] = [];
    const out = { write: (text: string) => written.push(text), columns: 80 };
    for (const end of ['finish', 'abort'] as const) {
      const bar = new ProgressBar(out, 100);
      bar.update(10);
      assert.equal(lineBreakForMessage(), '\n');
      bar[end]();
      assert.equal(lineBreakForMessage(), '', end);
    }
    assert.ok(written.length > 0);
  });
});

describe('formatProgress', () => {
  it('with a known length: bar, percentage, bytes, rate, ETA', () => {
    const line = formatProgress({
      received: 512 * 1024,
      total: 2 * 1024 * 1024,
      elapsedMs: 2000,
      columns: 100,
      done: false,
    });
    assert.equal(
      line,
      ` 25% [${'#'.repeat(8)}${'-'.repeat(22)}]  512.0 KiB / 2.0 MiB  256.0 KiB/s  ETA 0:06`,
    );
  });

  it('done: the elapsed time instead of the ETA', () => {
    const line = formatProgress({
      received: 1000,
      total: 1000,
      elapsedMs: 65_000,
      columns: 100,
      done: true,
    });
    assert.match(line, /^100% \[#{30}\] {2}1000 B \/ 1000 B {2}15 B\/s {2}in 1:05$/);
  });

  it('an unknown length: bytes, rate, elapsed time', () => {
    const line = formatProgress({
      received: 3 * 1024 * 1024,
      total: null,
      elapsedMs: 3000,
      columns: 80,
      done: false,
    });
    assert.equal(line, '3.0 MiB  1.0 MiB/s  elapsed 0:03');
  });

  it('before any time passed, no rate and no ETA', () => {
    const line = formatProgress({
      received: 0,
      total: 100,
      elapsedMs: 0,
      columns: 80,
      done: false,
    });
    assert.match(line, / {2}-- B\/s {2}ETA --:--$/);
  });

  it('a narrow terminal drops the bar, and the line never wraps', () => {
    const line = formatProgress({
      received: 50,
      total: 100,
      elapsedMs: 1000,
      columns: 40,
      done: false,
    });
    assert.ok(!line.includes('['), line);
    assert.ok(line.length <= 39, line);
  });

  it('formats bytes and durations', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1023), '1023 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(5 * 1024 ** 3), '5.0 GiB');
    assert.equal(formatDuration(59.4), '0:59');
    assert.equal(formatDuration(3725), '1:02:05');
  });
});
