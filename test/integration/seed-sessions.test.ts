/**
 * The seed's four example sessions, run against a real node:http server on 127.0.0.1,
 * asserting what they print (the seed shows `200 OK`, `404 Not Found`, `0`, `True`,
 * `302 Found` with the redirect text, and `200, OK`).
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runSeedSessions, seedServer } from '../../src/cli/demo.ts';

describe("the seed's example sessions", () => {
  const server = seedServer();
  let port = 0;
  const sockets = new Set<import('node:net').Socket>();
  before(async () => {
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it('print what the seed prints', async () => {
    const lines: string[] = [];
    await runSeedSessions('127.0.0.1', port, (l) => lines.push(l));
    assert.deepEqual(lines, [
      '# GET, then a 404 on the same connection',
      '200 OK',
      '404 Not Found',
      'read 33 and 9 bytes',
      '# HEAD never returns any data',
      '200 OK',
      '0',
      'true',
      '# POST a form',
      '302 Found',
      'Redirecting to <a href="http://bugs.python.org/issue12524">http://bugs.python.org/issue12524</a>',
      '# PUT',
      '200, OK',
    ]);
  });

  it('GET then 404 use one connection', async () => {
    let connections = 0;
    const count = () => connections++;
    server.on('connection', count);
    try {
      await runSeedSessions('127.0.0.1', port, () => {});
    } finally {
      server.off('connection', count);
    }
    // Four sessions, four connections: the first one carried two requests.
    assert.equal(connections, 4);
  });
});
