import { Client, type ConnectionLike } from '@temporalio/client';
import { encryptedDataConverter } from '../infra/payload-codec';
import type { Environment } from './environment';

/** A client of the environment's namespace, encrypting payloads as every Lethe process does. */
export function temporalClientFor(
  environment: Pick<Environment, 'namespace' | 'encryptionKeys'>,
  connection: ConnectionLike,
): Client {
  return new Client({
    connection,
    namespace: environment.namespace,
    dataConverter: encryptedDataConverter(environment.encryptionKeys),
  });
}
