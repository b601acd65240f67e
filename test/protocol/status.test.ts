// Status constants, `responses` and `HTTPStatus`, checked against what real Python
// printed: test/fixtures/status/python2.7.json (httplib) and python3.13.json
// (http.HTTPStatus), both written by test/fixtures/status/generate.py.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as status from '../../src/protocol/status.ts';
import { HTTPStatus, NOT_FOUND, responses } from '../../src/protocol/status.ts';

interface Python27 {
  python: string;
  constants: Record<string, number>;
  responses: Record<string, string>;
}

interface Member313 {
  name: string;
  value: number;
  canonical: string;
  phrase: string;
  description: string;
  is_informational: boolean;
  is_success: boolean;
  is_redirection: boolean;
  is_client_error: boolean;
  is_server_error: boolean;
}

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/status/${name}`, import.meta.url), 'utf8'));
}

const py27 = fixture<Python27>('python2.7.json');
const py313 = fixture<{ python: string; members: Member313[] }>('python3.13.json');
const members = py313.members;
const codes313 = new Set(members.map((m) => m.value));
const allNames = [...new Set([...Object.keys(py27.constants), ...members.map((m) => m.name)])];

// Compile-time: the named constants are plain `number`, not literal types.
type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const notFoundIsNumber: Equal<typeof NOT_FOUND, number> = true;

describe('the fixtures', () => {
  // Guards the loops below: an empty or truncated fixture would make them pass vacuously.
  it('come from the right interpreters and hold the documented counts', () => {
    assert.equal(py27.python, '2.7.18');
    assert.match(py313.python, /^3\.13\./);
    assert.equal(Object.keys(py27.constants).length, 49);
    assert.equal(Object.keys(py27.responses).length, 41);
    assert.equal(members.length, 66);
    assert.equal(codes313.size, 62);
    assert.equal(allNames.length, 66);
  });
});

describe('status constants', () => {
  it('NOT_FOUND is a number constant', () => {
    assert.equal(notFoundIsNumber, true);
    assert.equal(NOT_FOUND, 404);
  });

  it("every Python 2.7 httplib constant exists with 2.7's value", () => {
    const exports = status as unknown as Record<string, unknown>;
    for (const [name, value] of Object.entries(py27.constants)) {
      assert.equal(exports[name], value, name);
    }
  });

  it("every Python 3.13 HTTPStatus name (aliases included) exists with 3.13's value", () => {
    const exports = status as unknown as Record<string, unknown>;
    for (const { name, value } of members) {
      assert.equal(exports[name], value, name);
    }
  });

  it('no other number is exported', () => {
    const numbers = Object.entries(status)
      .filter(([, value]) => typeof value === 'number')
      .map(([name]) => name);
    assert.deepEqual(numbers.sort(), [...allNames].sort());
  });
});

describe('responses', () => {
  it("is 2.7's dict for 2.7's codes and 3.13's phrases for every other code, nothing else", () => {
    const expected: Record<string, string> = {};
    for (const m of members) if (m.name === m.canonical) expected[m.value] = m.phrase;
    Object.assign(expected, py27.responses);
    assert.deepEqual({ ...responses }, expected);
    assert.equal(Object.keys(responses).length, 63);
  });

  it('keeps the phrases that differ between 2.7 and 3.13 as 2.7 has them', () => {
    assert.equal(responses[NOT_FOUND], 'Not Found');
    assert.equal(responses[413], 'Request Entity Too Large');
    assert.equal(responses[414], 'Request-URI Too Long');
    assert.equal(responses[416], 'Requested Range Not Satisfiable');
    assert.equal(responses[306], '(Unused)');
    // 2.7 has the constant UNPROCESSABLE_ENTITY but no phrase: 3.13's applies.
    assert.equal(responses[422], 'Unprocessable Content');
    assert.equal(responses[999], undefined);
  });

  it('is frozen', () => {
    assert.ok(Object.isFrozen(responses));
    const writable = responses as Record<number, string>;
    assert.throws(() => {
      writable[404] = 'Lost';
    }, TypeError);
    assert.throws(() => {
      writable[999] = 'Made Up';
    }, TypeError);
    assert.equal(responses[404], 'Not Found');
  });
});

describe('HTTPStatus', () => {
  it('maps every 3.13 name (aliases included) to its code, and has nothing else', () => {
    const lookup = HTTPStatus as unknown as Record<string, unknown>;
    for (const { name, value } of members) assert.equal(lookup[name], value, name);
    const functions = [
      'description',
      'isClientError',
      'isInformational',
      'isRedirection',
      'isServerError',
      'isSuccess',
      'phrase',
    ];
    assert.deepEqual(Object.keys(HTTPStatus).sort(), [...allNames, ...functions].sort());
    for (const name of functions) assert.equal(typeof lookup[name], 'function', name);
  });

  it('is frozen', () => {
    assert.ok(Object.isFrozen(HTTPStatus));
    assert.throws(() => {
      (HTTPStatus as unknown as Record<string, number>).NOT_FOUND = 0;
    }, TypeError);
    assert.equal(HTTPStatus.NOT_FOUND, 404);
  });

  it("phrase() and description() give 3.13's text for every member", () => {
    for (const m of members) {
      assert.equal(HTTPStatus.phrase(m.value), m.phrase, `phrase(${m.value})`);
      assert.equal(HTTPStatus.description(m.value), m.description, `description(${m.value})`);
    }
    assert.equal(HTTPStatus.phrase(413), 'Content Too Large');
    assert.equal(HTTPStatus.description(404), 'Nothing matches the given URI');
  });

  it('phrase() and description() throw TypeError for every other code', () => {
    const others: unknown[] = [Number.NaN, 404.5, -404, Number.POSITIVE_INFINITY, '404', null];
    for (let code = -1; code <= 1000; code++) if (!codes313.has(code)) others.push(code);
    assert.ok(others.includes(306), '306 (only in 2.7 responses) is not a member');
    for (const code of others) {
      for (const fn of [HTTPStatus.phrase, HTTPStatus.description]) {
        assert.throws(() => fn(code as number), {
          name: 'TypeError',
          message: /is not a valid HTTPStatus$/,
        });
      }
    }
    assert.throws(() => HTTPStatus.phrase(999), {
      name: 'TypeError',
      message: 'HTTPStatus.phrase(): 999 is not a valid HTTPStatus',
    });
    assert.throws(() => HTTPStatus.description('404' as unknown as number), {
      name: 'TypeError',
      message: "HTTPStatus.description(): '404' is not a valid HTTPStatus",
    });
  });

  describe('is* helpers', () => {
    const helpers = [
      ['isInformational', 'is_informational', 100],
      ['isSuccess', 'is_success', 200],
      ['isRedirection', 'is_redirection', 300],
      ['isClientError', 'is_client_error', 400],
      ['isServerError', 'is_server_error', 500],
    ] as const;

    for (const [fn, property, first] of helpers) {
      it(`${fn} matches Python 3.13's ${property} for every member`, () => {
        for (const m of members) assert.equal(HTTPStatus[fn](m.value), m[property], `${m.value}`);
      });

      it(`${fn} is true exactly for the integers ${first}–${first + 99}`, () => {
        for (let code = 0; code <= 1000; code++) {
          assert.equal(HTTPStatus[fn](code), code >= first && code <= first + 99, `${code}`);
        }
        for (const code of [first + 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
          assert.equal(HTTPStatus[fn](code), false, `${code}`);
        }
      });
    }
  });
});
