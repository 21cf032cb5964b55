import assert from 'node:assert/strict';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  EncryptionCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  newEncryptionKey,
  parseEncryptionKeys,
} from '../../src/infra/payload-codec';

describe('the payload codec encrypts what Lethe gives Temporal', () => {
  const subject = { email: 'jane.doe@example.com', phone: '+15550100' };
  const payload = defaultPayloadConverter.toPayload(subject);

  it('round-trips, and the stored bytes hold no identifier', async () => {
    const codec = new EncryptionCodec(parseEncryptionKeys(`k1:${newEncryptionKey()}`));
    const [sealed] = await codec.encode([payload]);
    assert.equal(Buffer.from(sealed!.metadata!.encoding!).toString(), ENCRYPTED_ENCODING);
    assert.equal(Buffer.from(sealed!.metadata![KEY_ID_METADATA]!).toString(), 'k1');
    const stored = Buffer.from(sealed!.data!).toString('latin1');
    assert.ok(!stored.includes('jane.doe') && !stored.includes('15550100'));
    const [opened] = await codec.decode([sealed!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(opened!), subject);
  });

  it('rotation: the newest key encrypts, an older one still decrypts', async () => {
    const old = newEncryptionKey();
    const before = new EncryptionCodec(parseEncryptionKeys(`2026-10:${old}`));
    const [sealedBefore] = await before.encode([payload]);
    const after = new EncryptionCodec(parseEncryptionKeys(`2026-11:${newEncryptionKey()},2026-10:${old}`));
    const [sealedAfter] = await after.encode([payload]);
    assert.equal(Buffer.from(sealedAfter!.metadata![KEY_ID_METADATA]!).toString(), '2026-11');
    const [a, b] = await after.decode([sealedBefore!, sealedAfter!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(a!), subject);
    assert.deepEqual(defaultPayloadConverter.fromPayload(b!), subject);
    await assert.rejects(before.decode([sealedAfter!]), /no decryption key "2026-11"/);
  });

  it('a tampered payload is refused; plaintext payloads pass through', async () => {
    const codec = new EncryptionCodec(parseEncryptionKeys(`k1:${newEncryptionKey()}`));
    const [sealed] = await codec.encode([payload]);
    const data = Buffer.from(sealed!.data!);
    data[20] = (data[20] ?? 0) ^ 1;
    await assert.rejects(codec.decode([{ ...sealed!, data }]));
    assert.deepEqual(await codec.decode([payload]), [payload]);
  });

  for (const [text, problem] of [
    ['', /at least one key/],
    ['k1', /id:base64key/],
    ['k1:c2hvcnQ=', /32 bytes/],
    [`k1:${Buffer.alloc(32).toString('base64')},k1:${Buffer.alloc(32).toString('base64')}`, /twice/],
  ] as const) {
    it(`refuses LETHE_ENCRYPTION_KEYS="${text.slice(0, 20)}…": ${problem.source}`, () => {
      assert.throws(() => parseEncryptionKeys(text), problem);
    });
  }
});
