import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/**
 * Encrypts every payload Lethe hands to Temporal (workflow inputs, results, signals, queries,
 * activity arguments): the subject's identifiers, records and owners' answers are never stored
 * in plaintext in Temporal. AES-256-GCM; the key id travels in the payload's metadata, so the
 * newest key encrypts and older keys still decrypt (rotation without re-encrypting history).
 */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
/**
 * Payloads of some size are compressed before they are encrypted: a request's snapshot and its
 * integrations' configurations are repetitive JSON, a sixth of their size deflated, and Temporal
 * stores, copies and sends every byte of history. The mark is authenticated with the ciphertext.
 */
export const COMPRESSION_METADATA = 'compression';
const DEFLATE = Buffer.from('deflate');
const COMPRESS_FROM_BYTES = 256;

const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface EncryptionKeys {
  /** The key id new payloads are encrypted with. */
  current: string;
  keys: Map<string, Buffer>;
}

/**
 * `LETHE_ENCRYPTION_KEYS`: comma-separated `id:base64key` pairs, newest first; each key 32 bytes.
 * Ids are short names ("2026-11"), never secret.
 */
export function parseEncryptionKeys(text: string): EncryptionKeys {
  const keys = new Map<string, Buffer>();
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const separator = entry.indexOf(':');
    const id = entry.slice(0, separator);
    const key = Buffer.from(entry.slice(separator + 1), 'base64');
    if (separator < 1 || !/^[A-Za-z0-9._-]{1,64}$/.test(id)) {
      throw new Error('LETHE_ENCRYPTION_KEYS: each entry is id:base64key (id of letters, digits, . _ -)');
    }
    if (key.length !== 32) throw new Error(`LETHE_ENCRYPTION_KEYS: key "${id}" must be 32 bytes (base64)`);
    if (keys.has(id)) throw new Error(`LETHE_ENCRYPTION_KEYS: key "${id}" appears twice`);
    keys.set(id, key);
  }
  const current = entries.length > 0 ? [...keys.keys()][0] : undefined;
  if (!current) throw new Error('LETHE_ENCRYPTION_KEYS: at least one key');
  return { current, keys };
}

export function newEncryptionKey(): string {
  return randomBytes(32).toString('base64');
}

export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keys: EncryptionKeys) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.keys.current;
    const key = this.keys.keys.get(keyId) as Buffer;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const serialised = temporal.api.common.v1.Payload.encode(payload).finish();
      const compressed = serialised.length >= COMPRESS_FROM_BYTES;
      if (compressed) cipher.setAAD(DEFLATE);
      const plain = compressed ? deflateRawSync(serialised) : serialised;
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          encoding: Buffer.from(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA]: Buffer.from(keyId),
          ...(compressed ? { [COMPRESSION_METADATA]: DEFLATE } : {}),
        },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (Buffer.from(payload.metadata?.encoding ?? []).toString() !== ENCRYPTED_ENCODING) return payload;
      const keyId = Buffer.from(payload.metadata?.[KEY_ID_METADATA] ?? []).toString();
      const key = this.keys.keys.get(keyId);
      if (!key) throw new Error(`no decryption key "${keyId}": add it to LETHE_ENCRYPTION_KEYS`);
      const sealed = Buffer.from(payload.data ?? []);
      if (sealed.length < IV_BYTES + TAG_BYTES) throw new Error('an encrypted payload too short to be one');
      const compression = Buffer.from(payload.metadata?.[COMPRESSION_METADATA] ?? []);
      if (compression.length > 0 && !compression.equals(DEFLATE))
        throw new Error(`an encrypted payload compressed with "${compression.toString()}", unknown here`);
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
      // A payload whose mark was added or removed fails here, like one whose bytes were changed.
      if (compression.length > 0) decipher.setAAD(compression);
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return temporal.api.common.v1.Payload.decode(compression.length > 0 ? inflateRawSync(plain) : plain);
    });
  }
}

/** The failure converter's module, for `bundleWorkflowCode` where a bundle is built ahead of the worker. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/**
 * What the worker, the API's client and the tests give Temporal's SDK: the same codec everywhere,
 * and failures encoded through it.
 */
export function encryptedDataConverter(keys: EncryptionKeys): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(keys)], failureConverterPath: FAILURE_CONVERTER_PATH };
}
