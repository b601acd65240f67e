/**
 * The public surface is tidy (issue 13): nothing internal in the declarations users see
 * or reachable at run time. For every class the package exports (the `ssl` namespace's
 * too), from either entry (the blocking one exports its connection classes as the
 * classes they are, so that a subclass can override their methods), the declaration
 * (src/, as the published .d.ts is made from it) has no `private`/`protected` member and
 * no member marked `@internal`, and every method or property found on the class at run
 * time (symbol-keyed ones included) is one the declaration shows as public; the `ssl`
 * namespace holds at run time exactly what it declares; `HTTPResponse` cannot be
 * constructed by users.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import * as httplib from '../../src/index.ts';
import * as blocking from '../../src/sync.ts';
import { ROOT } from '../cli/cli-harness.ts';
import { indexProgram, resolveAlias, SYNC } from './typecheck.ts';

/** The exported classes, by their runtime path (`HTTPConnection`, `ssl.SSLContext`). */
function exportedClasses(checker: ts.TypeChecker, index: ts.SourceFile): Map<string, ts.Symbol> {
  const out = new Map<string, ts.Symbol>();
  const module = checker.getSymbolAtLocation(index) as ts.Symbol;
  const visit = (prefix: string, symbols: ts.Symbol[]): void => {
    for (const exported of symbols) {
      const symbol = resolveAlias(checker, exported);
      if (symbol.flags & ts.SymbolFlags.Class) out.set(`${prefix}${exported.name}`, symbol);
      if (symbol.flags & ts.SymbolFlags.ValueModule && prefix === '') {
        visit(`${exported.name}.`, checker.getExportsOfModule(symbol));
      }
    }
  };
  visit('', checker.getExportsOfModule(module));
  return out;
}

function isInternal(symbol: ts.Symbol): boolean {
  return symbol.getJsDocTags().some((tag) => tag.name === 'internal');
}

function hidden(decl: ts.Declaration): boolean {
  const flags = ts.getCombinedModifierFlags(decl);
  return (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0;
}

function runtimeValue(module: object, path: string): unknown {
  let value: unknown = module;
  for (const part of path.split('.')) value = (value as Record<string, unknown>)[part];
  return value;
}

/** The name of a well-known symbol (`iterator` for `Symbol.iterator`), or null. */
function wellKnown(symbol: symbol): string | null {
  const name = Object.getOwnPropertyNames(Symbol).find(
    (n) => (Symbol as unknown as Record<string, unknown>)[n] === symbol,
  );
  return name ?? null;
}

/**
 * Own names of a class's prototype chain up to (not including) `Object`/`Error`, as the
 * compiler names them: a well-known symbol's `__@iterator@` (its id left out), another
 * symbol's by its description, which no declaration has.
 */
function runtimeNames(ctor: { prototype: object }): Set<string> {
  const names = new Set<string>();
  for (let p = ctor.prototype; p !== Object.prototype && p !== Error.prototype; ) {
    for (const name of Object.getOwnPropertyNames(p)) if (name !== 'constructor') names.add(name);
    for (const symbol of Object.getOwnPropertySymbols(p)) {
      const known = wellKnown(symbol);
      names.add(known === null ? symbol.toString() : `__@${known}@`);
    }
    p = Object.getPrototypeOf(p) as object;
  }
  return names;
}

/** A declared member's name as runtimeNames gives it (a symbol's id left out). */
function declaredName(name: string): string {
  return name.replace(/^(__@[^@]+@)\d+$/, '$1');
}

describe('the public surface', () => {
  const { checker, index } = indexProgram();
  const classes = exportedClasses(checker, index);
  const sync = indexProgram(SYNC);
  const syncClasses = exportedClasses(sync.checker, sync.index);
  const entries = [
    { entry: 'httplib-ts', checker, classes, module: httplib },
    { entry: 'httplib-ts/sync', checker: sync.checker, classes: syncClasses, module: blocking },
  ];

  it('finds the exported classes (the ssl namespace included)', () => {
    for (const name of ['HTTPConnection', 'HTTPSConnection', 'HTTPResponse', 'ssl.SSLContext']) {
      assert.ok(classes.has(name), name);
    }
  });

  it("finds the blocking entry's own classes (its connections, not the main entry's)", () => {
    for (const name of ['HTTPConnection', 'HTTPSConnection', 'HTTP', 'HTTPS']) {
      const file = syncClasses.get(name)?.declarations?.[0]?.getSourceFile().fileName ?? '';
      assert.match(path.relative(ROOT, file), /^src\/sync\//, name);
    }
    assert.ok(syncClasses.has('ssl.SSLContext'));
  });

  it('no exported class declares a private, protected or @internal member', () => {
    const found: string[] = [];
    for (const { entry, checker, classes } of entries) {
      for (const [name, symbol] of classes) {
        const type = checker.getDeclaredTypeOfSymbol(symbol);
        const statics = checker.getTypeOfSymbol(symbol);
        for (const member of [...type.getProperties(), ...statics.getProperties()]) {
          if (member.name === 'prototype' || member.name.startsWith('__#')) continue;
          const decl = member.declarations?.[0];
          if (decl !== undefined && hidden(decl)) {
            found.push(`${entry}: ${name}.${member.name} (hidden)`);
          }
          if (isInternal(member)) found.push(`${entry}: ${name}.${member.name} (@internal)`);
        }
      }
    }
    assert.deepEqual(found, []);
  });

  it('everything on an exported class at run time is declared public', () => {
    const found: string[] = [];
    for (const { entry, checker, classes, module } of entries) {
      for (const [name, symbol] of classes) {
        const ctor = runtimeValue(module, name) as { prototype: object };
        const declared = new Set(
          checker
            .getDeclaredTypeOfSymbol(symbol)
            .getProperties()
            .map((p) => declaredName(p.name)),
        );
        for (const own of runtimeNames(ctor)) {
          if (!declared.has(own)) found.push(`${entry}: ${name}.prototype.${own}`);
        }
      }
    }
    assert.deepEqual(found, []);
  });

  it('the ssl namespace holds at run time exactly what it declares', () => {
    const module = checker.getSymbolAtLocation(index) as ts.Symbol;
    const ssl = checker.getExportsOfModule(module).find((s) => s.name === 'ssl') as ts.Symbol;
    const declared = checker
      .getExportsOfModule(resolveAlias(checker, ssl))
      .filter((s) => resolveAlias(checker, s).flags & ts.SymbolFlags.Value)
      .map((s) => s.name)
      .sort();
    assert.deepEqual(Object.keys(httplib.ssl).sort(), declared);
    for (const name of ['toSSLError', 'clientSettings', 'tlsOptions']) {
      assert.equal(name in httplib.ssl, false, name);
    }
  });

  it('HTTPResponse cannot be constructed by users', () => {
    const Ctor = httplib.HTTPResponse as unknown as new (...args: unknown[]) => unknown;
    assert.throws(() => new Ctor(), TypeError);
    assert.throws(() => new Ctor(Symbol('HTTPResponse'), {}), TypeError);
    for (const name of ['begin', 'applyHead', 'takeOwnership', 'readHeadOnly']) {
      assert.equal(name in httplib.HTTPResponse.prototype, false, name);
    }
  });
});
