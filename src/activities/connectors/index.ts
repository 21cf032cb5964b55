import { describeConfigIssues, type ApiIntegrationConfig, type LetheConfig } from '../../domain';
import {
  ConnectorFailure,
  type Connector,
  type ConnectorContext,
  type ConnectorDefinition,
  type SecretSource,
} from './connector';
import { batchConnector } from './batch';
import { httpConnector } from './http';
import { sqlConnector } from './sql';

/** Every connector Lethe knows, by the name integrations use in `connector:`. */
const CONNECTORS: Record<string, ConnectorDefinition<never>> = {
  http: httpConnector as ConnectorDefinition<never>,
  batch: batchConnector as ConnectorDefinition<never>,
  sql: sqlConnector as ConnectorDefinition<never>,
};

function definitionOf(integration: ApiIntegrationConfig): ConnectorDefinition<never> {
  const definition = CONNECTORS[integration.connector];
  if (!definition) {
    throw new Error(
      `integration "${integration.id}": unknown connector "${integration.connector}" (known: ${Object.keys(CONNECTORS).join(', ')})`,
    );
  }
  return definition;
}

/** Start-up check of every API integration's connector options, naming the bad field. */
export function checkConnectorOptions(integration: ApiIntegrationConfig): string[] {
  const result = definitionOf(integration).optionsSchema.safeParse(integration.options);
  if (result.success) return [];
  return describeConfigIssues(result.error).map((line) => `integration "${integration.id}" options.${line}`);
}

/**
 * The start-up check of what the integrations name in their systems (a database's tables and
 * columns): `problems` name what is missing; `unchecked` the integrations that could not be
 * reached or lack their credentials, which their requests will report as they run.
 */
export async function verifyIntegrations(
  config: LetheConfig,
  secrets: SecretSource,
): Promise<{ problems: string[]; unchecked: { id: string; reason: string }[] }> {
  const problems: string[] = [];
  const unchecked: { id: string; reason: string }[] = [];
  // All at once: a worker starts no later for having many databases to check.
  const checks = config.integrations.map(async (integration) => {
    if (integration.type !== 'api' || integration.disconnected) return;
    let connector: Connector;
    try {
      connector = connectorFor(integration, { secrets, onCall: () => undefined });
    } catch {
      // Its credentials are missing: each request says so (Disconnected integration).
      return;
    }
    if (!connector.verify) return;
    try {
      for (const line of await connector.verify())
        problems.push(`integration "${integration.id}" options.${line}`);
    } catch (error) {
      // Without its credentials it is Disconnected, which each request says.
      if (error instanceof ConnectorFailure && error.failure.kind === 'disconnected') return;
      unchecked.push({ id: integration.id, reason: (error as Error).message });
    }
  });
  await Promise.all(checks);
  // In the configuration's order, whatever order the checks ended in.
  const order = (line: string) =>
    config.integrations.findIndex((i) => line.startsWith(`integration "${i.id}"`));
  problems.sort((a, b) => order(a) - order(b));
  return { problems, unchecked };
}

export function connectorFor(integration: ApiIntegrationConfig, context: ConnectorContext): Connector {
  const definition = definitionOf(integration);
  return definition.create(definition.optionsSchema.parse(integration.options), context);
}

export {
  ConnectorFailure,
  type Answer,
  type Connector,
  type ConnectorRecord,
  type FoundPage,
  type HttpCall,
  type PageProgress,
  type RecordPages,
  type Resumable,
  type SecretSource,
} from './connector';
