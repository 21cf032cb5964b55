import type { ConnectionLike } from '@temporalio/client';
import { blobStoreFor } from '../config/blob-store';
import type { Environment } from '../config/environment';
import { temporalClientFor } from '../config/temporal-client';
import type { LetheConfig } from '../domain';
import type { Logger } from '../infra/logger';
import { EncryptionCodec } from '../infra/payload-codec';
import type { ApiDependencies } from './app';

/**
 * The API process's parts, all from its configuration: what `main` serves, and what the tests
 * serve on their own Temporal (changing only what a test is about, such as the clock).
 */
export function composeApi(parts: {
  environment: Environment;
  config: LetheConfig;
  connection: ConnectionLike;
  log: Logger;
}): ApiDependencies {
  const { environment, config, connection, log } = parts;
  return {
    client: temporalClientFor(environment, connection),
    config,
    apiKeys: environment.apiKeys,
    tokenSecrets: environment.tokenSecrets,
    codecSecrets: environment.codecSecrets,
    publicUrl: environment.publicUrl,
    codec: new EncryptionCodec(environment.encryptionKeys),
    codecOrigins: environment.codecOrigins,
    rateLimits: environment.rateLimits,
    trustProxy: environment.trustProxy,
    blobs: blobStoreFor(environment),
    log,
  };
}
