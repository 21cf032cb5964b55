export { IntegrationWorkflow } from './integration';
export { PrivacyRequestWorkflow } from './privacy-request';
