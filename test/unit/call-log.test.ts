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
  ];
  for (const [text, expected] of rows) it(text, () => assert.equal(redact(text, hidden), expected));

  it('keeps only the start of an answer, and nothing of a binary one', () => {
    assert.equal(excerptOf('x'.repeat(2000), [])?.length, 500);
    const zipped = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]);
    assert.equal(excerptOf(zipped, []), '[binary, 6 bytes]');
    assert.equal(excerptOf(undefined, []), null);
  });
});
