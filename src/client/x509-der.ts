/**
 * Just enough of an X.509 certificate's DER to verify host names and to find CA files
 * by OpenSSL's subject hash, without trusting Node's text renderings of a certificate
 * (its `subjectaltname` string has escaping rules of its own, and Node exposes neither
 * the raw subject nor the hash): the subject's common names, the subjectAltName's DNS
 * names and IP addresses, and `X509_NAME_hash` as `openssl x509 -hash` prints it.
 *
 * Reads only; a certificate that does not parse throws `TypeError` (callers decide what
 * that means: no match, or a file that is skipped). No I/O here.
 */
import { nodeCrypto } from '../io/node-tls.ts';

/** @internal One DER element: its tag, where its header starts, where its value starts and ends. */
export interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly valueStart: number;
  readonly end: number;
}

function bad(what: string): never {
  throw new TypeError(`malformed certificate: ${what}`);
}

/** @internal The element at `pos` (definite lengths only: DER has no other). */
export function readTlv(buf: Uint8Array, pos: number, limit: number = buf.length): Tlv {
  if (pos + 2 > limit) bad('truncated element');
  const tag = buf[pos] as number;
  if ((tag & 0x1f) === 0x1f) bad('high tag numbers are not used in certificates');
  let len = buf[pos + 1] as number;
  let valueStart = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || valueStart + n > limit) bad('bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[valueStart + i] as number);
    valueStart += n;
  }
  const end = valueStart + len;
  if (end > limit) bad('element longer than its container');
  return { tag, start: pos, valueStart, end };
}

/** @internal The elements inside a constructed element. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = parent.valueStart; pos < parent.end; ) {
    const child = readTlv(buf, pos, parent.end);
    out.push(child);
    pos = child.end;
  }
  return out;
}

const SEQUENCE = 0x30;
const SET = 0x31;
const OID = 0x06;

/** @internal The DER of an object identifier's value (hex), from its dotted form (40 × the first arc + the second < 128; later arcs any safe integer). */
export function oidValue(dotted: string): string {
  // Written out without arrays or Buffers: the module tables call this ~80 times while
  // the package loads, before anything is warm (the `httplib` command's start-up).
  const arcs = dotted.split('.');
  let hex = '';
  const byte = (b: number): void => {
    hex += (b < 16 ? '0' : '') + b.toString(16);
  };
  byte(Number(arcs[0]) * 40 + Number(arcs[1]));
  for (let k = 2; k < arcs.length; k++) {
    // Base 128, most significant group first, every group but the last with bit 8 set.
    // (Division, not `>>>`: a shift count of 32 or more wraps around.)
    const v = Number(arcs[k]);
    let scale = 1;
    while (v / scale >= 128) scale *= 128;
    for (; scale > 1; scale /= 128) byte((Math.floor(v / scale) & 0x7f) | 0x80);
    byte(v % 128);
  }
  return hex;
}

const OID_COMMON_NAME = oidValue('2.5.4.3');
const OID_SUBJECT_ALT_NAME = oidValue('2.5.29.17');

/** The parts of a certificate that verification reads. */
export interface CertificateNames {
  /** The subject as DER (the whole Name SEQUENCE). */
  readonly subject: Buffer;
  /** The subject's common names, as text. */
  readonly commonNames: readonly string[];
  /** The subjectAltName's dNSName entries, as written (ASCII). */
  readonly dnsNames: readonly string[];
  /** The subjectAltName's iPAddress entries: 4 or 16 bytes each. */
  readonly ipAddresses: readonly Buffer[];
}

/** Read the subject, its common names and the subjectAltName of a DER certificate. */
export function certificateNames(der: Uint8Array): CertificateNames {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const cert = readTlv(buf, 0);
  if (cert.tag !== SEQUENCE) bad('not a SEQUENCE');
  const tbs = children(buf, cert)[0];
  if (tbs === undefined || tbs.tag !== SEQUENCE) bad('no tbsCertificate');
  const fields = children(buf, tbs);
  // [0] version is optional; then serial, signature, issuer, validity, subject.
  const first = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = fields[first + 4];
  if (subject === undefined || subject.tag !== SEQUENCE) bad('no subject');
  const commonNames: string[] = [];
  for (const [type, value] of attributes(buf, subject)) {
    if (type === OID_COMMON_NAME) commonNames.push(stringValue(buf, value).toString('utf8'));
  }
  const dnsNames: string[] = [];
  const ipAddresses: Buffer[] = [];
  // Extensions: [3] EXPLICIT SEQUENCE OF Extension, after the optional unique IDs.
  const extensions = fields.find((f, i) => i > first + 4 && f.tag === 0xa3);
  const list = extensions === undefined ? undefined : children(buf, extensions)[0];
  for (const ext of list === undefined ? [] : children(buf, list)) {
    const parts = children(buf, ext);
    const id = parts[0];
    const value = parts[parts.length - 1];
    if (id?.tag !== OID || value?.tag !== 0x04) continue;
    if (hex(buf, id) !== OID_SUBJECT_ALT_NAME) continue;
    const names = readTlv(buf, value.valueStart, value.end);
    for (const name of children(buf, names)) {
      const bytes = buf.subarray(name.valueStart, name.end);
      if (name.tag === 0x82) dnsNames.push(bytes.toString('latin1'));
      else if (name.tag === 0x87) ipAddresses.push(Buffer.from(bytes));
    }
  }
  return {
    subject: Buffer.from(buf.subarray(subject.start, subject.end)),
    commonNames,
    dnsNames,
    ipAddresses,
  };
}

