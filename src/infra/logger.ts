import pino from 'pino';
import { SUBJECT_IDENTIFIERS } from '../domain';

export type Logger = pino.Logger;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Whatever is logged, the subject's identifiers are not: fields that would hold them are censored,
 * and so are the parts of HTTP errors that carry a connector's URL, request or answer.
 */
export const REDACTED_PATHS = [
  'subject',
  '*.subject',
  ...SUBJECT_IDENTIFIERS.flatMap((key) => [key, `*.${key}`]),
  'err.config',
  'err.request',
  'err.response',
  '*.err.config',
  '*.err.request',
  '*.err.response',
];

/** The level comes from the environment (LOG_LEVEL), read once with the rest of it. */
export function createLogger(name: string, level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino({ name, level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, destination);
}
