import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * Appends to a file only this process's user reads, creating its folder the first time: most
 * appends go to a folder that exists, and every connector call makes a few of them.
 */
export async function appendPrivate(file: string, text: string): Promise<void> {
  try {
    await appendFile(file, text, { mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(path.dirname(file), { recursive: true });
    await appendFile(file, text, { mode: 0o600 });
  }
}
