import type { ProofRecord } from '../domain';
import type { BlobStore } from './blob-store';

/**
 * The proof of a request whose workflow never ran its own purge (terminated, failed): the sweep
 * writes it beside where the request's data was, and the API answers from it.
 */
const PROOF_SERIES = 'proof';

export async function sweptProofOf(blobs: BlobStore, requestId: string): Promise<ProofRecord | undefined> {
  for await (const text of blobs.entries(requestId, PROOF_SERIES)) return JSON.parse(text) as ProofRecord;
  return undefined;
}

export async function keepSweptProof(blobs: BlobStore, proof: ProofRecord): Promise<void> {
  await blobs.appendEntry(proof.id, PROOF_SERIES, JSON.stringify(proof));
}
