import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import {
  encryptedDataConverter,
  parseEncryptionKeys,
  type EncryptionKeys,
} from '../../src/infra/payload-codec';
import { workflowBundle } from '../support/stack';

type History = temporal.api.history.v1.IHistory;

/** The key of the committed fixtures (legacy, running): it encrypts nothing but sandbox data. */
export const FIXTURE_KEY = 'fixture:Iuirnqr45625zLNxIaDJ2kNMpd4PYvnVVa81de4sfKk=';
export const FIXTURE_KEYS = parseEncryptionKeys(FIXTURE_KEY);

export interface NamedHistory {
  /** The file's path under its folder, without its extension: `owner-waiting/request`. */
  workflowId: string;
  history: History;
}

/**
 * Every history under `folder` and its subfolders, as protobuf bytes (`.binpb`): the SDK's
 * historyToJSON fails on this install (its protobufjs is not @temporalio/proto's).
 */
export function loadHistories(folder: string): NamedHistory[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.binpb'))
    .sort()
    .map((file) => ({
      workflowId: file.replace(/\.binpb$/, ''),
      history: temporal.api.history.v1.History.decode(readFileSync(path.join(folder, file))),
    }));
}

/** Replays each history against the current workflow code: how many replayed, and which failed why. */
export async function replayAgainstCurrentCode(
  histories: Iterable<NamedHistory> | AsyncIterable<NamedHistory>,
  keys: EncryptionKeys = FIXTURE_KEYS,
): Promise<{ replayed: number; failures: string[] }> {
  let replayed = 0;
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: await workflowBundle(), dataConverter: encryptedDataConverter(keys) },
    histories,
  )) {
    replayed += 1;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  return { replayed, failures };
}
