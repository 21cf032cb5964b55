import assert from 'node:assert/strict';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  COMPRESSION_METADATA,
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

  it('compresses a large payload before encrypting it, and the mark cannot be stripped or added', async () => {
    const codec = new EncryptionCodec(parseEncryptionKeys(`k1:${newEncryptionKey()}`));
    const snapshot = {
      subject,
      integrations: Array.from({ length: 10 }, (_, i) => ({ id: `crm-${i}`, access: { kind: 'submitted' } })),
    };
    const large = defaultPayloadConverter.toPayload(snapshot);
    const [sealed, small] = await codec.encode([large, payload]);
    assert.equal(Buffer.from(sealed!.metadata![COMPRESSION_METADATA]!).toString(), 'deflate');
    assert.ok(
      sealed!.data!.length < large.data!.length / 2,
      `${sealed!.data!.length} of ${large.data!.length}`,
    );
    assert.equal(small!.metadata![COMPRESSION_METADATA], undefined, 'a small payload is not compressed');
    const [opened] = await codec.decode([sealed!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(opened!), snapshot);

    const stripped = { ...sealed!, metadata: { ...sealed!.metadata } };
    delete stripped.metadata[COMPRESSION_METADATA];
    await assert.rejects(codec.decode([stripped]));
    const added = {
      ...small!,
      metadata: { ...small!.metadata, [COMPRESSION_METADATA]: Buffer.from('deflate') },
    };
    await assert.rejects(codec.decode([added]));
    const unknown = {
      ...sealed!,
      metadata: { ...sealed!.metadata, [COMPRESSION_METADATA]: Buffer.from('zstd') },
    };
    await assert.rejects(codec.decode([unknown]), /compressed with "zstd"/);
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
