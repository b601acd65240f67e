/**
 * HTTP status codes: the status constants, `responses` and `HTTPStatus`, all derived
 * from the one table below.
 *
 * Python 2.7's `httplib` has a constant per status code and a `responses` dict of
 * phrases; Python 3 moved the codes into the `http.HTTPStatus` enum and renamed four of
 * them in 3.13. Every name and phrase of either lives in `TABLE`, once; everything else
 * here is derived from it, and no other list of codes or phrases may be kept anywhere.
 *
 * This file is pure data and lookups: it must not do I/O, keep mutable state, or
 * import anything (but its own types, below).
 *
 * The constants (`OK`, `NOT_FOUND`, …) are plain numbers, as Python 2.7's are; they
 * differ from Python 2.7 only in that Python 3's names are here too (`TOO_MANY_REQUESTS`,
 * `CONTENT_TOO_LARGE`, …), beside 2.7's.
 *
 * @example
 * ```ts
 * const response = await conn.getresponse();
 * if (response.status === httplib.NOT_FOUND) {
 *   console.log(httplib.responses[httplib.NOT_FOUND]); // Not Found
 * } else if (response.status === httplib.TOO_MANY_REQUESTS) {
 *   console.log(response.getheader('Retry-After'));
 * }
 * ```
 */
// The module's own exports, for `HTTPStatusName` (a type-only import: nothing runs).
import type * as status from './status.ts';

/**
 * One row: `[code, NAME, phrase, description]`.
 *
 * - A row whose description is a string is the `HTTPStatus` member of Python 3.13: its
 *   canonical name, `phrase` and `description` (`''` where 3.13's is empty). There is
 *   exactly one per code that 3.13 has.
 * - A row whose description is `null` is not a member of its own. Its name, if any, is
 *   an older name of the same code (Python 2.7's constant, an alias in 3.13), and its
 *   phrase, if any, is the text Python 2.7's `httplib.responses` gives that code where
 *   it differs from 3.13's. The `306` row is the one code only 2.7's `responses` has.
 */
type Row = readonly [
  code: number,
  name: string | null,
  phrase: string | null,
  description: string | null,
];

