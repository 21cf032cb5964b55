/** The integrations the end-to-end tests configure, pointing at the sandbox CRM of the test stack. */
export function testIntegrations(crmUrl: string) {
  const crmOptions = (tokenEnv: string) => ({
    base_url: crmUrl,
    timeout: '5s',
    auth: { type: 'bearer', token_env: tokenEnv },
    find: { path: '/contacts', query: { email: '{{subject.email}}' }, records_path: 'data' },
    delete_record: { path: '/contacts/{{record.id}}' },
    delete_subject: { path: '/contacts', query: { email: '{{subject.email}}' } },
  });
  const fastRetry = { initial_interval: '200ms', max_interval: '1s', max_attempts: 4 };
  return {
    operators: { email: 'privacy-ops@example.com' },
    integrations: [
      {
        id: 'crm',
        name: 'Sandbox CRM',
        type: 'api',
        connector: 'http',
        options: crmOptions('SANDBOX_CRM_TOKEN'),
        retry: fastRetry,
      },
      {
        id: 'crm-wrong-key',
        name: 'CRM with a revoked key',
        type: 'api',
        connector: 'http',
        options: crmOptions('WRONG_CRM_TOKEN'),
        retry: fastRetry,
      },
      {
        id: 'quick-skip',
        name: 'Quick owner (skips)',
        type: 'direct_contact',
        owner: { name: 'Sam Skip', email: 'sam.skip@example.com' },
        deadline: '2s',
        on_no_response: 'skip',
      },
      {
        id: 'quick-pause',
        name: 'Quick owner (pauses)',
        type: 'direct_contact',
        owner: { name: 'Pat Pause', email: 'pat.pause@example.com' },
        deadline: '2s',
        on_no_response: 'pause',
      },
      {
        id: 'warehouse',
        name: 'Data Warehouse',
        type: 'direct_contact',
        owner: { name: 'Dana Owner', email: 'dana.owner@example.com' },
        deadline: '14d',
        on_no_response: 'skip',
      },
    ],
  };
}
