import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { temporal } from '@temporalio/proto';
import { EncryptionCodec } from '../../src/infra/payload-codec';
import type { Stack } from './stack';

/** Where a test looks for what Lethe should have forgotten: every file of a folder, every payload of a history. */

type Payload = temporal.api.common.v1.IPayload;
export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Every file under a folder, recursively. */
function filesUnder(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** The files under a folder that hold any of the values, with the values they hold. */
export function filesHolding(folder: string, values: string[]): string[] {
  return filesUnder(folder).flatMap((file) => {
    const text = readFileSync(file).toString('latin1');
    const held = values.filter((v) => text.includes(v));
    return held.length > 0 ? [`${path.relative(folder, file)}: ${held.join(', ')}`] : [];
  });
}

/** Every payload anywhere in an event (input, result, memo, search attributes, update results…). */
export function payloadsIn(value: unknown, found: Payload[] = []): Payload[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return found;
  const candidate = value as Payload;
  if (candidate.data instanceof Uint8Array && candidate.metadata && typeof candidate.metadata === 'object') {
    found.push(candidate);
    return found;
  }
  for (const child of Object.values(value)) payloadsIn(child, found);
  return found;
}

/** The events' payloads as Lethe's codec decodes them, as text. */
export async function decodedText(stack: Stack, events: HistoryEvent[]): Promise<string> {
  const codec = new EncryptionCodec(stack.environment.encryptionKeys);
  const decoded = await codec.decode(events.flatMap((event) => payloadsIn(event)));
  return decoded.map((p) => Buffer.from(p.data ?? []).toString('utf8')).join('\n');
}

/**
 * The files of a request's blob folder other than its proof (which the retention sweep keeps
 * there once it has deleted the rest).
 */
export function dataLeftOf(blobsFolder: string, requestId: string): string[] {
  const folder = path.join(blobsFolder, requestId);
  const proof = path.join(folder, 'entries', 'proof');
  return filesUnder(folder).filter((file) => !file.startsWith(proof));
}
