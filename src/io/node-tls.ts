/**
 * `node:tls`, loaded the first time something needs it: an HTTPS connection, an
 * `SSLContext` that loads certificates, the root store. Loading it costs Node a few
 * milliseconds (its TLS layer; a 1 MiB `httplib -o` download 78.5 -> 73.9 ms in 15
 * alternating rounds), which a plain-HTTP user and the `httplib` command fetching an
 * `http://` URL never pay (issue 14: the command's start-up).
 * `process.getBuiltinModule` (Node ≥ 20.16, Bun, Deno) loads it synchronously, so
 * nothing that uses it has to become async. Types come from `import type`, which
 * loads nothing. Must not do anything but load.
 *
 * `node:crypto` likewise (`nodeCrypto()`): only certificate code (x509-der.ts, ca-store.ts)
 * uses it, and loading it at start cost the command ~2.7 ms of a plain-HTTP download.
 */
import type * as Crypto from 'node:crypto';
import type * as Tls from 'node:tls';

let loaded: typeof Tls | undefined;
let crypto: typeof Crypto | undefined;

/** The `node:tls` module (loaded on the first call). */
export function nodeTls(): typeof Tls {
  loaded ??= process.getBuiltinModule('node:tls') as typeof Tls;
  return loaded;
}

/** The `node:crypto` module (loaded on the first call). */
export function nodeCrypto(): typeof Crypto {
  crypto ??= process.getBuiltinModule('node:crypto') as typeof Crypto;
  return crypto;
}
