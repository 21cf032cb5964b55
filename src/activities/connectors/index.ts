import { describeConfigIssues, type ApiIntegrationConfig } from '../../domain';
import type { Connector, ConnectorContext, ConnectorDefinition } from './connector';
import { batchConnector } from './batch';
import { httpConnector } from './http';

/** Every connector Lethe knows, by the name integrations use in `connector:`. */
const CONNECTORS: Record<string, ConnectorDefinition<never>> = {
  http: httpConnector as ConnectorDefinition<never>,
  batch: batchConnector as ConnectorDefinition<never>,
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
