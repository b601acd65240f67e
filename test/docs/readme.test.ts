/**
 * The README is the front door: what it promises must stay true.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadDifferences, toMarkdown } from '../conformance/differences.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

/** The text of the `## title` section, up to the next `## `. */
function sectionOf(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  assert.notEqual(start, -1, `no ${title} section`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

describe('README', () => {
  it('holds the table of deliberate differences generated from the conformance suite', () => {
    // Regenerate with: node --import tsx test/conformance/differences.ts --write README.md
    assert.ok(readme.includes(toMarkdown(loadDifferences())), 'README table is stale');
  });

  it('names in its Security section only tests and scripts that exist', () => {
    const start = readme.indexOf('\n## Security\n');
    assert.notEqual(start, -1, 'no Security section');
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const paths = [...section.matchAll(/`(test\/[^`]*)`/g)].map((m) => m[1] as string);
    assert.ok(paths.length >= 10, `only ${paths.length} test paths named`);
    for (const path of paths) {
      assert.ok(existsSync(new URL(`../../${path}`, import.meta.url)), `${path} does not exist`);
    }
    const scripts = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
      .scripts as Record<string, string>;
    for (const [, name] of section.matchAll(/`npm run (\w+)`/g)) {
      assert.ok(name !== undefined && name in scripts, `npm run ${name}: no such script`);
    }
  });

  it('gives the quick-start and test commands', () => {
    for (const command of ['npm install', 'npm start', 'npm test']) {
      assert.ok(readme.includes(command), command);
    }
  });

  it('says how to install the package: the tarball npm pack writes, then the registry', () => {
    const section = sectionOf('Install');
    assert.ok(section.includes('npm pack'), 'npm pack');
    assert.ok(section.includes(`npm install ../httplib-ts/httplib-ts-${pkg.version}.tgz`));
    assert.ok(section.includes('npm install httplib-ts'), 'the registry, once published');
    for (const fact of ['ESM only', 'Node.js ≥ 20.19', 'TypeScript ≥ 5.8', '`httplib-ts`']) {
      assert.ok(section.includes(fact), fact);
    }
  });

  it('states the runtime matrix that .ci/run pins', () => {
    const ci = readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8');
    const pinned = [...ci.matchAll(/^[A-Z0-9]+=(node|bun|deno)@(\d+\.\d+\.\d+)$/gm)];
    assert.equal(pinned.length, 4, 'node@22, node@24, bun and deno pinned in .ci/run');
    const section = sectionOf('Runtimes');
    for (const [, runtime, version] of pinned) {
      const name = { node: 'Node.js', bun: 'Bun', deno: 'Deno' }[runtime as string] as string;
      assert.match(
        section,
        new RegExp(`\\| ${name}[^|]*\\(${version?.replaceAll('.', '\\.')}\\) \\|`),
      );
    }
  });

  it('links only to its own sections, and speaks no internal jargon', () => {
    for (const [, target] of readme.matchAll(/\]\(([^)]*)\)/g)) {
      // A relative link would be broken on the registry's page, and the files the README
      // names are in the repository, not in the package: only anchors and full URLs.
      assert.match(target as string, /^(#[a-z0-9-]+|https:\/\/\S+)$/, `link to ${target}`);
      if (target?.startsWith('#')) {
        const heading = /^#+ .*$/gm;
        const anchors = [...readme.matchAll(heading)].map((m) =>
          m[0]
            .replace(/^#+ /, '')
            .toLowerCase()
            .replace(/[^a-z0-9 -]/g, '')
            .replaceAll(' ', '-'),
        );
        assert.ok(anchors.includes(target.slice(1)), `no section for ${target}`);
      }
    }
    for (const jargon of [/\bseed\b/i, /API\.md/, /shared\/reference/]) {
      assert.doesNotMatch(readme, jargon);
    }
  });
});
