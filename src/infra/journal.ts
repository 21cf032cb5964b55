import { checkSafeName, type BlobStore } from './blob-store';

/**
 * Where a connector call notes how far it got (pages read, records deleted, the job a service
 * accepted), so that the next attempt, on this worker or another, resumes there instead of
 * starting over.
 */
export interface Journal {
  read(key: JournalKey): Promise<unknown[]>;
  /** The same steps, one at a time: a walk's notes may hold pages of records. */
  entries(key: JournalKey): AsyncIterable<unknown>;
  append(key: JournalKey, entry: unknown): Promise<void>;
}

/** One walk of one integration in one phase of one request: `find`, `delete` or `job`. */
export interface JournalKey {
  requestId: string;
  integrationId: string;
  phase: string;
  purpose: 'find' | 'delete' | 'job';
}

/**
 * The journal kept in the blob store, under the request's prefix: every worker reads what any
 * other wrote, and retention deletes it with the request's blobs. Each step is one small entry;
 * an entry that does not parse (a store that tore it) ends the walk read back.
 */
export class BlobJournal implements Journal {
  constructor(private readonly blobs: BlobStore) {}

  async read(key: JournalKey): Promise<unknown[]> {
    const steps: unknown[] = [];
    for await (const step of this.entries(key)) steps.push(step);
    return steps;
  }

  async *entries(key: JournalKey): AsyncGenerator<unknown> {
    for await (const text of this.blobs.entries(key.requestId, seriesOf(key))) {
      try {
        yield JSON.parse(text);
      } catch {
        return;
      }
    }
  }

  async append(key: JournalKey, entry: unknown): Promise<void> {
    await this.blobs.appendEntry(key.requestId, seriesOf(key), JSON.stringify(entry));
  }
}

function seriesOf({ integrationId, phase, purpose }: JournalKey): string {
  for (const segment of [integrationId, phase]) checkSafeName(segment, 'journal key segment');
  return `journal.${integrationId}.${phase}.${purpose}`;
}
