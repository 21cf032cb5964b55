import assert from 'node:assert/strict';
import { excerptOf, redact } from '../../src/infra/call-log';

describe('the call log hides secrets and identifiers', () => {
  const hidden = ['+33 6 12 34 56 78', 'jane.doe@example.com', 'sk_live_123'];
  const rows: [string, string][] = [
    ['/contacts?email=jane.doe@example.com', '/contacts?email=[redacted]'],
    ['/contacts?email=jane.doe%40example.com', '/contacts?email=[redacted]'],
    ['/contacts?phone=%2B33+6+12+34+56+78', '/contacts?phone=[redacted]'],
    ['/contacts?phone=%2B33%206%2012%2034%2056%2078', '/contacts?phone=[redacted]'],
    ['{"token":"sk_live_123"}', '{"token":"[redacted]"}'],
    ['{"email":"JANE.DOE@EXAMPLE.COM"}', '{"email":"[redacted]"}'],
  ];
  for (const [text, expected] of rows) it(text, () => assert.equal(redact(text, hidden), expected));

  it('keeps only the start of an answer, and nothing of a binary one', () => {
    assert.equal(excerptOf('x'.repeat(2000), [])?.length, 500);
    const zipped = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]);
    assert.equal(excerptOf(zipped, []), '[binary, 6 bytes]');
    assert.equal(excerptOf(undefined, []), null);
  });

  const subject = ['jane.doe@example.com', 'Jane Doe', 'Jane', 'Doe'];
  const excerpts: [string, unknown, string][] = [
    [
      'a JSON answer keeps its keys and error fields, not the other strings',
      {
        error: { code: 'INVALID', name: 'BAD_USER' },
        user: { name: 'JANE DOE', address: '1 Main St' },
        n: 2,
      },
      '{"error":{"code":"INVALID","name":"BAD_USER"},"user":{"name":"[redacted]","address":"[redacted]"},"n":2}',
    ],
    [
      'an error message is scrubbed of the subject, emails and phones',
      '{"message":"no user jane.doe@example.com, bob@example.org or +1 (415) 555-0100, doe"}',
      '{"message":"no user [redacted], [redacted] or [redacted], [redacted]"}',
    ],
    [
      'a text answer keeps its start, scrubbed',
      'Error for JANE DOE: call 06 12 34 56 78',
      'Error for [redacted]: call [redacted]',
    ],
    [
      'a long list keeps its first items',
      { errors: [1, 2, 3, 4, 5, 6, 7] },
      '{"errors":[1,2,3,4,5,"[2 more]"]}',
    ],
  ];
  for (const [what, body, expected] of excerpts)
    it(what, () => assert.equal(excerptOf(body, subject), expected));

  it('a two-letter surname is redacted where it stands alone, not inside other words', () => {
    assert.equal(
      excerptOf('{"error":"no customer Li, Jane (LI) at Lisbon"}', ['Jane Li', 'Jane', 'Li']),
      '{"error":"no customer [redacted], [redacted] ([redacted]) at Lisbon"}',
    );
  });

  // Before the patterns were bounded, 80 KB like these took 6 s each, and 32 MB would block a worker for hours.
  const hostileWords: [string, unknown][] = [
    ['a text of one 1 MB word', 'a'.repeat(1 << 20)],
    ['a JSON answer with a 1 MB key', { ['k'.repeat(1 << 20)]: 1 }],
    [
      'a JSON answer with 100,000 keys',
      Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])),
    ],
    ['a run of digits and separators', '1 '.repeat(1 << 19)],
  ];
  for (const [what, body] of hostileWords)
    it(`${what} is excerpted in bounded time`, function () {
      this.timeout(5_000);
      const excerpt = excerptOf(body, subject);
      assert.ok(excerpt !== null && excerpt.length <= 500, String(excerpt?.length));
    });

  it('a long answer is scrubbed up to its last whole word: no half of an address survives the cut', () => {
    const text = `${'word '.repeat(799)}jane.doe@example.com and more`;
    assert.ok(!excerptOf(text, [])!.includes('jane'));
  });
});
