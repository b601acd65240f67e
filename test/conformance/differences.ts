/**
 * The table of deliberate differences from CPython 2.7 (`differences.json`): loading,
 * checking, and rendering it as markdown for the README's "Differences from Python".
 *
 *   node --import tsx test/conformance/differences.ts --markdown
 *   node --import tsx test/conformance/differences.ts --check README.md
 *   node --import tsx test/conformance/differences.ts --write README.md   (regenerate it)
 *
 * prints the table, or checks that a file (the README) holds it verbatim. Each entry names the scenarios that show it; those scenarios carry
 * an `expect` block asserting our behaviour, and run.ts counts them as "deliberate".
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface Difference {
  /** Short stable id, e.g. `remote-disconnected`. */
  id: string;
  /** One line: the topic. */
  title: string;
  /** Where it comes from: `API.md` (the "stricter" section) or `decision <n>`. */
  source: string;
  /** What CPython 2.7.18 does. */
  cpython: string;
  /** What httplib-ts does. */
  ours: string;
  /** Why. */
  why: string;
  /** Conformance scenarios that show it. */
  scenarios: string[];
}

export const DIFFERENCES_FILE = new URL('./differences.json', import.meta.url).pathname;

export function loadDifferences(file = DIFFERENCES_FILE): Difference[] {
  const data = JSON.parse(readFileSync(file, 'utf8')) as { differences: Difference[] };
  const ids = new Set<string>();
  for (const d of data.differences) {
    for (const key of ['id', 'title', 'source', 'cpython', 'ours', 'why'] as const) {
      if (typeof d[key] !== 'string' || d[key] === '') {
        throw new Error(`differences.json: entry ${d.id ?? '?'} lacks "${key}"`);
      }
    }
    if (!Array.isArray(d.scenarios) || d.scenarios.length === 0) {
      throw new Error(`differences.json: ${d.id} names no scenario`);
    }
    if (ids.has(d.id)) throw new Error(`differences.json: duplicate id ${d.id}`);
    ids.add(d.id);
  }
  return data.differences;
}

/** Scenario name → the ids of the differences that list it. */
export function scenarioIndex(diffs: readonly Difference[]): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const d of diffs) {
    for (const s of d.scenarios) index.set(s, [...(index.get(s) ?? []), d.id]);
  }
  return index;
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/** The table as markdown (the README's "Differences from Python" section body). */
export function toMarkdown(diffs: readonly Difference[]): string {
  const lines = ['| Topic | CPython 2.7 | httplib-ts | Why |', '| --- | --- | --- | --- |'];
  for (const d of diffs) {
    lines.push(`| ${cell(d.title)} | ${cell(d.cpython)} | ${cell(d.ours)} | ${cell(d.why)} |`);
  }
  lines.push('');
  lines.push(
    'Each row is shown by conformance scenarios (`test/conformance/differences.json`) that ' +
      "assert this package's behaviour; every other scenario must agree with CPython 2.7.18.",
  );
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const diffs = loadDifferences();
  const check = process.argv.indexOf('--check');
  if (check !== -1) {
    const file = process.argv[check + 1] ?? 'README.md';
    if (!readFileSync(file, 'utf8').includes(toMarkdown(diffs))) {
      process.stderr.write(
        `${file} does not hold the table of test/conformance/differences.json: ` +
          'regenerate it with `node --import tsx test/conformance/differences.ts --markdown`\n',
      );
      process.exitCode = 1;
    }
  } else if (process.argv.includes('--write')) {
    // Replace the README's table between its markers with a freshly generated one.
    const file = process.argv[process.argv.indexOf('--write') + 1] ?? 'README.md';
    const text = readFileSync(file, 'utf8');
    const start = '<!-- differences:start -->\n';
    const end = '<!-- differences:end -->';
    const a = text.indexOf(start);
    const b = text.indexOf(end);
    if (a === -1 || b < a) throw new Error(`${file} has no differences markers`);
    writeFileSync(file, text.slice(0, a + start.length) + toMarkdown(diffs) + text.slice(b));
  } else if (process.argv.includes('--markdown')) {
    process.stdout.write(toMarkdown(diffs));
  } else {
    process.stdout.write(`${JSON.stringify(diffs.map((d) => d.id))}\n`);
  }
}
