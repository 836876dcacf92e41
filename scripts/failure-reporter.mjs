// A node:test reporter that writes one JSON line per failed test (file, test name with its
// parents, the assertion's first lines) so run-tests.mjs can end a long run with a summary.
const FIRST_LINES = 6;

export default async function* failureReporter(source) {
  /** Per file, the names of the tests enclosing the one now running, by nesting level. */
  const parents = new Map();
  for await (const event of source) {
    const { name, file, line, nesting, details } = event.data ?? {};
    if (event.type === 'test:start') {
      const names = parents.get(file) ?? [];
      names[nesting] = name;
      parents.set(file, names);
      continue;
    }
    if (event.type !== 'test:fail') continue;
    const error = details?.error;
    // A suite or parent test that failed only because a subtest did adds nothing.
    if (error?.failureType === 'subtestsFailed') continue;
    const cause = error?.cause ?? error;
    const message = String(cause?.message ?? cause ?? 'failed')
      .split('\n')
      .filter((text) => text.trim() !== '')
      .slice(0, FIRST_LINES);
    const path = [...(parents.get(file) ?? []).slice(0, nesting), name];
    yield `${JSON.stringify({ file, line, name: path.join(' > '), message })}\n`;
  }
}
