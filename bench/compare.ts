/**
 * `npm run bench:compare -- BEFORE.json AFTER.json [--all]`: compares two results files of
 * `npm run bench` (e.g. before and after an optimisation) row by row. By default only the
 * httplib-ts rows are shown; `--all` shows every row both files have.
 *
 * Absolute rates move with the machine's load between two runs; the ratios to the floor
 * and to undici, taken within each run's rounds, are the figures to compare.
 */
import { readFileSync } from 'node:fs';

interface RowResult {
  id: string;
  label: string;
  median: {
    rate: number | null;
    cpuUsPerRequest: number | null;
    rssAboveBaselineMiB: number | null;
  };
  ratios: { floor: number | null; onread: number | null; undici: number | null };
}

interface Results {
  machine: { commit: string; date: string };
  pinning: string;
  scenarios: Array<{ id: string; title: string; unit: string; rows: RowResult[] }>;
}

function load(path: string): Results {
  return JSON.parse(readFileSync(path, 'utf8')) as Results;
}

function num(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined) return '–';
  return n.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function ratio(n: number | null | undefined): string {
  return n === null || n === undefined ? '–' : n.toFixed(2);
}

function change(a: number | null | undefined, b: number | null | undefined): string {
  if (a === null || a === undefined || b === null || b === undefined || a === 0) return '–';
  return `${(b / a).toFixed(2)}×`;
}

function main(): void {
  const args = process.argv.slice(2);
  const all = args.includes('--all');
  const files = args.filter((a) => a !== '--all');
  if (files.length !== 2) {
    console.error('usage: npm run bench:compare -- BEFORE.json AFTER.json [--all]');
    process.exit(2);
  }
  const before = load(files[0] as string);
  const after = load(files[1] as string);
  const out: string[] = [
    `## ${before.machine.commit} (${before.machine.date}) → ${after.machine.commit} (${after.machine.date})`,
    '',
    `Pinning: ${before.pinning} → ${after.pinning}. Rates are medians; ratios are medians of within-round ratios.`,
    '',
  ];
  for (const scenario of after.scenarios) {
    const old = before.scenarios.find((s) => s.id === scenario.id);
    if (old === undefined) continue;
    const rows = scenario.rows.filter(
      (r) => (all || r.id.startsWith('httplib:')) && old.rows.some((o) => o.id === r.id),
    );
    if (rows.length === 0) continue;
    const rss = scenario.id.startsWith('rss');
    out.push(`### ${scenario.id}: ${scenario.title}`, '');
    out.push(
      `| client | ${scenario.unit} before | after | change | CPU µs/req before | after | × floor before | after | × undici before | after |${rss ? ' RSS MiB before | after |' : ''}`,
      `|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|${rss ? '---:|---:|' : ''}`,
    );
    for (const r of rows) {
      const o = old.rows.find((x) => x.id === r.id) as RowResult;
      const cells = [
        r.label,
        num(o.median.rate),
        num(r.median.rate),
        change(o.median.rate, r.median.rate),
        num(o.median.cpuUsPerRequest, 1),
        num(r.median.cpuUsPerRequest, 1),
        ratio(o.ratios.floor),
        ratio(r.ratios.floor),
        ratio(o.ratios.undici),
        ratio(r.ratios.undici),
      ];
      if (rss) {
        cells.push(num(o.median.rssAboveBaselineMiB, 1), num(r.median.rssAboveBaselineMiB, 1));
      }
      out.push(`| ${cells.join(' | ')} |`);
    }
    out.push('');
  }
  console.log(out.join('\n'));
}

main();
