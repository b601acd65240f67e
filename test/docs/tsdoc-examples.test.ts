/**
 * Every export of the public API has an `@example` in its TSDoc (issue 8).
 *
 * The exports are what `src/index.ts` exports, resolved with the TypeScript compiler API:
 * re-exports are followed to their declarations, and the members of a namespace export
 * (`export * as ssl`) are exports too, named `ssl.<member>`. The rule:
 *
 * - A class, a function, an enum, and a `const` whose value is not a primitive (a frozen
 *   lookup object such as `HTTPStatus`, `responses` or `ssl.TLSVersion`, or an alias of
 *   a class such as `error`) must have an `@example` tag in its own TSDoc comment (the
 *   comment right before it; for overloads and merged declarations, the comment of any
 *   one declaration). The example must hold a fenced ` ```ts ` block.
 * - A plain constant (a `const` whose type is a number, string or boolean: the status
 *   codes `OK`, `NOT_FOUND`…, `HTTP_PORT`, `ssl.CERT_*`, `ssl.PROTOCOL_*`, `ssl.HAS_SNI`)
 *   needs no example of its own: its group's comment carries one instead, and that
 *   `@example` must name at least one constant of the group. The group of a namespace
 *   member is the namespace (its comment is the one on `export * as ssl` in index.ts);
 *   the group of any other constant is the module that declares it (its comment is the
 *   file-overview comment at the top of that file, e.g. `src/protocol/status.ts` for the
 *   status codes, `src/protocol/limits.ts` for the ports).
 * - Type-only exports (interfaces, type aliases) need no example, and neither does an
 *   export tagged `@internal` (typedoc leaves those out of the API docs).
 *
 * When the test fails it lists every export that misses its example.
 *
 * Every `@example` block in `src/` must also typecheck, as a module of its own with the
 * project's compiler options: `'httplib-ts'` is the sources (src/index.ts) and
 * `'httplib-ts/sync'` the blocking entry's (src/sync.ts), `httplib` is
 * imported when the example does not import it, and the free names the examples use for
 * "your connection", "your response" and "a writable" (`conn`, `response`, `out`) are
 * declared with those types unless the example declares them itself.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { ROOT, withTempDir } from '../cli/cli-harness.ts';
import { INDEX, indexProgram, resolveAlias, SYNC, typecheckModules } from './typecheck.ts';

/** A fenced TypeScript block inside an `@example`. */
const TS_FENCE = /```ts\n[\s\S]*?```/;

/** The free names examples may use, and the types they are declared with. */
const FREE_NAMES: Readonly<Record<string, string>> = {
  conn: 'httplib.HTTPConnection',
  response: 'httplib.HTTPResponse',
  out: 'NodeJS.WritableStream',
};

/** The `.ts` files under `dir`, recursively. */
function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every ```ts block of every `@example` in `src/`, with where it is. */
function allExampleBlocks(): Array<{ where: string; code: string }> {
  const out: Array<{ where: string; code: string }> = [];
  for (const file of sourceFiles(path.join(ROOT, 'src'))) {
    const text = fs.readFileSync(file, 'utf8');
    for (const comment of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
      const line = text.slice(0, comment.index).split('\n').length;
      for (const example of examples(comment[0])) {
        for (const block of example.matchAll(/```ts\n([\s\S]*?)```/g)) {
          out.push({ where: `${path.relative(ROOT, file)}:${line}`, code: block[1] as string });
        }
      }
    }
  }
  return out;
}

/** An example as a module: the package import mapped, and its free names declared. */
function exampleModule(where: string, code: string): string {
  const src = code
    .replaceAll("'httplib-ts/sync'", JSON.stringify(SYNC))
    .replaceAll("'httplib-ts'", JSON.stringify(INDEX));
  const prelude: string[] = [];
  if (!/\bimport \* as httplib\b/.test(src)) {
    prelude.push(`import * as httplib from ${JSON.stringify(INDEX)};`);
  }
  for (const [name, type] of Object.entries(FREE_NAMES)) {
    const declared = new RegExp(
      `\\b(?:const|let|var)\\s+(?:\\{[^}]*\\b${name}\\b[^}]*\\}|${name}\\b)|\\bimport\\b[^;]*\\b${name}\\b[^;]*\\bfrom\\b`,
    );
    if (!declared.test(src)) prelude.push(`declare const ${name}: ${type};`);
  }
  return `// ${where}\n${prelude.join('\n')}\n${src}\nexport {};\n`;
}

type Kind = 'needs-example' | 'plain-constant' | 'type-only' | 'internal';

