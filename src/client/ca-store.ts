/**
 * Reading CA certificates for `SSLContext.load_verify_locations` the way OpenSSL (and
 * so Python) reads them: a PEM `cafile` (plain `BEGIN CERTIFICATE` blocks and OpenSSL's
 * `BEGIN TRUSTED CERTIFICATE` ones, whose trust settings Node's OpenSSL applies), a
 * `capath` directory in OpenSSL's hashed layout, `cadata` as PEM text or DER bytes, and
 * the `NODE_EXTRA_CA_CERTS` file Node adds to its default store.
 *
 * The result is a list of PEM blocks for the `ca` option of `tls.connect`.
 */
import {
  closeSync,
  fstatSync,
  openSync,
  type PathLike,
  readdirSync,
  readSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { nodeCrypto } from '../io/node-tls.ts';
import { pyrepr } from '../protocol/pytext.ts';
import { SSLError } from './ssl-errors.ts';
import { certificateNames, subjectHash } from './x509-der.ts';

/**
 * The most bytes a certificate, key or CA file is read to: 16 MiB, some 70 times a
 * whole system bundle (Debian's and Mozilla's: ~220 KiB). A path to a device or an
 * endless file (`/dev/zero`, `/dev/urandom`) was read until the process ran out of
 * memory; OpenSSL reads such a file line by line for Python, and gives up on `/dev/zero`
 * at once (`[X509: NO_CERTIFICATE_OR_CRL_FOUND]`).
 */
export const CREDENTIAL_FILE_MAX = 16 * 1024 * 1024;

/**
 * The bytes of a PEM file (`cafile`, `certfile`, `keyfile`, a `capath` file,
 * `NODE_EXTRA_CA_CERTS`), read to at most {@link CREDENTIAL_FILE_MAX} bytes: a larger
 * file (a regular one by its size, any other once that much was read) throws `SSLError`
 * naming `name` and the path, as a file OpenSSL cannot load throws it for Python. A file
 * that cannot be opened or read throws Node's system error (Python's `OSError`).
 */
export function readCredentialFile(path: PathLike, name: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const tooLarge = (): SSLError =>
      new SSLError(
        `${name} ${pyrepr(String(path))} holds more than ${CREDENTIAL_FILE_MAX / 1024 / 1024} MiB: not a certificate or key file`,
      );
    const st = fstatSync(fd);
    if (st.isFile() && st.size > CREDENTIAL_FILE_MAX) throw tooLarge();
    const pieces: Buffer[] = [];
    let total = 0;
    for (;;) {
      const piece = Buffer.allocUnsafe(64 * 1024);
      const n = readSync(fd, piece, 0, piece.length, null);
      if (n === 0) break;
      total += n;
      if (total > CREDENTIAL_FILE_MAX) throw tooLarge();
      pieces.push(piece.subarray(0, n));
    }
    return Buffer.concat(pieces, total);
  } finally {
    closeSync(fd);
  }
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
// OpenSSL's "trusted certificate" form: the certificate followed by its trust settings
// (`openssl x509 -addtrust/-addreject`). Python's cafile and capath read it; its cadata
// does not ("no start line"), and neither does this.
const PEM_ANY_CERT =
  /-----BEGIN (TRUSTED )?CERTIFICATE-----[\s\S]+?-----END (?:TRUSTED )?CERTIFICATE-----/g;

/**
 * The PEM certificates in `text`. `trusted`: `BEGIN TRUSTED CERTIFICATE` blocks count
 * too (files). None found: an `SSLError` naming `source`, or `[]` when source is null.
 * A block that is not a certificate (cut short, its base64 damaged): an `SSLError`
 * naming it, as OpenSSL refuses the whole file or `cadata` for Python (`[X509] PEM
 * lib`, `[PEM] ASN1 lib`) — Node would drop it without a word and the server's
 * certificate would then fail to verify for no visible reason. With `source` null (the
 * files of a `capath`, where OpenSSL skips what it cannot read) such a block is left out.
 */
export function pemCertificates(text: string, source: string | null, trusted = false): string[] {
  const found = text.match(trusted ? PEM_ANY_CERT : PEM_CERT) ?? [];
  if (found.length === 0 && source !== null) {
    // Python 3's errors: OpenSSL's for a file, its own for `cadata` (no library, no reason).
    throw source === 'cadata'
      ? new SSLError('no start line: cadata does not contain a certificate')
      : new SSLError(
          `[X509: NO_CERTIFICATE_OR_CRL_FOUND] no certificate or crl found in ${source}`,
          { library: 'X509', reason: 'NO_CERTIFICATE_OR_CRL_FOUND' },
        );
  }
  const good = found.filter((pem) => readable(pem, () => pemBody(pem)));
  if (good.length < found.length && source !== null) {
    const n = found.findIndex((pem) => !readable(pem, () => pemBody(pem))) + 1;
    const [library, what] = source === 'cadata' ? ['PEM', 'ASN1 lib'] : ['X509', 'PEM lib'];
    throw new SSLError(
      `[${library}] ${what}: certificate ${n} of ${found.length} in ${source} is not a valid X.509 certificate (damaged or cut short)`,
      { library },
    );
  }
  return good;
}

/**
 * The certificates found readable so far, by their text (a PEM block as written, or
 * the DER as latin1): `X509Certificate` takes ~0.15 ms a certificate, so checking a
 * system bundle of ~140 CAs again at each context creation (`create_default_context({
 * cafile })`, `NODE_EXTRA_CA_CERTS`) cost ~20 ms where reading it costs ~1. Keyed by
 * content, not by file name and date, so a file changed in place is checked again
 * whatever its time stamp says. Only successes are kept (a damaged block is rare and
 * checked each time); bounded: emptied when full.
 */
const readableCertificates = new Set<string>();
const READABLE_MAX = 4096;

/** @internal How many certificates were fully parsed (the cache missed): for tests. */
export const caStoreStats = { parsed: 0 };

/** Whether the certificate written as `text` is readable (`der`: its DER, computed on a miss). */
function readable(text: string, der: () => Buffer): boolean {
  if (readableCertificates.has(text)) return true;
  caStoreStats.parsed++;
  if (!parses(der())) return false;
  if (readableCertificates.size >= READABLE_MAX) readableCertificates.clear();
  // A copy: `text` is often a slice of a whole file, which the key would keep alive.
  readableCertificates.add(Buffer.from(text, 'latin1').toString('latin1'));
  return true;
}

/**
 * Whether `der` begins with an X.509 certificate OpenSSL can read (a trusted
 * certificate's DER is the certificate followed by its trust settings: only the first
 * element is parsed).
 */
function parses(der: Buffer): boolean {
  const end = elementEnd(der, 0);
  if (end === null) return false;
  try {
    new (nodeCrypto().X509Certificate)(der.subarray(0, end));
    return true;
  } catch {
    return false;
  }
}

/** Where the DER element (tag, definite length, contents) at `pos` ends; null if it cannot. */
function elementEnd(buf: Uint8Array, pos: number): number | null {
  if (pos + 2 > buf.length) return null;
  let len = buf[pos + 1] as number;
  let header = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || pos + 2 + n > buf.length) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[pos + 2 + i] as number);
    header = 2 + n;
  }
  const end = pos + header + len;
  return end > buf.length ? null : end;
}

