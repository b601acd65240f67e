// A node:test reporter that says nothing until the run ends, then lists every failed
// test with its file and the first lines of its error. CI shows only the tail of a
// long TAP stream: this puts what failed where it can be read.
export default async function* failureSummary(source) {
  const failed = [];
  for await (const event of source) {
    if (event.type !== 'test:fail') continue;
    const { name, file, details } = event.data;
    const error = details?.error;
    // A suite fails because its tests failed: list only the tests themselves.
    if (error?.failureType === 'subtestsFailed') continue;
    const cause = error?.cause ?? error;
    const text = String(cause?.stack ?? cause?.message ?? cause ?? 'failed');
    failed.push({ name, file: file ?? '?', text: text.split('\n').slice(0, 8).join('\n    ') });
  }
  if (failed.length === 0) return;
  yield `\n# ${failed.length} failed test(s):\n`;
  for (const f of failed) yield `# - ${f.file}\n#   ${f.name}\n    ${f.text}\n`;
}
