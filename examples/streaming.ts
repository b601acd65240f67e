/**
 * Streaming both ways, with nothing held whole in memory: a file uploaded in pieces, a
 * body of unknown length sent chunked, a download written to a file as it arrives, and
 * the same download read into a buffer of your own.
 *
 * Usage:
 *   node examples/streaming.ts UPLOAD_URL FILE DOWNLOAD_URL OUTPUT
 *   (Node >= 22.18 runs .ts files as they are; on Node 20: npx tsx examples/streaming.ts …;
 *    bun examples/streaming.ts …;
 *    deno run --allow-net --allow-env --allow-read --allow-write examples/streaming.ts …)
 *
 * UPLOAD_URL (http://HOST[:PORT]/PATH) receives FILE with PUT, then a generated body with
 * POST; DOWNLOAD_URL is fetched twice: once into the file OUTPUT, once into a 64 KiB buffer.
 */
import { open } from 'node:fs/promises';
import process from 'node:process';
import * as httplib from 'httplib-ts';

const [uploadUrl, file, downloadUrl, output] = process.argv.slice(2);
if (uploadUrl === undefined || file === undefined || downloadUrl === undefined || !output) {
  console.error('usage: streaming.ts UPLOAD_URL FILE DOWNLOAD_URL OUTPUT');
  process.exit(2);
}
const up = new URL(uploadUrl);
const down = new URL(downloadUrl);
const target = (url: URL): string => `${url.pathname}${url.search}`;

const conn = new httplib.HTTPConnection(up.host);

// Upload a file: Content-Length from fstat, the file read and sent in `blocksize` pieces.
const upload = await open(file);
await conn.request('PUT', target(up), upload);
const stored = await conn.getresponse();
console.log(stored.status, stored.reason, (await stored.read()).toString());
await upload.close(); // the file is yours: httplib never closes it

// A body of unknown length (a generator, a Readable) goes out with chunked encoding.
async function* parts() {
  yield 'first part\n';
  yield Buffer.from('second part\n');
}
await conn.request('POST', target(up), parts());
const posted = await conn.getresponse();
console.log(posted.status, posted.reason, (await posted.read()).toString());
conn.close();

// Download to a file as it arrives: memory stays flat whatever the size.
const get = new httplib.HTTPConnection(down.host);
await get.request('GET', target(down));
const big = await get.getresponse();
const copy = await open(output, 'w');
let written = 0;
for await (const chunk of big) {
  await copy.write(chunk);
  written += chunk.length;
}
await copy.close();
console.log(`wrote ${written} bytes to ${output}`);

// Or into memory of your own, as Python's readinto does.
await get.request('GET', target(down));
const again = await get.getresponse();
const buf = Buffer.alloc(65536);
let total = 0;
for (let n = await again.readinto(buf); n > 0; n = await again.readinto(buf)) total += n;
console.log(`read ${total} bytes into a 64 KiB buffer`);
get.close();
