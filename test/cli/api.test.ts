/**
 * The command uses the package's public API only, imported for its start-up from the
 * modules index.ts re-exports (src/cli/api.ts, and src/cli/tls.ts for https:// only):
 * every name it takes must be the very object `import * as httplib` gives, so that the
 * command can never drift onto a private class or an error `instanceof` would miss.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as api from '../../src/cli/api.ts';
import * as tls from '../../src/cli/tls.ts';
import * as httplib from '../../src/index.ts';

/** The public object of that name: at the top of the package or in its `ssl` namespace. */
function publicNamed(name: string): unknown {
  const top = httplib as unknown as Record<string, unknown>;
  const ssl = httplib.ssl as unknown as Record<string, unknown>;
  if (name in top) return top[name];
  if (name in ssl) return ssl[name];
  assert.fail(`${name} is not part of the public API`);
}

describe('the command takes the public API only', () => {
  it('api.ts: each name is the object index.ts exports under that name', () => {
    const names = Object.keys(api);
    assert.ok(names.length >= 10, names.join(', '));
    for (const name of names) {
      assert.equal((api as Record<string, unknown>)[name], publicNamed(name), name);
    }
  });

  it('tls.ts: HTTPSConnection is the public one', () => {
    assert.equal(tls.HTTPSConnection, httplib.HTTPSConnection);
  });
});
