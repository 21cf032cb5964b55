export { IntegrationWorkflow } from './integration';
export { PrivacyRequestWorkflow } from './privacy-request';
export { RetentionSweepWorkflow } from './retention-sweep';
