/**
 * CPython 2.7.18 as an oracle: the tests that compare with it run the fixtures under
 * `PYENV_VERSION=2.7.18 python`, and skip the comparison, loudly, when that is not the
 * Python they get.
 */
import { spawnSync } from 'node:child_process';

/** The environment that selects CPython 2.7.18 through pyenv. */
export const PY_ENV: NodeJS.ProcessEnv = { ...process.env, PYENV_VERSION: '2.7.18' };

/**
 * Why `PYENV_VERSION=2.7.18 python` is not Python `version` (`2.7` or `2.7.18`), or null
 * when it is. When it is not, says on stderr that `file` is skipping `what`.
 */
export function pythonMissing(version: string, file: string, what: string): string | null {
  const r = spawnSync('python', ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], {
    env: PY_ENV,
    encoding: 'utf8',
  });
  const found = r.stdout?.trim();
  if (r.status === 0 && found !== undefined && `${found}.`.startsWith(`${version}.`)) return null;
  const reason = `PYENV_VERSION=2.7.18 python is not Python ${version} (${
    r.error?.message ?? (found || r.stderr?.trim() || `exit ${r.status}`)
  })`;
  process.stderr.write(`\n*** ${file}: SKIPPING ${what}: ${reason}\n\n`);
  return reason;
}
