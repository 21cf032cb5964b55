import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failures are stored in Temporal's history like payloads, and their messages and stack traces
 * may hold what a third party answered or whom a mail could not reach: they travel as an encoded
 * attribute, which the payload codec encrypts (the Web UI reads it through the codec endpoint).
 * Loaded by path, so the workflow bundle uses it as well as the worker and the clients.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
