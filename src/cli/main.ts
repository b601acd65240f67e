#!/usr/bin/env node
/**
 * The `httplib` executable (package.json `bin`: built to dist/cli/main.js, which tsc
 * gives the shebang line, then bundled by scripts/bundle-cli.mjs with everything it
 * imports into one CommonJS file, dist/cli/cli.cjs, which dist/cli/main.cjs runs with a
 * V8 code cache, for the start-up). It only wires the process to command.ts: arguments, the
 * standard streams, the signals, and the exit once stdout and stderr are flushed.
 *
 * No top-level await (DESIGN.md): the promise is handled with `then`.
 */
import { runCommand } from './command.ts';
import { EXIT } from './exit-codes.ts';
import { removePendingFiles } from './output.ts';
import { lineBreakForMessage } from './progress.ts';

/** Exit with `code` once what was written to stdout and stderr has been handed over. */
function exit(code: number): void {
  process.exitCode = code;
  let waiting = 2;
  const done = (): void => {
    if (--waiting === 0) process.exit(code);
  };
  // A closed stdout (EPIPE) must not keep the process alive or throw: the callback
  // runs either way.
  process.stdout.write('', done);
  process.stderr.write('', done);
}

// An interrupted download must not leave its temporary file behind.
for (const [signal, code] of [
  ['SIGINT', EXIT.INTERRUPTED],
  ['SIGTERM', EXIT.TERMINATED],
  ['SIGHUP', EXIT.HUNG_UP],
] as const) {
  process.on(signal, () => {
    removePendingFiles();
    // One line, after the progress bar's if one is drawn.
    process.stderr.write(`${lineBreakForMessage()}httplib: interrupted (${signal})\n`);
    // End by the signal itself, as curl does (a shell shows 128 + its number: 130, 143),
    // so that a shell loop running the command stops too. Not process.exit(): it waits
    // for Node's thread pool, where a write to a FIFO nobody reads, or its open, may
    // block for ever. With no listener left, Node gives the signal back its default.
    // (On Windows a signal sent to itself ends the process with status 1: exit instead.)
    if (process.platform !== 'win32') {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code);
  });
}
// Reported as exit 23 by the request; never an uncaught 'error' event.
process.stdout.on('error', () => {});
// A closed stderr (`2>&1 | head`): what it would have shown is lost, the command goes on
// and ends with the code it would have had (before: an uncaught EPIPE, exit 1).
process.stderr.on('error', () => {});

runCommand(process.argv.slice(2), {
  // A getter: process.stdin is made (a stream, ~3 ms) only when `-d @-` reads it.
  get stdin() {
    return process.stdin;
  },
  stdout: process.stdout,
  stderr: process.stderr,
}).then(exit, (err: unknown) => {
  process.stderr.write(`httplib: internal error: ${String(err)}\n`);
  exit(EXIT.INTERNAL);
});
