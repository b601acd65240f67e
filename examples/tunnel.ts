/**
 * Through an HTTP proxy, with a CONNECT tunnel (Python's `set_tunnel`): the connection
 * goes to the proxy and asks it for a tunnel to the origin, with the proxy's credentials
 * (which only the proxy sees), then speaks to the origin through it: over TLS, with the
 * origin's certificate and name, for an https:// URL.
 *
 * Usage:
 *   node examples/tunnel.ts [USER:PASSWORD@]PROXY_HOST:PORT URL [CA_FILE]
 *   (Node >= 22.18 runs .ts files as they are; on Node 20: npx tsx examples/tunnel.ts …;
 *    bun examples/tunnel.ts …; deno run --allow-net --allow-env --allow-read examples/tunnel.ts …)
 *
 * URL is the origin (http:// or https://); CA_FILE a CA certificate (PEM) to trust for the
 * origin, when its certificate does not come from a public CA.
 */
import process from 'node:process';
import * as httplib from 'httplib-ts';

const [proxyText, urlText, caFile] = process.argv.slice(2);
if (proxyText === undefined || urlText === undefined) {
  console.error('usage: tunnel.ts [USER:PASSWORD@]PROXY_HOST:PORT URL [CA_FILE]');
  process.exit(2);
}
const proxy = new URL(`http://${proxyText}`);
const url = new URL(urlText);
const https = url.protocol === 'https:';
const port = url.port !== '' ? Number(url.port) : https ? httplib.HTTPS_PORT : httplib.HTTP_PORT;
const target = `${url.pathname}${url.search}`;

/** A connection to the proxy: HTTPS (TLS with the origin, inside the tunnel) or HTTP. */
function viaProxy(): httplib.HTTPConnection {
  if (!https) return new httplib.HTTPConnection(proxy.host, null, { timeout: 10 });
  const context = httplib.ssl.create_default_context(
    caFile === undefined ? {} : { cafile: caFile },
  );
  return new httplib.HTTPSConnection(proxy.host, null, { context, timeout: 10 });
}

// set_tunnel names the origin; its headers go to the proxy only.
const conn = viaProxy();
const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
const auth = `Basic ${Buffer.from(credentials).toString('base64')}`;
conn.set_tunnel(url.hostname, port, proxy.username === '' ? null : { 'Proxy-Authorization': auth });
await conn.request('GET', target);
const response = await conn.getresponse();
console.log(response.status, response.reason, (await response.read()).toString().trim());
conn.close();

// Without the credentials a proxy that wants them refuses the tunnel: the request rejects.
if (proxy.username !== '') {
  const refused = viaProxy();
  refused.set_tunnel(url.hostname, port);
  try {
    await refused.request('GET', target);
    console.log('unexpected: the proxy opened a tunnel without credentials');
  } catch (err) {
    console.log(`without credentials: ${(err as Error).message}`);
  } finally {
    refused.close();
  }
}