interface Export {
  /** The public name: `HTTPConnection`, `ssl.SSLContext`. */
  readonly name: string;
  /** The symbol the name resolves to (aliases followed). */
  readonly symbol: ts.Symbol;
  /** The namespace export it is a member of (`ssl`), or null at the top level. */
  readonly namespace: { readonly name: string; readonly comment: string | null } | null;
}

/** Every export of the module, namespace members included. */
function exportsOf(checker: ts.TypeChecker, index: ts.SourceFile): Export[] {
  const module = checker.getSymbolAtLocation(index);
  assert.ok(module, 'src/index.ts has no module symbol');
  const out: Export[] = [];
  for (const exported of checker.getExportsOfModule(module)) {
    const symbol = resolveAlias(checker, exported);
    const namespace = (exported.declarations ?? []).find(ts.isNamespaceExport);
    if (namespace !== undefined) {
      // `export * as ssl from …`: the comment sits on the export declaration.
      const comment = rawJSDoc(namespace.parent);
      for (const member of checker.getExportsOfModule(symbol)) {
        out.push({
          name: `${exported.name}.${member.name}`,
          symbol: resolveAlias(checker, member),
          namespace: { name: exported.name, comment },
        });
      }
      continue;
    }
    out.push({ name: exported.name, symbol, namespace: null });
  }
  return out;
}

/** The JSDoc comment right before a node (its own; an earlier file comment is not). */
function ownJSDoc(node: ts.Node): ts.JSDoc | undefined {
  return ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc).at(-1);
}

/** The text of the JSDoc comment right before a statement, or null. */
function rawJSDoc(node: ts.Node): string | null {
  const sf = node.getSourceFile();
  const ranges = ts.getLeadingCommentRanges(sf.text, node.getFullStart()) ?? [];
  const last = ranges.at(-1);
  if (last === undefined) return null;
  const text = sf.text.slice(last.pos, last.end);
  return text.startsWith('/**') ? text : null;
}

/**
 * A file's overview comment: the first JSDoc comment of the file, when another JSDoc
 * comment follows it before the first statement, or that statement declares nothing
 * (an import or a re-export), so it is not the first declaration's own comment.
 */
function moduleComment(sf: ts.SourceFile): string | null {
  const first = sf.statements[0];
  if (first === undefined) return null;
  const docs = (ts.getLeadingCommentRanges(sf.text, first.getFullStart()) ?? [])
    .map((r) => sf.text.slice(r.pos, r.end))
    .filter((t) => t.startsWith('/**'));
  const head = docs[0];
  if (head === undefined) return null;
  const declaresNothing = ts.isImportDeclaration(first) || ts.isExportDeclaration(first);
  return docs.length >= 2 || declaresNothing ? head : null;
}

/** The `@example` sections of a raw comment (each up to the next tag or the end). */
function examples(comment: string): string[] {
  const body = comment
    .replace(/^\/\*\*|\*\/$/g, '')
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''))
    .join('\n');
  return body
    .split(/^(?=@\w)/m)
    .filter((s) => s.startsWith('@example'))
    .map((s) => s.slice('@example'.length));
}

function hasTsExample(comment: string | null | undefined): boolean {
  return comment != null && examples(comment).some((e) => TS_FENCE.test(e));
}

function declarations(symbol: ts.Symbol): ts.Declaration[] {
  return symbol.declarations ?? [];
}

function kind(checker: ts.TypeChecker, symbol: ts.Symbol): Kind {
  const decls = declarations(symbol);
  if (decls.some((d) => ts.getJSDocTags(d).some((t) => t.tagName.text === 'internal'))) {
    return 'internal';
  }
  const value =
    ts.SymbolFlags.Class |
    ts.SymbolFlags.Function |
    ts.SymbolFlags.Enum |
    ts.SymbolFlags.Variable |
    ts.SymbolFlags.ValueModule;
  if ((symbol.flags & value) === 0) return 'type-only';
  if (symbol.flags & ts.SymbolFlags.Variable && !(symbol.flags & ts.SymbolFlags.Class)) {
    const type = checker.getTypeOfSymbol(symbol);
    const primitive = ts.TypeFlags.NumberLike | ts.TypeFlags.StringLike | ts.TypeFlags.BooleanLike;
    if (type.flags & primitive) return 'plain-constant';
  }
  return 'needs-example';
}

function where(symbol: ts.Symbol): string {
  const decl = declarations(symbol)[0];
  if (decl === undefined) return '?';
  const sf = decl.getSourceFile();
  const { line } = sf.getLineAndCharacterOfPosition(decl.getStart());
  return `${path.relative(ROOT, sf.fileName)}:${line + 1}`;
}

