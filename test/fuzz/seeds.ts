/**
 * Seed responses for the response-parser fuzz target: ordinary responses and the
 * classes of tricky input that security.md §1 and §3.2 collect from llhttp's response
 * fixtures, curl's test data, Go's and CPython's response tests (written here from those
 * descriptions, not copied). The fuzzer mutates these; it does not expect outcomes.
 *
 * Each seed: a label, the bytes (latin1 text), and the request method when it matters.
 */

export interface Seed {
  readonly label: string;
  readonly text: string;
  readonly method?: string;
}

const OK = 'HTTP/1.1 200 OK\r\n';

export const SEEDS: readonly Seed[] = [
  // --- ordinary
  {
    label: 'content-length',
    text: `${OK}Content-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello`,
  },
  {
    label: 'chunked',
    text: `${OK}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n`,
  },
  { label: 'until close', text: 'HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody until the end' },
  {
    label: 'keep-alive 1.0',
    text: 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi',
  },
  { label: 'no reason', text: 'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n' },
  { label: 'empty reason', text: 'HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n' },
  {
    label: 'long reason',
    text: 'HTTP/1.1 404 Not Found At All, Sorry\r\nContent-Length: 0\r\n\r\n',
  },
  {
    label: 'redirect',
    text: 'HTTP/1.1 301 Moved Permanently\r\nLocation: http://x/\r\nContent-Length: 0\r\n\r\n',
  },
  {
    label: 'set-cookie twice',
    text: `${OK}Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n`,
  },
  { label: 'pipelined', text: `${OK}Content-Length: 1\r\n\r\nA${OK}Content-Length: 1\r\n\r\nB` },
  // --- no body whatever the headers say
  { label: 'HEAD with length', text: `${OK}Content-Length: 100\r\n\r\n`, method: 'HEAD' },
  { label: 'HEAD chunked', text: `${OK}Transfer-Encoding: chunked\r\n\r\n`, method: 'HEAD' },
  { label: '204 with length', text: 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello' },
  {
    label: '204 chunked',
    text: 'HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  },
  { label: '304 with length', text: 'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n' },
  {
    label: '101',
    text: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x00',
  },
  {
    label: 'CONNECT 200 with framing',
    text: `${OK}Content-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n\x16\x03\x01`,
    method: 'CONNECT',
  },
  {
    label: 'CONNECT 407',
    text: 'HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 3\r\n\r\nno!',
    method: 'CONNECT',
  },
  // --- interim responses
  { label: '100 then 200', text: `HTTP/1.1 100 Continue\r\n\r\n${OK}Content-Length: 2\r\n\r\nok` },
  {
    label: '103 with links',
    text: `HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n${OK}Content-Length: 0\r\n\r\n`,
  },
  {
    label: '102 twice',
    text: `HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n${OK}Content-Length: 0\r\n\r\n`,
  },
  {
    label: 'unknown 1xx',
    text: `HTTP/1.1 104 Whatever\r\nX: y\r\n\r\n${OK}Content-Length: 0\r\n\r\n`,
  },
  { label: '100 then close', text: 'HTTP/1.1 100 Continue\r\n\r\n' },
  {
    label: '100 with headers',
    text: `HTTP/1.1 100 Continue\r\nA: 1\r\n folded\r\nB: 2\r\n\r\n${OK}Content-Length: 0\r\n\r\n`,
  },
  // --- Content-Length traps
  { label: 'CL plus sign', text: `${OK}Content-Length: +5\r\n\r\nhello` },
  { label: 'CL negative', text: `${OK}Content-Length: -1\r\n\r\nhello` },
  { label: 'CL hex', text: `${OK}Content-Length: 0x5\r\n\r\nhello` },
  { label: 'CL underscore', text: `${OK}Content-Length: 5_0\r\n\r\nhello` },
  { label: 'CL padded', text: `${OK}Content-Length:   5   \r\n\r\nhello` },
  { label: 'CL list', text: `${OK}Content-Length: 5, 5\r\n\r\nhello` },
  { label: 'CL two equal', text: `${OK}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello` },
  { label: 'CL two differ', text: `${OK}Content-Length: 5\r\nContent-Length: 7\r\n\r\nhello` },
  { label: 'CL empty', text: `${OK}Content-Length:\r\n\r\nhello` },
  { label: 'CL crap', text: `${OK}Content-Length: crap\r\n\r\nhello` },
  { label: 'CL 2^53', text: `${OK}Content-Length: 9007199254740992\r\n\r\nhello` },
  { label: 'CL 2^65', text: `${OK}Content-Length: 36893488147419103232\r\n\r\nhello` },
  { label: 'CL huge, tiny body', text: `${OK}Content-Length: 9007199254740991\r\n\r\nhello` },
  { label: 'CL short body', text: `${OK}Content-Length: 10\r\n\r\nhello` },
  { label: 'CL folded', text: `${OK}Content-Length: 5\r\n 0\r\n\r\nhello` },
  {
    label: 'CL with TE',
    text: `${OK}Content-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n`,
  },
  { label: 'CL space before colon', text: `${OK}Content-Length : 5\r\n\r\nhello` },
  // --- Transfer-Encoding traps
  { label: 'TE chunked, identity', text: `${OK}Transfer-Encoding: chunked, identity\r\n\r\nWorld` },
  {
    label: 'TE identity, chunked',
    text: `${OK}Transfer-Encoding: identity, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n`,
  },
  {
    label: 'TE twice',
    text: `${OK}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n`,
  },
  {
    label: 'TE chunkedchunked',
    text: `${OK}Transfer-Encoding: chunkedchunked\r\n\r\n2\r\nok\r\n0\r\n\r\n`,
  },
  { label: 'TE empty', text: `${OK}Transfer-Encoding:\r\nContent-Length: 5\r\n\r\nhello` },
  { label: 'TE case', text: `${OK}TRANSFER-ENCODING: CHUNKED\r\n\r\n2\r\nok\r\n0\r\n\r\n` },
  {
    label: 'TE folded',
    text: `${OK}Transfer-Encoding: chunked\r\n  abc\r\n\r\n5\r\nWorld\r\n0\r\n\r\n`,
  },
  {
    label: 'TE in 1.0',
    text: 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
  },
  // --- chunk grammar
  {
    label: 'chunk ext',
    text: `${OK}Transfer-Encoding: chunked\r\n\r\n5;a=b;c\r\nhello\r\n0;last\r\n\r\n`,
  },
  {
    label: 'chunk ext quoted',
    text: `${OK}Transfer-Encoding: chunked\r\n\r\n5;a="x; y"\r\nhello\r\n0\r\n\r\n`,
  },
  {
    label: 'chunk ext unbalanced quote',
    text: `${OK}Transfer-Encoding: chunked\r\n\r\n5;a="x\r\nhello\r\n0\r\n\r\n`,
  },
  {
    label: 'chunk empty ext',
    text: `${OK}Transfer-Encoding: chunked\r\n\r\n2;\r\nok\r\n0\r\n\r\n`,
  },
  {
    label: 'chunk ws before ext',
    text: `${OK}Transfer-Encoding: chunked\r\n\r\n2 ;x\r\nok\r\n0\r\n\r\n`,
  },
  {
    label: 'chunk size trailing space',
    text: `${OK}Transfer-Encoding: chunked\r\n\r\n2 \r\nok\r\n0\r\n\r\n`,
  },
  {
    label: 'chunk size text after space',
    text: `${OK}Transfer-Encoding: chunked\r\n\r\n2 erfrferferf\r\nok\r\n0\r\n\r\n`,
  },
  { label: 'chunk 0x', text: `${OK}Transfer-Encoding: chunked\r\n\r\n0x2\r\nok\r\n0\r\n\r\n` },
  { label: 'chunk signed', text: `${OK}Transfer-Encoding: chunked\r\n\r\n+2\r\nok\r\n-0\r\n\r\n` },
  { label: 'chunk 1X', text: `${OK}Transfer-Encoding: chunked\r\n\r\n1X\r\nok\r\n0\r\n\r\n` },
  {
    label: 'chunk 17 hex digits',
    text: `${OK}Transfer-Encoding: chunked\r\n\r\n12345678123456789\r\nok\r\n0\r\n\r\n`,
  },
  { label: 'chunk 2^53', text: `${OK}Transfer-Encoding: chunked\r\n\r\n20000000000000\r\nok\r\n` },
  {
    label: 'chunk many zeros',
    text: `${OK}Transfer-Encoding: chunked\r\n\r\n0000000000000000000000002\r\nok\r\n0\r\n\r\n`,
  },
  { label: 'chunk LF only', text: `${OK}Transfer-Encoding: chunked\r\n\r\n2\nok\n0\n\n` },
  { label: 'chunk data no CRLF', text: `${OK}Transfer-Encoding: chunked\r\n\r\n2\r\nokX0\r\n\r\n` },
  { label: 'chunk bare CR', text: `${OK}Transfer-Encoding: chunked\r\n\r\n2\rok\r\n0\r\n\r\n` },
  {
    label: 'chunk trailers',
    text: `${OK}Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\n`,
  },
  {
    label: 'chunk trailer LF',
    text: `${OK}Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nA: b\n\r\n`,
  },
  {
    label: 'chunk trailer NUL',
    text: `${OK}Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nA: \0\r\n\r\n`,
  },
  { label: 'chunk cut', text: `${OK}Transfer-Encoding: chunked\r\n\r\n5\r\nhel` },
  { label: 'chunk no last', text: `${OK}Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n` },
  { label: 'chunk no final CRLF', text: `${OK}Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n` },
  // --- status line
  { label: 'HTP/1.1', text: 'HTP/1.1 200 OK\r\n\r\n' },
  { label: 'HTTP/01.1', text: 'HTTP/01.1 200 OK\r\n\r\n' },
  { label: 'HTTP/1.01', text: 'HTTP/1.01 200 OK\r\nContent-Length: 0\r\n\r\n' },
  { label: 'tab after version', text: 'HTTP/1.1\t200 OK\r\nContent-Length: 0\r\n\r\n' },
  { label: 'HTTP/5.6', text: 'HTTP/5.6 200 OK\r\n\r\n' },
  { label: 'HTTP/2', text: 'HTTP/2 200\r\n\r\n' },
  { label: 'two spaces', text: 'HTTP/1.1  200 OK\r\nContent-Length: 0\r\n\r\n' },
  { label: 'one-digit code', text: 'HTTP/1.1 2 OK\r\n\r\n' },
  { label: 'code 999', text: 'HTTP/1.1 999 Weird\r\nContent-Length: 0\r\n\r\n' },
  { label: 'code 1000', text: 'HTTP/1.1 1000 Weird\r\n\r\n' },
  { label: 'code 100 digits', text: `HTTP/1.1 ${'9'.repeat(100)} Big\r\n\r\n` },
  { label: 'code negative', text: 'HTTP/1.1 -200 OK\r\n\r\n' },
  {
    label: 'long minor version',
    text: `HTTP/1.${'1'.repeat(100)} 200 OK\r\nContent-Length: 0\r\n\r\n`,
  },
  { label: 'leading CRLF', text: `\r\n${OK}Content-Length: 0\r\n\r\n` },
  { label: 'CR in status', text: 'HTTP/1.1 200 O\rK\r\nContent-Length: 0\r\n\r\n' },
  { label: 'non-ASCII reason', text: 'HTTP/1.1 200 D\xe9j\xe0 vu\r\nContent-Length: 0\r\n\r\n' },
  { label: 'HTTP/0.9', text: '<html>hello</html>\n' },
  { label: 'HTTP/0.9 no LF', text: 'hello' },
  { label: 'explicit HTTP/0.9', text: 'HTTP/0.9 200 OK\r\n\r\nbody' },
  { label: 'empty', text: '' },
  { label: 'cut status', text: 'HTTP/1.1 20' },
  // --- header lines
  { label: 'LF only', text: 'HTTP/1.1 200 OK\nFoo: abc\nContent-Length: 4\n\nBODY' },
  { label: 'bare CR separator', text: `${OK}Foo: 1\rBar: 2\r\n\r\n` },
  {
    label: 'bare CR smuggle',
    text: `${OK}X-Abc: \rTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\nok`,
  },
  { label: 'no colon', text: `${OK}NoColonHere\r\nContent-Length: 0\r\n\r\n` },
  { label: 'empty name', text: `${OK}: value\r\nContent-Length: 0\r\n\r\n` },
  { label: 'first line folded', text: `${OK} Host: foo\r\nContent-Length: 0\r\n\r\n` },
  { label: 'fold', text: `${OK}X-Long: a\r\n\tb\r\n c\r\nContent-Length: 0\r\n\r\n` },
  { label: 'NUL in value', text: `${OK}X: a\0b\r\nContent-Length: 0\r\n\r\n` },
  { label: 'NUL in name', text: `${OK}X\0Y: a\r\nContent-Length: 0\r\n\r\n` },
  { label: 'CTL in value', text: `${OK}X: a\x01\x7fb\r\nContent-Length: 0\r\n\r\n` },
  { label: 'obs-text', text: `${OK}X: \x80\xff\r\nContent-Length: 0\r\n\r\n` },
  {
    label: 'proto names',
    text: `${OK}__proto__: x\r\nconstructor: y\r\nContent-Length: 0\r\n\r\n`,
  },
  { label: 'connection close', text: `${OK}Connection: close\r\nContent-Length: 1\r\n\r\nx` },
  {
    label: 'connection list',
    text: `${OK}Connection: keep-alive, close\r\nContent-Length: 1\r\n\r\nx`,
  },
  {
    label: 'proxy-connection 1.0',
    text: 'HTTP/1.0 200 OK\r\nProxy-Connection: keep-alive\r\nContent-Length: 1\r\n\r\nx',
  },
  { label: 'cut head', text: `${OK}Content-Length: 5\r\nX: ` },
  { label: 'blank line CR CR LF', text: `${OK}Content-Length: 0\r\r\n\r\n` },
  { label: 'whitespace blank line', text: `${OK}Content-Length: 0\r\n \r\n\r\n` },
];
