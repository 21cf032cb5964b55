import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { appendPrivate } from './append-private';

/**
 * Where a connector call notes how far it got (pages read, records deleted, the job a service
 * accepted), so that the next attempt, on this worker or another, resumes there instead of
 * starting over. Entries are appended, one JSON line each; a line torn by a crash is ignored.
 */
export interface Journal {
  read(key: JournalKey): Promise<unknown[]>;
  append(key: JournalKey, entry: unknown): Promise<void>;
  clear(key: JournalKey): Promise<void>;
}

/** One walk of one integration in one phase of one request: `find`, `delete` or `job`. */
export interface JournalKey {
  requestId: string;
  integrationId: string;
  phase: string;
  purpose: 'find' | 'delete' | 'job';
}

const SAFE_SEGMENT = /^[A-Za-z0-9_.-]{1,128}$/;

export class FileJournal implements Journal {
  constructor(private readonly root: string) {}

  async read(key: JournalKey): Promise<unknown[]> {
    const file = this.pathOf(key);
    // Most walks have no journal yet: asked first, so the read does not fail with ENOENT, whose
    // error (a captured stack) costs the worker more than the read itself.
    if (!existsSync(file)) return [];
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const entries: unknown[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        entries.push(JSON.parse(line));
      } catch {
        break;
      }
    }
    return entries;
  }

  async append(key: JournalKey, entry: unknown): Promise<void> {
    await appendPrivate(this.pathOf(key), `${JSON.stringify(entry)}\n`);
  }

  async clear(key: JournalKey): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  private pathOf({ requestId, integrationId, phase, purpose }: JournalKey): string {
    for (const segment of [requestId, integrationId, phase]) {
      if (!SAFE_SEGMENT.test(segment) || segment.startsWith('.'))
        throw new Error(`not a journal key segment: ${segment}`);
    }
    return path.join(this.root, requestId, `${integrationId}.${phase}.${purpose}.jsonl`);
  }
}