/** The node whose JSDoc documents a declaration (a variable's is on its statement). */
function documented(decl: ts.Declaration): ts.Node {
  return ts.isVariableDeclaration(decl) ? decl.parent.parent : decl;
}

describe('TSDoc @example on every export', () => {
  const { checker, index } = indexProgram();
  const all = exportsOf(checker, index);
  const kinds = new Map(all.map((e) => [e.name, kind(checker, e.symbol)]));

  it('resolves the whole public API (re-exports and the ssl namespace)', () => {
    assert.ok(all.length >= 120, `only ${all.length} exports found`);
    const expected: Array<[string, Kind]> = [
      ['HTTPConnection', 'needs-example'],
      ['setdefaulttimeout', 'needs-example'],
      ['HTTPStatus', 'needs-example'],
      ['error', 'needs-example'],
      ['OK', 'plain-constant'],
      ['HTTP_PORT', 'plain-constant'],
      ['RequestBody', 'type-only'],
      ['HTTPConnectionOptions', 'type-only'],
      ['ssl.SSLContext', 'needs-example'],
      ['ssl.TLSVersion', 'needs-example'],
      ['ssl.create_default_context', 'needs-example'],
      ['ssl.CERT_REQUIRED', 'plain-constant'],
      ['ssl.PROTOCOL_TLS_CLIENT', 'plain-constant'],
      ['ssl.DefaultContextOptions', 'type-only'],
      ['ssl.SSLError', 'needs-example'],
      ['ssl.CertificateError', 'needs-example'],
    ];
    for (const [name, k] of expected) assert.equal(kinds.get(name), k, name);
  });

  it('has an @example (a ```ts block) on each class, function and non-primitive const', () => {
    const missing: string[] = [];
    for (const e of all) {
      if (kinds.get(e.name) !== 'needs-example') continue;
      const ok = declarations(e.symbol).some((d) =>
        hasTsExample(ownJSDoc(documented(d))?.getText()),
      );
      if (!ok) missing.push(`${e.name} (${where(e.symbol)})`);
    }
    assert.deepEqual(
      missing,
      [],
      `${missing.length} exports have no @example with a \`\`\`ts block:\n  ${missing.join('\n  ')}`,
    );
  });

  it("has an @example naming one of them on each plain-constant group's comment", () => {
    const groups = new Map<string, { comment: string | null; names: string[] }>();
    for (const e of all) {
      if (kinds.get(e.name) !== 'plain-constant') continue;
      let key: string;
      let comment: string | null;
      if (e.namespace !== null) {
        key = `namespace ${e.namespace.name} (the comment on its export in src/index.ts)`;
        comment = e.namespace.comment;
      } else {
        const sf = (declarations(e.symbol)[0] as ts.Declaration).getSourceFile();
        key = `module ${path.relative(ROOT, sf.fileName)} (its file-overview comment)`;
        comment = moduleComment(sf);
      }
      const group = groups.get(key) ?? { comment, names: [] };
      group.names.push(e.symbol.name);
      groups.set(key, group);
    }
    assert.ok(groups.size >= 3, `only ${groups.size} groups of constants`);
    const missing: string[] = [];
    for (const [key, { comment, names }] of groups) {
      const found = comment === null ? [] : examples(comment).filter((x) => TS_FENCE.test(x));
      const named = found.some((x) => names.some((n) => new RegExp(`\\b${n}\\b`).test(x)));
      if (!named)
        missing.push(`${key}: ${names.slice(0, 4).join(', ')}${names.length > 4 ? ', …' : ''}`);
    }
    assert.deepEqual(
      missing,
      [],
      `${missing.length} groups of constants have no @example naming one of them:\n  ${missing.join('\n  ')}`,
    );
  });

  it('typechecks every @example block in src/ with the project compiler options', async () => {
    const blocks = allExampleBlocks();
    assert.ok(blocks.length >= 40, `only ${blocks.length} example blocks found`);
    await withTempDir(async (tmp) => {
      const modules = blocks.map((b) => exampleModule(b.where, b.code));
      const problems = typecheckModules(tmp.dir, modules)
        .filter((d) => d.file !== undefined)
        .map((d) => {
          const sf = d.file as ts.SourceFile;
          const lines = sf.text.split('\n');
          const { line } = sf.getLineAndCharacterOfPosition(d.start ?? 0);
          const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
          return `${lines[0]?.slice(3)}: ${message}\n    ${lines[line]?.trim()}`;
        });
      assert.deepEqual(problems, [], `${problems.length} problems:\n  ${problems.join('\n  ')}`);
    });
  });
});
