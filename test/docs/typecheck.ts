/**
 * The TypeScript compiler with the project's options (tsconfig.json), for the tests that
 * typecheck documentation: the README's code blocks and the TSDoc `@example` blocks, each
 * written to a module of its own that imports the package as src/index.ts.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { ROOT } from '../cli/cli-harness.ts';

/** The package as the documentation's modules import it: its sources. */
export const INDEX = path.join(ROOT, 'src', 'index.ts');
/** The blocking entry (`httplib-ts/sync`), as the documentation's modules import it. */
export const SYNC = path.join(ROOT, 'src', 'sync.ts');

/** tsconfig.json's compiler options, with `noEmit`. */
export function projectOptions(): ts.CompilerOptions {
  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(ROOT, 'tsconfig.json'),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
  );
  assert.ok(config, 'tsconfig.json did not parse');
  return { ...config.options, noEmit: true };
}

/**
 * Write each of `sources` to `dir` as a module (`module-<i>.mts`) and typecheck them
 * together with the project's options (and `extra`). Returns the diagnostics in those modules and the
 * global ones (a diagnostic of src/ itself is left to `npm run typecheck`).
 */
export function typecheckModules(
  dir: string,
  sources: readonly string[],
  extra: ts.CompilerOptions = {},
): ts.Diagnostic[] {
  const files = sources.map((source, i) => {
    const file = path.join(dir, `module-${i}.mts`);
    fs.writeFileSync(file, source);
    return file;
  });
  // The modules import src/index.ts by its absolute path, which rewriting would refuse.
  const program = ts.createProgram(files, {
    ...projectOptions(),
    rewriteRelativeImportExtensions: false,
    ...extra,
  });
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file === undefined || files.includes(path.resolve(d.file.fileName)));
}

/** The program of one of the package's entries (src/index.ts unless given), and its checker. */
export function indexProgram(entry = INDEX): { checker: ts.TypeChecker; index: ts.SourceFile } {
  const prog = ts.createProgram([entry], projectOptions());
  const index = prog.getSourceFile(entry);
  assert.ok(index, `${entry} not in the program`);
  return { checker: prog.getTypeChecker(), index };
}

/** `symbol`, or what it is an alias of (a re-export). */
export function resolveAlias(checker: ts.TypeChecker, symbol: ts.Symbol): ts.Symbol {
  return symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
}
