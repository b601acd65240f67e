/**
 * The other half of the valid-response model (response-model.ts): a generated response
 * as bytes (`serialize`, read with `readOptions`), and what shared/API.md's "Reading a
 * response" rules predict for it: the parse (`expected`) and `getheaders()`
 * (`expectedHeaders`).
 */
import type { Field, Framing, ResponseSpec, Spec } from './response-model.ts';

/** What a user can observe once the response was read (the pure driver's shape). */
export interface Expected {
  readonly version: number;
  readonly status: number;
  readonly reason: string;
  readonly lines: readonly string[];
  readonly chunked: boolean;
  readonly length: number | null;
  readonly will_close: boolean;
  readonly framing: string;
  /** Body bytes, latin1. */
  readonly body: string;
  /** Bytes after the response, latin1 ('' for none). */
  readonly rest: string;
}

function fieldLines(f: Field, eol: string): string[] {
  return [`${f.name}:${f.value}${eol}`, ...f.folds.map((x) => `${x}${eol}`)];
}

/** Framing header lines of a response (even when its status has no body). */
function framingFields(fr: Framing): Field[] {
  switch (fr.kind) {
    case 'length':
      return fr.texts.map((t, i) => ({
        name: i % 2 === 0 ? 'Content-Length' : 'content-length',
        value: ` ${t}`,
        folds: [],
      }));
    case 'chunked': {
      const te: Field = { name: fr.teName, value: ` ${fr.teValue}`, folds: [] };
      return fr.cl === null
        ? [te]
        : [te, { name: 'Content-Length', value: ` ${fr.cl}`, folds: [] }];
    }
    case 'eof':
      return [];
  }
}

function bodyBytes(fr: Framing): Buffer {
  switch (fr.kind) {
    case 'length':
    case 'eof':
      return fr.data;
    case 'chunked': {
      const parts: Buffer[] = [];
      for (const c of fr.chunks) {
        parts.push(Buffer.from(`${c.size}${c.ext}\r\n`, 'latin1'), c.data, Buffer.from('\r\n'));
      }
      parts.push(Buffer.from(`${fr.last}\r\n${fr.trailers.map((t) => `${t}\r\n`).join('')}\r\n`));
      return Buffer.concat(parts);
    }
  }
}

function noBody(spec: ResponseSpec): boolean {
  const s = spec.status;
  return (
    s === 204 ||
    s === 304 ||
    (s >= 100 && s < 200) ||
    spec.method === 'HEAD' ||
    (spec.method === 'CONNECT' && s >= 200 && s < 300)
  );
}

/** The fields of the final response, in order. */
function finalFields(spec: ResponseSpec): Field[] {
  const others = [...spec.fields];
  const framing = [...framingFields(spec.framing), ...spec.connection];
  const at = spec.framingAt % (others.length + 1);
  others.splice(at, 0, ...framing);
  return others;
}

/** The head lines of the final response, in order (each with its terminator). */
function finalLines(spec: ResponseSpec): string[] {
  const eol = spec.lf ? '\n' : '\r\n';
  return finalFields(spec).flatMap((f) => fieldLines(f, eol));
}

/**
 * What `getheaders()` gives: `[name, value]` per field in order, names as sent, values
 * stripped, each fold joined with one space (RFC 9112 §5.2, shared/API.md).
 */
export function expectedHeaders(spec: Spec): Array<[string, string]> {
  if (spec.kind === 'http09') return [];
  return finalFields(spec).map((f) => {
    let value = strip(f.value);
    for (const fold of f.folds) {
      const more = strip(fold);
      if (more !== '') value = value === '' ? more : `${value} ${more}`;
    }
    return [f.name, value];
  });
}

/** How the client reads `spec`: the request's method, and Python's `strict`. */
export function readOptions(spec: Spec): { method: string; strict: boolean } {
  return { method: spec.method, strict: spec.kind === 'http09' ? spec.strict : false };
}

/** The whole response as bytes, and whether the server closes after it. */
export function serialize(spec: Spec): { bytes: Buffer; eof: boolean } {
  if (spec.kind === 'http09') return { bytes: spec.body, eof: true };
  const eol = spec.lf ? '\n' : '\r\n';
  let head = '';
  for (const i of spec.interims) {
    head += `HTTP/1.1 ${i.status} ${i.reason}${eol}`;
    for (const f of i.fields) head += fieldLines(f, eol).join('');
    head += eol;
  }
  head += `${spec.version} ${spec.status}${spec.reason === null ? '' : ` ${spec.reason}`}${eol}`;
  head += finalLines(spec).join('');
  head += eol;
  const parts: Buffer[] = [Buffer.from(head, 'latin1')];
  const untilClose = !noBody(spec) && spec.framing.kind === 'eof';
  if (!noBody(spec)) parts.push(bodyBytes(spec.framing));
  if (!untilClose) parts.push(spec.rest);
  return { bytes: Buffer.concat(parts), eof: untilClose || spec.eof };
}

/** Python's `str.strip()` over SP/HTAB (what a reason phrase can hold here). */
function strip(s: string): string {
  return s.replace(/^[ \t]+|[ \t]+$/g, '');
}

function mergedHas(fields: readonly Field[], name: string, word: string): boolean {
  return fields.some((f) => f.name.toLowerCase() === name && f.value.toLowerCase().includes(word));
}

/** What shared/API.md says a client sees for `spec` (null: an error is expected). */
export function expected(spec: Spec): Expected | { readonly error: string } {
  if (spec.kind === 'http09') {
    if (spec.strict) return { error: 'BadStatusLine' };
    return {
      version: 9,
      status: 200,
      reason: '',
      lines: [],
      chunked: false,
      length: null,
      will_close: true,
      framing: 'eof',
      body: spec.body.toString('latin1'),
      rest: '',
    };
  }
  const version = spec.version === 'HTTP/1.0' ? 10 : 11;
  const conn = spec.connection;
  let willClose =
    version === 11
      ? mergedHas(conn, 'connection', 'close')
      : !(
          conn.some((f) => f.name.toLowerCase() === 'keep-alive') ||
          mergedHas(conn, 'connection', 'keep-alive') ||
          mergedHas(conn, 'proxy-connection', 'keep-alive')
        );
  const fr = spec.framing;
  let framing: string;
  let length: number | null;
  let body = '';
  const chunked = fr.kind === 'chunked';
  if (noBody(spec)) {
    framing = 'none';
    length = 0;
    if (spec.status === 101) willClose = true;
  } else if (fr.kind === 'chunked') {
    framing = 'chunked';
    length = null;
    if (fr.cl !== null) willClose = true;
    body = Buffer.concat(fr.chunks.map((c) => c.data)).toString('latin1');
  } else if (fr.kind === 'length') {
    length = fr.data.length;
    framing = length === 0 ? 'none' : 'length';
    body = fr.data.toString('latin1');
  } else {
    framing = 'eof';
    length = null;
    willClose = true;
    body = fr.data.toString('latin1');
  }
  return {
    version,
    status: spec.status,
    reason: spec.reason === null ? '' : strip(spec.reason),
    lines: finalLines(spec),
    chunked,
    length,
    will_close: willClose,
    framing,
    body,
    rest: framing === 'eof' ? '' : spec.rest.toString('latin1'),
  };
}
