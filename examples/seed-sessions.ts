/**
 * The four example sessions of Python 2.7's httplib documentation (GET then 404 on one
 * connection, HEAD, the form POST, PUT), translated by shared/API.md's rules and run
 * against a small server of our own on 127.0.0.1, since the seed's hosts
 * (www.python.org, bugs.python.org) are not reachable from tests.
 *
 *   node --import tsx examples/seed-sessions.ts
 *
 * The sessions and the server live in src/cli/demo.ts, which `httplib demo` (`npm start`)
 * plays as a Python transcript; `runSeedSessions` is also used by the tests, which assert
 * what it prints.
 */
import type { AddressInfo } from 'node:net';
import { runSeedSessions, seedServer } from '../src/cli/demo.ts';

export { runSeedSessions, seedServer };

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = seedServer();
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    runSeedSessions('127.0.0.1', port).then(
      () => server.close(),
      (err: unknown) => {
        console.error(err);
        process.exitCode = 1;
        server.close();
      },
    );
  });
}
