import assert from 'node:assert/strict';
import { ConnectorFailure } from '../../src/activities/connectors/connector';
import { originOf, pathSegment } from '../../src/activities/connectors/http-calls';

describe('where a connector may send its secrets, and what may go in a path', () => {
  const origins: [string, string, boolean][] = [
    ['https://api.batch.com/1.0/x.zip', 'https://api.batch.com', true],
    ['http://api.batch.com/1.0/x.zip', 'https://api.batch.com', false],
    ['https://api.batch.com:8443/x.zip', 'https://api.batch.com', false],
    ['https://cdn.batch.com/x.zip', 'https://api.batch.com', false],
    ['/1.0/x.zip', 'https://api.batch.com', true],
  ];
  for (const [url, base, same] of origins) {
    it(`${url} is ${same ? '' : 'not '}the origin of ${base}`, () =>
      assert.equal(originOf(url, base) === originOf(base), same));
  }

  const segments: [string, string | null][] = [
    ['jane.doe', 'jane.doe'],
    ['a/b', 'a%2Fb'],
    ['...', '...'],
    ['.', null],
    ['..', null],
  ];
  for (const [value, expected] of segments) {
    it(`"${value}" as a path segment: ${expected ?? 'refused'}`, () => {
      if (expected !== null) return assert.equal(pathSegment(value, 'subject.custom_id'), expected);
      assert.throws(
        () => pathSegment(value, 'subject.custom_id'),
        (error: unknown) => error instanceof ConnectorFailure && error.failure.kind === 'unusable_value',
      );
    });
  }
});
