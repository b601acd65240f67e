/**
 * The `httplib` command: parse the arguments, run `--help`, `--version`, `demo` or a
 * request, and turn every failure into one `httplib: …` line on stderr and an exit code
 * (exit-codes.ts). It never calls `process.exit`: main.ts does, once output is flushed.
 */
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { type Command, helpText, parseCommand } from './args.ts';
import { CliError, EXIT, oneLine } from './exit-codes.ts';
import { type TransferIO, transfer } from './transfer.ts';

/** The package's version, from its package.json (two levels up in src/ and in dist/). */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export interface CommandIO {
  readonly stdin: Readable;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean; readonly columns?: number };
}

function report(io: CommandIO, err: unknown, verbose: boolean): number {
  if (err instanceof CliError) {
    io.stderr.write(`httplib: ${err.message}\n`);
    if (verbose && err.exitCode === EXIT.INTERNAL && err.cause instanceof Error) {
      io.stderr.write(`${err.cause.stack ?? ''}\n`);
    }
    return err.exitCode;
  }
  const text = err instanceof Error ? `${err.name}: ${oneLine(err.message)}` : String(err);
  io.stderr.write(`httplib: internal error: ${text}\n`);
  if (verbose && err instanceof Error) io.stderr.write(`${err.stack ?? ''}\n`);
  return EXIT.INTERNAL;
}

/** Run the command with `argv` (the arguments after the script); resolves to the exit code. */
export async function runCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (err) {
    return report(io, err, false);
  }
  const version = packageVersion();
  switch (command.kind) {
    case 'help':
      io.stdout.write(helpText(version));
      return EXIT.OK;
    case 'version':
      io.stdout.write(`httplib-ts ${version} (Node.js ${process.version})\n`);
      return EXIT.OK;
    case 'demo':
      try {
        // Loaded only for `demo`: its server needs node:http, which a download does not
        // (a third of the command's start-up time went to loading it, issue 14).
        const { runDemo } = await import('./demo.ts');
        const mismatch = await runDemo((line) => io.stdout.write(`${line}\n`), {
          debugOutput: command.verbose ? io.stderr : undefined,
        });
        if (mismatch === null) return EXIT.OK;
        return report(
          io,
          new CliError(EXIT.INTERNAL, `demo: not what Python's documentation shows: ${mismatch}`),
          false,
        );
      } catch (err) {
        return report(io, err, command.verbose);
      }
    case 'fetch': {
      // Not a spread: that would read the `stdin` getter, making the stream at once.
      const transferIO: TransferIO = {
        get stdin() {
          return io.stdin;
        },
        stdout: io.stdout,
        stderr: io.stderr,
        version,
      };
      try {
        return await transfer(command.options, transferIO);
      } catch (err) {
        return report(io, err, command.options.verbose);
      }
    }
  }
}