function hex(buf: Buffer, tlv: Tlv): string {
  return buf.subarray(tlv.valueStart, tlv.end).toString('hex');
}

/** `[type OID as hex, value element]` for every attribute of a Name, RDN by RDN. */
function* attributes(buf: Buffer, name: Tlv): Generator<[string, Tlv]> {
  for (const rdn of children(buf, name)) {
    if (rdn.tag !== SET) bad('RDN is not a SET');
    for (const ava of children(buf, rdn)) {
      const [type, value] = children(buf, ava);
      if (type?.tag !== OID || value === undefined) bad('bad attribute');
      yield [hex(buf, type), value];
    }
  }
}

// String types whose values OpenSSL canonicalises (ASN1_MASK_CANON), with the bytes per
// character OpenSSL reads them as: T61String is taken as Latin-1, as OpenSSL does.
const UTF8 = 0x0c;
const STRING_WIDTH: Readonly<Record<number, 1 | 2 | 4>> = {
  19: 1, // PrintableString
  20: 1, // T61String
  22: 1, // IA5String
  26: 1, // VisibleString
  30: 2, // BMPString (UCS-2, big-endian)
  28: 4, // UniversalString (UCS-4, big-endian)
};

/** A string attribute's value as UTF-8 (OpenSSL's ASN1_STRING_to_UTF8). */
function stringValue(buf: Buffer, value: Tlv): Buffer {
  const bytes = buf.subarray(value.valueStart, value.end);
  if (value.tag === UTF8) return Buffer.from(bytes);
  const width = STRING_WIDTH[value.tag];
  if (width === undefined) return Buffer.from(bytes);
  if (width === 1) return Buffer.from(bytes.toString('latin1'), 'utf8');
  if (bytes.length % width !== 0) bad('bad string length');
  let text = '';
  for (let i = 0; i < bytes.length; i += width) {
    const cp = width === 2 ? bytes.readUInt16BE(i) : bytes.readUInt32BE(i);
    if (cp > 0x10ffff) bad('bad character');
    text += String.fromCodePoint(cp);
  }
  return Buffer.from(text, 'utf8');
}

/** OpenSSL's whitespace (ossl_isspace): space, \t, \n, \v, \f, \r. */
function isSpace(b: number): boolean {
  return b === 0x20 || (b >= 0x09 && b <= 0x0d);
}

/**
 * OpenSSL's canonical form of a string value (x_name.c, asn1_string_canon): UTF-8, no
 * leading or trailing whitespace, each run of inner whitespace one space, ASCII in
 * lower case, other bytes as they are.
 */
function canonical(utf8: Buffer): Buffer {
  let from = 0;
  let to = utf8.length;
  while (from < to && isSpace(utf8[from] as number)) from++;
  while (to > from && isSpace(utf8[to - 1] as number)) to--;
  const out: number[] = [];
  for (let i = from; i < to; ) {
    const b = utf8[i] as number;
    if (b >= 0x80) {
      out.push(b);
      i++;
    } else if (isSpace(b)) {
      out.push(0x20);
      while (i < to && isSpace(utf8[i] as number)) i++;
    } else {
      out.push(b >= 0x41 && b <= 0x5a ? b + 0x20 : b);
      i++;
    }
  }
  return Buffer.from(out);
}

/** A DER element with this tag around `value`. */
function encode(tag: number, value: Buffer): Buffer {
  const len = value.length;
  let header: number[];
  if (len < 0x80) header = [tag, len];
  else {
    const bytes: number[] = [];
    for (let v = len; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    header = [tag, 0x80 | bytes.length, ...bytes];
  }
  return Buffer.concat([Buffer.from(header), value]);
}

/** DER's SET OF order, as OpenSSL sorts it: byte order, then the shorter first. */
function derOrder(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  const c = Buffer.compare(a.subarray(0, n), b.subarray(0, n));
  return c !== 0 ? c : a.length - b.length;
}

/**
 * OpenSSL's `X509_NAME_hash_ex` of a DER Name, as `openssl x509 -hash` prints it (the
 * name of a CA's file in a `c_rehash`ed directory): SHA-1 of the name's canonical
 * encoding (each RDN as a SET of its attributes, string values canonicalised as
 * UTF8String, the RDNs concatenated without the outer SEQUENCE), its first four bytes
 * read little-endian, as 8 lower-case hex digits.
 */
export function subjectHash(name: Uint8Array): string {
  const buf = Buffer.from(name.buffer, name.byteOffset, name.byteLength);
  const top = readTlv(buf, 0);
  if (top.tag !== SEQUENCE) bad('a Name is a SEQUENCE');
  const rdns: Buffer[] = [];
  for (const rdn of children(buf, top)) {
    if (rdn.tag !== SET) bad('RDN is not a SET');
    const avas: Buffer[] = [];
    for (const ava of children(buf, rdn)) {
      const [type, value] = children(buf, ava);
      if (type?.tag !== OID || value === undefined) bad('bad attribute');
      const canon =
        value.tag === UTF8 || STRING_WIDTH[value.tag] !== undefined
          ? encode(UTF8, canonical(stringValue(buf, value)))
          : buf.subarray(value.start, value.end);
      avas.push(encode(SEQUENCE, Buffer.concat([buf.subarray(type.start, type.end), canon])));
    }
    rdns.push(encode(SET, Buffer.concat(avas.sort(derOrder))));
  }
  const digest = nodeCrypto().createHash('sha1').update(Buffer.concat(rdns)).digest();
  return digest.readUInt32LE(0).toString(16).padStart(8, '0');
}
