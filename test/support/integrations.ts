/**
 * The integrations the end-to-end tests configure, pointing at the sandbox CRM and Batch of the
 * test stack, and at the hostile service (test/support/hostile.ts), by its scenarios.
 */
export function testIntegrations(crmUrl: string, batchUrl: string, closedUrl: string, hostileUrl: string) {
  const crmOptions = (tokenEnv: string) => ({
    base_url: crmUrl,
    timeout: '5s',
    auth: { type: 'bearer', token_env: tokenEnv },
    find: { path: '/contacts', query: { email: '{{subject.email}}' }, records_path: 'data' },
    delete_record: { path: '/contacts/{{record.id}}' },
    delete_subject: { path: '/contacts', query: { email: '{{subject.email}}' } },
  });
  const fastRetry = { initial_interval: '200ms', max_interval: '1s', max_attempts: 4 };
  const crm = (id: string, name: string, extra: Record<string, unknown> = {}) => ({
    id,
    name,
    type: 'api',
    connector: 'http',
    options: crmOptions('SANDBOX_CRM_TOKEN'),
    retry: fastRetry,
    categories: ['contact details', 'support tickets'],
    ...extra,
  });
  const owner = (id: string, name: string, extra: Record<string, unknown> = {}) => ({
    id,
    name,
    type: 'direct_contact',
    owner: { name: `${name} owner`, email: `${id}.owner@example.com` },
    ...extra,
  });
  const crmWithAuth = (id: string, name: string, auth: Record<string, string>) =>
    crm(id, name, { options: { ...crmOptions(''), auth } });
  const batch = (id: string, name: string, restKeyEnv: string, extra: Record<string, unknown> = {}) => ({
    id,
    name,
    type: 'api',
    connector: 'batch',
    options: {
      base_url: batchUrl,
      api_key_env: 'BATCH_API_KEY',
      rest_key_env: restKeyEnv,
      id: { from: 'custom_id' },
      poll_interval: '1s',
      give_up_after: '1m',
    },
    retry: fastRetry,
    ...extra,
  });
  const hostile = (id: string, scenario: string, find: Record<string, unknown>, extra = {}) => ({
    id,
    name: `Hostile service (${scenario})`,
    type: 'api',
    connector: 'http',
    options: {
      base_url: `${hostileUrl}/${scenario}`,
      timeout: '10s',
      auth: { type: 'header', name: 'X-Api-Key', value_env: 'SANDBOX_CRM_TOKEN' },
      find: { records_path: 'data', ...find },
      ...extra,
    },
    retry: fastRetry,
  });
  const hostileBatch = (scenario: string) =>
    batch(scenario, `Hostile Batch (${scenario})`, 'BATCH_REST_KEY', {
      options: { ...batch('', '', 'BATCH_REST_KEY').options, base_url: `${hostileUrl}/${scenario}` },
    });
  return {
    operators: { email: 'privacy-ops@example.com' },
    integrations: [
      crm('crm', 'Sandbox CRM'),
      crm('crm-wrong-key', 'CRM with a revoked key', { options: crmOptions('WRONG_CRM_TOKEN') }),
      crm('crm-stage2', 'CRM, second stage', { stage: 2 }),
      crm('crm-manual', 'CRM, started by hand', { start: 'manual' }),
      crm('crm-no-access', 'CRM, no extraction wanted', { access: false }),
      crm('crm-limited', 'CRM limited to 2 calls a second', {
        rate_limit: { per_second: 2, concurrency: 1 },
      }),
      crm('crm-full', 'CRM, whole-record deletion', { deletion: 'full' }),
      crm('crm-keep', 'CRM, never deleted from', { deletion: 'skip' }),
      crm('crm-patient', 'CRM, retried patiently', {
        retry: { initial_interval: '1s', max_interval: '2s', max_attempts: 6 },
      }),
      batch('batch', 'Batch', 'BATCH_REST_KEY'),
      batch('batch-wrong-key', 'Batch with a revoked REST key', 'BATCH_WRONG_REST_KEY'),
      batch('batch-no-access', 'Batch, deletion only', 'BATCH_REST_KEY', { access: false }),
      crmWithAuth('crm-basic', 'CRM with basic auth', {
        type: 'basic',
        username_env: 'CRM_BASIC_USER',
        password_env: 'SANDBOX_CRM_TOKEN',
      }),
      crmWithAuth('crm-basic-wrong', 'CRM with a wrong password', {
        type: 'basic',
        username_env: 'CRM_BASIC_USER',
        password_env: 'WRONG_CRM_TOKEN',
      }),
      crmWithAuth('crm-api-key', 'CRM with an API key header', {
        type: 'header',
        name: 'X-Api-Key',
        value_env: 'SANDBOX_CRM_TOKEN',
      }),
      crm('crm-paged', 'CRM read page by page', {
        options: {
          ...crmOptions('SANDBOX_CRM_TOKEN'),
          find: { ...crmOptions('').find, pagination: { type: 'page', size: 10 } },
        },
      }),
      crm('crm-cursor', 'CRM read by cursor', {
        options: {
          ...crmOptions('SANDBOX_CRM_TOKEN'),
          find: {
            path: '/contacts',
            query: { email: '{{subject.email}}', limit: '7' },
            records_path: 'data',
            pagination: { type: 'cursor', next_path: 'paging.next_cursor' },
          },
        },
      }),
      crm('crm-closed', 'CRM that is down', {
        options: { ...crmOptions('SANDBOX_CRM_TOKEN'), base_url: closedUrl },
      }),
      crm('crm-impatient', 'CRM with a 1 s timeout', {
        options: { ...crmOptions('SANDBOX_CRM_TOKEN'), timeout: '1s' },
      }),
      crm('crm-no-credential', 'CRM whose key is not set', { options: crmOptions('LETHE_TEST_UNSET_TOKEN') }),
      hostile('hostile-redirect-302', 'redirect-302', {
        path: '/contacts',
        query: { email: '{{subject.email}}' },
      }),
      hostile('hostile-redirect-307', 'redirect-307', {
        method: 'POST',
        path: '/contacts/search',
        body: { email: '{{subject.email}}' },
      }),
      hostile('hostile-huge', 'huge', { path: '/contacts', query: { email: '{{subject.email}}' } }),
      hostile('hostile-many-pages', 'many-pages', {
        path: '/contacts',
        query: { email: '{{subject.email}}' },
        pagination: { type: 'page', size: 100 },
      }),
      hostile('hostile-echo-json', 'echo-json', { path: '/contacts', query: { email: '{{subject.email}}' } }),
      hostile('hostile-echo-text', 'echo-text', { path: '/contacts', query: { email: '{{subject.email}}' } }),
      hostile(
        'hostile-paths',
        'paths',
        { path: '/api/tenant-a/records/{{subject.custom_id}}' },
        { delete_record: { path: '/api/tenant-a/records/{{record.id}}' } },
      ),
      hostileBatch('batch-redirect'),
      hostileBatch('batch-foreign'),
      hostileBatch('batch-bomb'),
      hostileBatch('batch-liar'),
      hostileBatch('batch-huge'),
      owner('quick-skip', 'Quick owner (skips)', { deadline: '2s', on_no_response: 'skip' }),
      owner('quick-pause', 'Quick owner (pauses)', { deadline: '2s', on_no_response: 'pause' }),
      {
        id: 'warehouse',
        name: 'Data Warehouse',
        type: 'direct_contact',
        owner: { name: 'Dana Owner', email: 'dana.owner@example.com' },
        deadline: '14d',
        on_no_response: 'skip',
      },
      owner('dc-stage2', 'Owner, second stage', { stage: 2 }),
      owner('dc-manual', 'Owner, started by hand', { start: 'manual' }),
      owner('dc-full', 'Owner, whole-record deletion', { deletion: 'full' }),
      owner('dc-disconnected', 'Owner, disconnected', { disconnected: true }),
      owner('days-pause', 'Owner with days to answer', {
        deadline: '14d',
        remind_before: '3d',
        on_no_response: 'pause',
      }),
    ],
  };
}
