/**
 * HTTPS with a private certificate authority. The server's certificate and name are
 * checked by default (against Node's CA store), so a server whose certificate comes from
 * a CA of your own is refused until that CA is trusted. A client certificate is optional.
 *
 * Usage:
 *   node examples/https.ts URL CA_FILE [CLIENT_CERT CLIENT_KEY [KEY_PASSWORD]]
 *   (Node >= 22.18 runs .ts files as they are; on Node 20: npx tsx examples/https.ts …;
 *    bun examples/https.ts …; deno run --allow-net --allow-env --allow-read examples/https.ts …)
 *
 * URL is https://HOST[:PORT]/PATH; CA_FILE the CA's certificate (PEM); CLIENT_CERT and
 * CLIENT_KEY a client certificate and its key (PEM), KEY_PASSWORD when the key is encrypted.
 */
import process from 'node:process';
import * as httplib from 'httplib-ts';

const [urlText, caFile, clientCert, clientKey, keyPassword] = process.argv.slice(2);
if (urlText === undefined || caFile === undefined) {
  console.error('usage: https.ts URL CA_FILE [CLIENT_CERT CLIENT_KEY [KEY_PASSWORD]]');
  process.exit(2);
}
const url = new URL(urlText);
const port = url.port === '' ? httplib.HTTPS_PORT : Number(url.port);
const target = `${url.pathname}${url.search}`;

// With the default context the private CA is unknown: the handshake is refused.
const untrusted = new httplib.HTTPSConnection(url.hostname, port, { timeout: 10 });
try {
  await untrusted.request('GET', target);
  console.log('unexpected: a certificate from an unknown CA was accepted');
} catch (err) {
  if (!(err instanceof httplib.ssl.SSLCertVerificationError)) throw err;
  console.log(`refused without the CA: ${err.verify_message}`);
} finally {
  untrusted.close();
}

// Trust the private CA, and present a client certificate when one is given.
const context = httplib.ssl.create_default_context({ cafile: caFile });
if (clientCert !== undefined) context.load_cert_chain(clientCert, clientKey, keyPassword);
const conn = new httplib.HTTPSConnection(url.hostname, port, { context, timeout: 10 });
await conn.request('GET', target);
const response = await conn.getresponse();
console.log(response.status, response.reason, (await response.read()).toString().trim());
conn.close();
