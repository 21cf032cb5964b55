import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { checkConnectorOptions } from '../activities/connectors';
import { parseLetheConfig, type LetheConfig } from '../domain';

/** Reads and validates the integrations file (JSON or YAML); every problem is named with its field. */
export function loadIntegrationsFile(file: string): LetheConfig {
  let raw: unknown;
  try {
    raw = YAML.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read the integrations file ${file}: ${(error as Error).message}`);
  }
  return validateLetheConfig(raw, file);
}

export function validateLetheConfig(raw: unknown, source = 'configuration'): LetheConfig {
  let config: LetheConfig;
  try {
    config = parseLetheConfig(raw);
  } catch (error) {
    throw new Error(`${source}: ${(error as Error).message}`);
  }
  const problems = config.integrations.flatMap((i) => (i.type === 'api' ? checkConnectorOptions(i) : []));
  if (problems.length > 0)
    throw new Error(`${source}: Invalid integrations configuration:\n  ${problems.join('\n  ')}`);
  return config;
}