/** Python 3.13's `HTTPStatus` in definition order, plus Python 2.7's `responses` extras. */
// biome-ignore format: one row per line, so the table reads like Python's enum
const TABLE = [
  [100, 'CONTINUE', 'Continue', 'Request received, please continue'],
  [101, 'SWITCHING_PROTOCOLS', 'Switching Protocols', 'Switching to new protocol; obey Upgrade header'],
  [102, 'PROCESSING', 'Processing', ''],
  [103, 'EARLY_HINTS', 'Early Hints', ''],
  [200, 'OK', 'OK', 'Request fulfilled, document follows'],
  [201, 'CREATED', 'Created', 'Document created, URL follows'],
  [202, 'ACCEPTED', 'Accepted', 'Request accepted, processing continues off-line'],
  [203, 'NON_AUTHORITATIVE_INFORMATION', 'Non-Authoritative Information', 'Request fulfilled from cache'],
  [204, 'NO_CONTENT', 'No Content', 'Request fulfilled, nothing follows'],
  [205, 'RESET_CONTENT', 'Reset Content', 'Clear input form for further input'],
  [206, 'PARTIAL_CONTENT', 'Partial Content', 'Partial content follows'],
  [207, 'MULTI_STATUS', 'Multi-Status', ''],
  [208, 'ALREADY_REPORTED', 'Already Reported', ''],
  [226, 'IM_USED', 'IM Used', ''],
  [300, 'MULTIPLE_CHOICES', 'Multiple Choices', 'Object has several resources -- see URI list'],
  [301, 'MOVED_PERMANENTLY', 'Moved Permanently', 'Object moved permanently -- see URI list'],
  [302, 'FOUND', 'Found', 'Object moved temporarily -- see URI list'],
  [303, 'SEE_OTHER', 'See Other', 'Object moved -- see Method and URL list'],
  [304, 'NOT_MODIFIED', 'Not Modified', 'Document has not changed since given time'],
  [305, 'USE_PROXY', 'Use Proxy', 'You must use proxy specified in Location to access this resource'],
  [306, null, '(Unused)', null],
  [307, 'TEMPORARY_REDIRECT', 'Temporary Redirect', 'Object moved temporarily -- see URI list'],
  [308, 'PERMANENT_REDIRECT', 'Permanent Redirect', 'Object moved permanently -- see URI list'],
  [400, 'BAD_REQUEST', 'Bad Request', 'Bad request syntax or unsupported method'],
  [401, 'UNAUTHORIZED', 'Unauthorized', 'No permission -- see authorization schemes'],
  [402, 'PAYMENT_REQUIRED', 'Payment Required', 'No payment -- see charging schemes'],
  [403, 'FORBIDDEN', 'Forbidden', 'Request forbidden -- authorization will not help'],
  [404, 'NOT_FOUND', 'Not Found', 'Nothing matches the given URI'],
  [405, 'METHOD_NOT_ALLOWED', 'Method Not Allowed', 'Specified method is invalid for this resource'],
  [406, 'NOT_ACCEPTABLE', 'Not Acceptable', 'URI not available in preferred format'],
  [407, 'PROXY_AUTHENTICATION_REQUIRED', 'Proxy Authentication Required', 'You must authenticate with this proxy before proceeding'],
  [408, 'REQUEST_TIMEOUT', 'Request Timeout', 'Request timed out; try again later'],
  [409, 'CONFLICT', 'Conflict', 'Request conflict'],
  [410, 'GONE', 'Gone', 'URI no longer exists and has been permanently removed'],
  [411, 'LENGTH_REQUIRED', 'Length Required', 'Client must specify Content-Length'],
  [412, 'PRECONDITION_FAILED', 'Precondition Failed', 'Precondition in headers is false'],
  [413, 'CONTENT_TOO_LARGE', 'Content Too Large', 'Content is too large'],
  [413, 'REQUEST_ENTITY_TOO_LARGE', 'Request Entity Too Large', null],
  [414, 'URI_TOO_LONG', 'URI Too Long', 'URI is too long'],
  [414, 'REQUEST_URI_TOO_LONG', 'Request-URI Too Long', null],
  [415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported Media Type', 'Entity body in unsupported format'],
  [416, 'RANGE_NOT_SATISFIABLE', 'Range Not Satisfiable', 'Cannot satisfy request range'],
  [416, 'REQUESTED_RANGE_NOT_SATISFIABLE', 'Requested Range Not Satisfiable', null],
  [417, 'EXPECTATION_FAILED', 'Expectation Failed', 'Expect condition could not be satisfied'],
  [418, 'IM_A_TEAPOT', 'I\'m a Teapot', 'Server refuses to brew coffee because it is a teapot.'],
  [421, 'MISDIRECTED_REQUEST', 'Misdirected Request', 'Server is not able to produce a response'],
  [422, 'UNPROCESSABLE_CONTENT', 'Unprocessable Content', ''],
  [422, 'UNPROCESSABLE_ENTITY', null, null],
  [423, 'LOCKED', 'Locked', ''],
  [424, 'FAILED_DEPENDENCY', 'Failed Dependency', ''],
  [425, 'TOO_EARLY', 'Too Early', ''],
  [426, 'UPGRADE_REQUIRED', 'Upgrade Required', ''],
  [428, 'PRECONDITION_REQUIRED', 'Precondition Required', 'The origin server requires the request to be conditional'],
  [429, 'TOO_MANY_REQUESTS', 'Too Many Requests', 'The user has sent too many requests in a given amount of time ("rate limiting")'],
  [431, 'REQUEST_HEADER_FIELDS_TOO_LARGE', 'Request Header Fields Too Large', 'The server is unwilling to process the request because its header fields are too large'],
  [451, 'UNAVAILABLE_FOR_LEGAL_REASONS', 'Unavailable For Legal Reasons', 'The server is denying access to the resource as a consequence of a legal demand'],
  [500, 'INTERNAL_SERVER_ERROR', 'Internal Server Error', 'Server got itself in trouble'],
  [501, 'NOT_IMPLEMENTED', 'Not Implemented', 'Server does not support this operation'],
  [502, 'BAD_GATEWAY', 'Bad Gateway', 'Invalid responses from another server/proxy'],
  [503, 'SERVICE_UNAVAILABLE', 'Service Unavailable', 'The server cannot process the request due to a high load'],
  [504, 'GATEWAY_TIMEOUT', 'Gateway Timeout', 'The gateway server did not receive a timely response'],
  [505, 'HTTP_VERSION_NOT_SUPPORTED', 'HTTP Version Not Supported', 'Cannot fulfill request'],
  [506, 'VARIANT_ALSO_NEGOTIATES', 'Variant Also Negotiates', ''],
  [507, 'INSUFFICIENT_STORAGE', 'Insufficient Storage', ''],
  [508, 'LOOP_DETECTED', 'Loop Detected', ''],
  [510, 'NOT_EXTENDED', 'Not Extended', ''],
  [511, 'NETWORK_AUTHENTICATION_REQUIRED', 'Network Authentication Required', 'The client needs to authenticate to gain network access'],
] as const satisfies readonly Row[];

/** Every name of `TABLE`. */
type TableName = Extract<(typeof TABLE)[number][1], string>;

// Spelled as "the names of this module's constants" rather than as `TABLE`'s names, which
// are the same set (checked below): a type derived from `TABLE` would put the whole table,
// as one 6 KB line, into the published status.d.ts.
/**
 * Every status constant name: Python 2.7's and Python 3.13's, aliases included
 * (`'NOT_FOUND'`, `'TOO_MANY_REQUESTS'`, `'REQUEST_ENTITY_TOO_LARGE'`, …).
 */
export type HTTPStatusName = Exclude<keyof typeof status, 'responses' | 'HTTPStatus'>;

/** Compiles only when `T` is `[never, never]`. */
type BothEmpty<T extends [never, never]> = T;
/**
 * `TABLE`'s names and the exported constants are one set: a row without its constant, or
 * a constant without its row, fails to compile here.
 */
// biome-ignore lint/correctness/noUnusedVariables: a compile-time check: compiling it is its use
type NamesMatch = BothEmpty<
  [Exclude<TableName, HTTPStatusName>, Exclude<HTTPStatusName, TableName>]
>;

const CODES = Object.freeze(
  Object.fromEntries(TABLE.flatMap(([code, name]) => (name === null ? [] : [[name, code]]))),
) as Readonly<Record<TableName, number>>;

interface Member {
  readonly phrase: string;
  readonly description: string;
}

const MEMBERS = new Map<number, Member>();
const PHRASES = new Map<number, string>();
for (const [code, , phrase, description] of TABLE) {
  if (phrase !== null && description !== null) MEMBERS.set(code, { phrase, description });
  // 2.7's text (a row that is not a member) wins over 3.13's, whichever row comes first.
  if (phrase !== null && (description === null || !PHRASES.has(code))) PHRASES.set(code, phrase);
}

/**
 * Code → reason phrase: `responses[404] === 'Not Found'`.
 *
 * Python 2.7's `httplib.responses` is a plain dict of 41 codes (RFC 2616's, `306:
 * '(Unused)'` included); Python 3's is built from `HTTPStatus` (62 codes in 3.13, with
 * the RFC 9110 phrases). This one is their union: Python 2.7's phrase for every code 2.7
 * has (so `responses[413]` is `'Request Entity Too Large'`, not 3.13's `'Content Too
 * Large'`), and 3.13's phrase for every other code. Frozen, unlike Python's dict.
 *
 * @example
 * ```ts
 * httplib.responses[httplib.NOT_FOUND]; // 'Not Found'
 * httplib.responses[999]; // undefined (Python: KeyError)
 * ```
 */
export const responses: Readonly<Record<number, string>> = Object.freeze(
  Object.fromEntries(PHRASES),
);

function member(code: number, caller: string): Member {
  const found = MEMBERS.get(code);
  if (found === undefined) {
    // Python shows the repr: a string code (from a JavaScript caller) appears quoted.
    const shown = typeof code === 'string' ? `'${code}'` : String(code);
    throw new TypeError(`HTTPStatus.${caller}(): ${shown} is not a valid HTTPStatus`);
  }
  return found;
}

function inHundreds(code: number, first: number): boolean {
  return Number.isInteger(code) && code >= first && code <= first + 99;
}

/** The functions that {@link HTTPStatus} carries beside its name → code entries. */
export interface HTTPStatusFunctions {
  /**
   * Python 3: `HTTPStatus(code).phrase`, the short reason phrase (`'Not Found'`).
   * Python raises `ValueError` for a code that is not a member; this throws `TypeError`.
   */
  readonly phrase: (code: number) => string;
  /**
   * Python 3: `HTTPStatus(code).description`, the long text (`'Nothing matches the given
   * URI'`; `''` for the codes whose 3.13 description is empty). Python raises
   * `ValueError` for a code that is not a member; this throws `TypeError`.
   */
  readonly description: (code: number) => string;
  /**
   * Python 3.12+: `HTTPStatus(code).is_informational`. True for an integer in 100–199;
   * unlike Python, any such code (not only a member) answers, and nothing throws.
   */
  readonly isInformational: (code: number) => boolean;
  /** Python 3.12+: `is_success`. True for an integer in 200–299, member or not. */
  readonly isSuccess: (code: number) => boolean;
  /** Python 3.12+: `is_redirection`. True for an integer in 300–399, member or not. */
  readonly isRedirection: (code: number) => boolean;
  /** Python 3.12+: `is_client_error`. True for an integer in 400–499, member or not. */
  readonly isClientError: (code: number) => boolean;
  /** Python 3.12+: `is_server_error`. True for an integer in 500–599, member or not. */
  readonly isServerError: (code: number) => boolean;
}

/**
 * Python 3's `http.HTTPStatus` as a frozen lookup object: every member name, aliases
 * included, → its code (`HTTPStatus.NOT_FOUND === 404`, `HTTPStatus.UNPROCESSABLE_ENTITY
 * === 422`), plus {@link HTTPStatusFunctions}. Python's members are `IntEnum` instances
 * with `.phrase` and `.description`; here the names map to plain numbers and the
 * phrase and description are looked up by code.
 *
 * @example
 * ```ts
 * httplib.HTTPStatus.NOT_FOUND; // 404
 * httplib.HTTPStatus.phrase(404); // 'Not Found'
 * httplib.HTTPStatus.description(404); // 'Nothing matches the given URI'
 * httplib.HTTPStatus.isClientError(response.status); // true for 4xx
 * ```
 */
export const HTTPStatus: Readonly<Record<HTTPStatusName, number>> & HTTPStatusFunctions =
  Object.freeze({
    ...CODES,
    phrase: (code: number) => member(code, 'phrase').phrase,
    description: (code: number) => member(code, 'description').description,
    isInformational: (code: number) => inHundreds(code, 100),
    isSuccess: (code: number) => inHundreds(code, 200),
    isRedirection: (code: number) => inHundreds(code, 300),
    isClientError: (code: number) => inHundreds(code, 400),
    isServerError: (code: number) => inHundreds(code, 500),
  });

/** `httplib.CONTINUE` in Python 2.7, `HTTPStatus.CONTINUE` in 3.x. */
export const CONTINUE = CODES.CONTINUE;
/** `httplib.SWITCHING_PROTOCOLS` in Python 2.7, `HTTPStatus.SWITCHING_PROTOCOLS` in 3.x. */
export const SWITCHING_PROTOCOLS = CODES.SWITCHING_PROTOCOLS;
/** `httplib.PROCESSING` in Python 2.7, `HTTPStatus.PROCESSING` in 3.x. */
export const PROCESSING = CODES.PROCESSING;
/** `HTTPStatus.EARLY_HINTS` since Python 3.9; Python 2.7's httplib has no such constant. */
export const EARLY_HINTS = CODES.EARLY_HINTS;
/** `httplib.OK` in Python 2.7, `HTTPStatus.OK` in 3.x. */
export const OK = CODES.OK;
/** `httplib.CREATED` in Python 2.7, `HTTPStatus.CREATED` in 3.x. */
export const CREATED = CODES.CREATED;
/** `httplib.ACCEPTED` in Python 2.7, `HTTPStatus.ACCEPTED` in 3.x. */
export const ACCEPTED = CODES.ACCEPTED;
/** `httplib.NON_AUTHORITATIVE_INFORMATION` in Python 2.7, `HTTPStatus.NON_AUTHORITATIVE_INFORMATION` in 3.x. */
export const NON_AUTHORITATIVE_INFORMATION = CODES.NON_AUTHORITATIVE_INFORMATION;
/** `httplib.NO_CONTENT` in Python 2.7, `HTTPStatus.NO_CONTENT` in 3.x. */
export const NO_CONTENT = CODES.NO_CONTENT;
/** `httplib.RESET_CONTENT` in Python 2.7, `HTTPStatus.RESET_CONTENT` in 3.x. */
export const RESET_CONTENT = CODES.RESET_CONTENT;
/** `httplib.PARTIAL_CONTENT` in Python 2.7, `HTTPStatus.PARTIAL_CONTENT` in 3.x. */
export const PARTIAL_CONTENT = CODES.PARTIAL_CONTENT;
/** `httplib.MULTI_STATUS` in Python 2.7, `HTTPStatus.MULTI_STATUS` in 3.x. */
export const MULTI_STATUS = CODES.MULTI_STATUS;
/** `HTTPStatus.ALREADY_REPORTED` in Python 3; Python 2.7's httplib has no such constant. */
export const ALREADY_REPORTED = CODES.ALREADY_REPORTED;
/** `httplib.IM_USED` in Python 2.7, `HTTPStatus.IM_USED` in 3.x. */
export const IM_USED = CODES.IM_USED;
/** `httplib.MULTIPLE_CHOICES` in Python 2.7, `HTTPStatus.MULTIPLE_CHOICES` in 3.x. */
export const MULTIPLE_CHOICES = CODES.MULTIPLE_CHOICES;
/** `httplib.MOVED_PERMANENTLY` in Python 2.7, `HTTPStatus.MOVED_PERMANENTLY` in 3.x. */
export const MOVED_PERMANENTLY = CODES.MOVED_PERMANENTLY;
/** `httplib.FOUND` in Python 2.7, `HTTPStatus.FOUND` in 3.x. */
export const FOUND = CODES.FOUND;
/** `httplib.SEE_OTHER` in Python 2.7, `HTTPStatus.SEE_OTHER` in 3.x. */
export const SEE_OTHER = CODES.SEE_OTHER;
/** `httplib.NOT_MODIFIED` in Python 2.7, `HTTPStatus.NOT_MODIFIED` in 3.x. */
export const NOT_MODIFIED = CODES.NOT_MODIFIED;
/** `httplib.USE_PROXY` in Python 2.7, `HTTPStatus.USE_PROXY` in 3.x. */
export const USE_PROXY = CODES.USE_PROXY;
/** `httplib.TEMPORARY_REDIRECT` in Python 2.7, `HTTPStatus.TEMPORARY_REDIRECT` in 3.x. */
export const TEMPORARY_REDIRECT = CODES.TEMPORARY_REDIRECT;
/** `HTTPStatus.PERMANENT_REDIRECT` in Python 3; Python 2.7's httplib has no such constant. */
export const PERMANENT_REDIRECT = CODES.PERMANENT_REDIRECT;
/** `httplib.BAD_REQUEST` in Python 2.7, `HTTPStatus.BAD_REQUEST` in 3.x. */
export const BAD_REQUEST = CODES.BAD_REQUEST;
/** `httplib.UNAUTHORIZED` in Python 2.7, `HTTPStatus.UNAUTHORIZED` in 3.x. */
export const UNAUTHORIZED = CODES.UNAUTHORIZED;
/** `httplib.PAYMENT_REQUIRED` in Python 2.7, `HTTPStatus.PAYMENT_REQUIRED` in 3.x. */
export const PAYMENT_REQUIRED = CODES.PAYMENT_REQUIRED;
/** `httplib.FORBIDDEN` in Python 2.7, `HTTPStatus.FORBIDDEN` in 3.x. */
export const FORBIDDEN = CODES.FORBIDDEN;
/** `httplib.NOT_FOUND` in Python 2.7, `HTTPStatus.NOT_FOUND` in 3.x. */
export const NOT_FOUND = CODES.NOT_FOUND;
/** `httplib.METHOD_NOT_ALLOWED` in Python 2.7, `HTTPStatus.METHOD_NOT_ALLOWED` in 3.x. */
export const METHOD_NOT_ALLOWED = CODES.METHOD_NOT_ALLOWED;
/** `httplib.NOT_ACCEPTABLE` in Python 2.7, `HTTPStatus.NOT_ACCEPTABLE` in 3.x. */
export const NOT_ACCEPTABLE = CODES.NOT_ACCEPTABLE;
/** `httplib.PROXY_AUTHENTICATION_REQUIRED` in Python 2.7, `HTTPStatus.PROXY_AUTHENTICATION_REQUIRED` in 3.x. */
export const PROXY_AUTHENTICATION_REQUIRED = CODES.PROXY_AUTHENTICATION_REQUIRED;
/** `httplib.REQUEST_TIMEOUT` in Python 2.7, `HTTPStatus.REQUEST_TIMEOUT` in 3.x. */
export const REQUEST_TIMEOUT = CODES.REQUEST_TIMEOUT;
/** `httplib.CONFLICT` in Python 2.7, `HTTPStatus.CONFLICT` in 3.x. */
export const CONFLICT = CODES.CONFLICT;
/** `httplib.GONE` in Python 2.7, `HTTPStatus.GONE` in 3.x. */
export const GONE = CODES.GONE;
/** `httplib.LENGTH_REQUIRED` in Python 2.7, `HTTPStatus.LENGTH_REQUIRED` in 3.x. */
export const LENGTH_REQUIRED = CODES.LENGTH_REQUIRED;
/** `httplib.PRECONDITION_FAILED` in Python 2.7, `HTTPStatus.PRECONDITION_FAILED` in 3.x. */
export const PRECONDITION_FAILED = CODES.PRECONDITION_FAILED;
/** `HTTPStatus.CONTENT_TOO_LARGE` since Python 3.13 (RFC 9110's name); Python 2.7 calls it {@link REQUEST_ENTITY_TOO_LARGE}. */
export const CONTENT_TOO_LARGE = CODES.CONTENT_TOO_LARGE;
/** `httplib.REQUEST_ENTITY_TOO_LARGE` in Python 2.7 and `HTTPStatus.REQUEST_ENTITY_TOO_LARGE` in 3.x before 3.13; an alias of {@link CONTENT_TOO_LARGE} since 3.13. */
export const REQUEST_ENTITY_TOO_LARGE = CODES.REQUEST_ENTITY_TOO_LARGE;
/** `HTTPStatus.URI_TOO_LONG` since Python 3.13 (RFC 9110's name); Python 2.7 calls it {@link REQUEST_URI_TOO_LONG}. */
export const URI_TOO_LONG = CODES.URI_TOO_LONG;
/** `httplib.REQUEST_URI_TOO_LONG` in Python 2.7 and `HTTPStatus.REQUEST_URI_TOO_LONG` in 3.x before 3.13; an alias of {@link URI_TOO_LONG} since 3.13. */
export const REQUEST_URI_TOO_LONG = CODES.REQUEST_URI_TOO_LONG;
/** `httplib.UNSUPPORTED_MEDIA_TYPE` in Python 2.7, `HTTPStatus.UNSUPPORTED_MEDIA_TYPE` in 3.x. */
export const UNSUPPORTED_MEDIA_TYPE = CODES.UNSUPPORTED_MEDIA_TYPE;
/** `HTTPStatus.RANGE_NOT_SATISFIABLE` since Python 3.13 (RFC 9110's name); Python 2.7 calls it {@link REQUESTED_RANGE_NOT_SATISFIABLE}. */
export const RANGE_NOT_SATISFIABLE = CODES.RANGE_NOT_SATISFIABLE;
/** `httplib.REQUESTED_RANGE_NOT_SATISFIABLE` in Python 2.7 and `HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE` in 3.x before 3.13; an alias of {@link RANGE_NOT_SATISFIABLE} since 3.13. */
export const REQUESTED_RANGE_NOT_SATISFIABLE = CODES.REQUESTED_RANGE_NOT_SATISFIABLE;
/** `httplib.EXPECTATION_FAILED` in Python 2.7, `HTTPStatus.EXPECTATION_FAILED` in 3.x. */
export const EXPECTATION_FAILED = CODES.EXPECTATION_FAILED;
/** `HTTPStatus.IM_A_TEAPOT` since Python 3.9; Python 2.7's httplib has no such constant. */
export const IM_A_TEAPOT = CODES.IM_A_TEAPOT;
/** `HTTPStatus.MISDIRECTED_REQUEST` since Python 3.7; Python 2.7's httplib has no such constant. */
export const MISDIRECTED_REQUEST = CODES.MISDIRECTED_REQUEST;
/** `HTTPStatus.UNPROCESSABLE_CONTENT` since Python 3.13 (RFC 9110's name); Python 2.7 calls it {@link UNPROCESSABLE_ENTITY}. */
export const UNPROCESSABLE_CONTENT = CODES.UNPROCESSABLE_CONTENT;
/** `httplib.UNPROCESSABLE_ENTITY` in Python 2.7 and `HTTPStatus.UNPROCESSABLE_ENTITY` in 3.x before 3.13; an alias of {@link UNPROCESSABLE_CONTENT} since 3.13. */
export const UNPROCESSABLE_ENTITY = CODES.UNPROCESSABLE_ENTITY;
/** `httplib.LOCKED` in Python 2.7, `HTTPStatus.LOCKED` in 3.x. */
export const LOCKED = CODES.LOCKED;
/** `httplib.FAILED_DEPENDENCY` in Python 2.7, `HTTPStatus.FAILED_DEPENDENCY` in 3.x. */
export const FAILED_DEPENDENCY = CODES.FAILED_DEPENDENCY;
/** `HTTPStatus.TOO_EARLY` since Python 3.9; Python 2.7's httplib has no such constant. */
export const TOO_EARLY = CODES.TOO_EARLY;
/** `httplib.UPGRADE_REQUIRED` in Python 2.7, `HTTPStatus.UPGRADE_REQUIRED` in 3.x. */
export const UPGRADE_REQUIRED = CODES.UPGRADE_REQUIRED;
/** `HTTPStatus.PRECONDITION_REQUIRED` in Python 3; Python 2.7's httplib has no such constant. */
export const PRECONDITION_REQUIRED = CODES.PRECONDITION_REQUIRED;
/** `HTTPStatus.TOO_MANY_REQUESTS` in Python 3; Python 2.7's httplib has no such constant. */
export const TOO_MANY_REQUESTS = CODES.TOO_MANY_REQUESTS;
/** `HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE` in Python 3; Python 2.7's httplib has no such constant. */
export const REQUEST_HEADER_FIELDS_TOO_LARGE = CODES.REQUEST_HEADER_FIELDS_TOO_LARGE;
/** `HTTPStatus.UNAVAILABLE_FOR_LEGAL_REASONS` since Python 3.8; Python 2.7's httplib has no such constant. */
export const UNAVAILABLE_FOR_LEGAL_REASONS = CODES.UNAVAILABLE_FOR_LEGAL_REASONS;
/** `httplib.INTERNAL_SERVER_ERROR` in Python 2.7, `HTTPStatus.INTERNAL_SERVER_ERROR` in 3.x. */
export const INTERNAL_SERVER_ERROR = CODES.INTERNAL_SERVER_ERROR;
/** `httplib.NOT_IMPLEMENTED` in Python 2.7, `HTTPStatus.NOT_IMPLEMENTED` in 3.x. */
export const NOT_IMPLEMENTED = CODES.NOT_IMPLEMENTED;
/** `httplib.BAD_GATEWAY` in Python 2.7, `HTTPStatus.BAD_GATEWAY` in 3.x. */
export const BAD_GATEWAY = CODES.BAD_GATEWAY;
/** `httplib.SERVICE_UNAVAILABLE` in Python 2.7, `HTTPStatus.SERVICE_UNAVAILABLE` in 3.x. */
export const SERVICE_UNAVAILABLE = CODES.SERVICE_UNAVAILABLE;
/** `httplib.GATEWAY_TIMEOUT` in Python 2.7, `HTTPStatus.GATEWAY_TIMEOUT` in 3.x. */
export const GATEWAY_TIMEOUT = CODES.GATEWAY_TIMEOUT;
/** `httplib.HTTP_VERSION_NOT_SUPPORTED` in Python 2.7, `HTTPStatus.HTTP_VERSION_NOT_SUPPORTED` in 3.x. */
export const HTTP_VERSION_NOT_SUPPORTED = CODES.HTTP_VERSION_NOT_SUPPORTED;
/** `HTTPStatus.VARIANT_ALSO_NEGOTIATES` in Python 3; Python 2.7's httplib has no such constant. */
export const VARIANT_ALSO_NEGOTIATES = CODES.VARIANT_ALSO_NEGOTIATES;
/** `httplib.INSUFFICIENT_STORAGE` in Python 2.7, `HTTPStatus.INSUFFICIENT_STORAGE` in 3.x. */
export const INSUFFICIENT_STORAGE = CODES.INSUFFICIENT_STORAGE;
/** `HTTPStatus.LOOP_DETECTED` in Python 3; Python 2.7's httplib has no such constant. */
export const LOOP_DETECTED = CODES.LOOP_DETECTED;
/** `httplib.NOT_EXTENDED` in Python 2.7, `HTTPStatus.NOT_EXTENDED` in 3.x. */
export const NOT_EXTENDED = CODES.NOT_EXTENDED;
/** `HTTPStatus.NETWORK_AUTHENTICATION_REQUIRED` in Python 3; Python 2.7's httplib has no such constant. */
export const NETWORK_AUTHENTICATION_REQUIRED = CODES.NETWORK_AUTHENTICATION_REQUIRED;