/** Concatenated DER certificates (Python accepts several in `cadata`) as PEM. */
export function derCertificates(data: Uint8Array): string[] {
  const out: string[] = [];
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let pos = 0;
  while (pos < buf.length) {
    // Each certificate is an ASN.1 SEQUENCE: 0x30, then a definite length.
    if (buf[pos] !== 0x30 || pos + 2 > buf.length) {
      throw new SSLError('not enough data: cadata does not contain a certificate', {
        reason: 'NOT_ENOUGH_DATA',
      });
    }
    const end = elementEnd(buf, pos);
    if (end === null) throw new SSLError('truncated DER in cadata', { reason: 'BAD_LENGTH' });
    const der = buf.subarray(pos, end);
    if (!readable(der.toString('latin1'), () => der)) {
      // Python: the first one "does not contain a certificate", a later one "nested asn1 error".
      throw pos === 0
        ? new SSLError('not enough data: cadata does not contain a certificate', {
            reason: 'NOT_ENOUGH_DATA',
          })
        : new SSLError(
            `[ASN1] nested asn1 error: the DER at byte ${pos} of cadata is not a valid X.509 certificate`,
            { library: 'ASN1' },
          );
    }
    out.push(toPem(der));
    pos = end;
  }
  return out;
}

function toPem(der: Uint8Array): string {
  // 64 characters a line, and no empty line before END when the text fills the last
  // one exactly (OpenSSL rejects the certificate then).
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/.{64}(?=.)/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/** The DER inside a PEM block (for a trusted certificate: the certificate, then the rest). */
function pemBody(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

/** OpenSSL's name for a CA file in a hashed directory: the subject hash, a dot, a counter. */
const HASHED_NAME = /^([0-9a-f]{8})\.(0|[1-9][0-9]*)$/;

/**
 * The CA certificates of a `capath` directory, as OpenSSL's hashed-directory lookup
 * finds them: only files named `<subject hash>.<n>` (what `openssl rehash` makes),
 * for each hash `.0`, `.1`, … up to the first one missing, and in each such file only
 * the certificates whose subject has that hash. Every other name is ignored. A
 * dangling symbolic link ends its hash's series, as a failed `stat` does in OpenSSL;
 * a directory that cannot be read gives nothing (Python checks nothing either: OpenSSL
 * looks in the directory only when a chain needs an issuer).
 *
 * Differs from Python: the directory is read now, not at each verification, so files
 * added later are not seen.
 */
export function capathCertificates(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const hashes = new Set<string>();
  for (const name of names) {
    const m = HASHED_NAME.exec(name);
    if (m !== null) hashes.add(m[1] as string);
  }
  const out: string[] = [];
  for (const hash of [...hashes].sort()) {
    for (let n = 0; ; n++) {
      const file = join(dir, `${hash}.${n}`);
      let text: string;
      try {
        if (!statSync(file).isFile()) break;
        text = readCredentialFile(file, 'capath file').toString('latin1');
      } catch {
        break;
      }
      for (const pem of pemCertificates(text, null, true)) {
        let matches = false;
        try {
          matches = subjectHash(certificateNames(pemBody(pem)).subject) === hash;
        } catch {
          // A block that does not parse is no CA; OpenSSL would not load it either.
        }
        if (matches) out.push(pem);
      }
    }
  }
  return out;
}

let extraCache: string[] | null = null;

/** The certificates of `NODE_EXTRA_CA_CERTS`, which Node adds to its default store. */
export function extraCertificates(): string[] {
  if (extraCache !== null) return extraCache;
  const file = process.env.NODE_EXTRA_CA_CERTS;
  let found: string[] = [];
  if (file) {
    try {
      found = pemCertificates(
        readCredentialFile(file, 'NODE_EXTRA_CA_CERTS').toString('latin1'),
        null,
      );
    } catch {
      found = [];
    }
  }
  extraCache = found;
  return found;
}
