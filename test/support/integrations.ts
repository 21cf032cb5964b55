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
      ...sqlIntegrations('pg'),
      ...sqlIntegrations('my'),
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

/**
 * The sql connector's integrations on the test shop (test/support/sql-shop.ts) of one dialect:
 * `shop-<d>` masks the users and their tickets and deletes the rest, `shop-<d>-erase` deletes
 * everything, the others each fail in their own way.
 */
export function sqlIntegrations(d: 'pg' | 'my') {
  const prefix = `SQL_${d.toUpperCase()}`;
  const chain = [
    {
      name: 'users',
      match: { email: 'subject.email' },
      erase: { mask: { email: 'hash', name: null, phone: { value: 'removed' } } },
    },
    { name: 'addresses', match: { user_id: 'users.id' } },
    { name: 'orders', match: { user_id: 'users.id' }, columns: ['id', 'user_id', 'total', 'status'] },
    { name: 'order_items', match: { order_id: 'orders.id' } },
    {
      name: 'support_tickets',
      match: { email: 'subject.email' },
      erase: { mask: { email: 'hash', body: { value: '[erased]' } } },
    },
  ];
  const options = {
    dialect: d === 'pg' ? 'postgres' : 'mysql',
    url_env: `${prefix}_RW_URL`,
    read_url_env: `${prefix}_RO_URL`,
    hash_key_env: 'SQL_HASH_KEY',
    statement_timeout: '10s',
    page_size: 50,
    batch_size: 20,
    tables: chain,
  };
  const retry = { initial_interval: '200ms', max_interval: '1s', max_attempts: 3 };
  const sql = (id: string, name: string, extra: Record<string, unknown> = {}, retryOptions = retry) => ({
    id,
    name,
    type: 'api',
    connector: 'sql',
    options,
    retry: retryOptions,
    ...extra,
  });
  return [
    sql(`shop-${d}`, `Shop database (${d})`),
    sql(`shop-${d}-erase`, `Shop database, rows deleted (${d})`, {
      options: {
        ...options,
        tables: chain.map((table) => ({ name: table.name, match: table.match })),
      },
    }),
    sql(`shop-${d}-full`, `Shop database, full deletion (${d})`, {
      deletion: 'full',
      options: { ...options, tables: chain.map((table) => ({ name: table.name, match: table.match })) },
    }),
    // Users listed after their orders: erased first, which the foreign key refuses.
    sql(`shop-${d}-wrong-order`, `Shop database, parents erased first (${d})`, {
      options: {
        ...options,
        tables: [
          { name: 'orders', match: { user_id: 'subject.custom_id' } },
          { name: 'users', match: { id: 'subject.custom_id' } },
        ],
      },
    }),
    // Found by a text column that the subject's custom_id is matched to.
    sql(`shop-${d}-by-name`, `Shop database, users by name (${d})`, {
      options: {
        ...options,
        tables: [
          { name: 'users', match: { name: 'subject.custom_id' } },
          { name: 'orders', match: { user_id: 'users.id' } },
          { name: 'order_items', match: { order_id: 'orders.id' } },
        ],
      },
    }),
    sql(`shop-${d}-slow`, `Shop database, small batches (${d})`, {
      options: { ...options, batch_size: 5 },
    }),
    sql(
      `shop-${d}-impatient`,
      `Shop database, 1 s to a statement (${d})`,
      { options: { ...options, statement_timeout: '1s' } },
      { initial_interval: '500ms', max_interval: '1s', max_attempts: 8 },
    ),
    sql(`shop-${d}-nodelete`, `Shop database, a role without DELETE (${d})`, {
      options: { ...options, url_env: `${prefix}_NODELETE_URL` },
    }),
    sql(`shop-${d}-badpw`, `Shop database, a wrong password (${d})`, {
      options: { ...options, url_env: `${prefix}_BADPW_URL`, read_url_env: `${prefix}_BADPW_URL` },
    }),
    // Access through the read-only role, deletion through a role whose password is wrong.
    sql(`shop-${d}-split`, `Shop database, read and write roles apart (${d})`, {
      options: { ...options, url_env: `${prefix}_BADPW_URL`, read_url_env: `${prefix}_RO_URL` },
    }),
    sql(`shop-${d}-capped`, `Shop database, at most 10 rows a person (${d})`, {
      options: { ...options, max_rows: 10 },
    }),
    sql(`shop-${d}-newsletter`, `Newsletter table (${d})`, {
      options: {
        ...options,
        tables: [
          { name: 'newsletter', match: { email: 'subject.email' }, columns: ['id', 'email', 'nickname'] },
        ],
      },
    }),
    // A database of its own, crashed and restarted by its test (SQL_<D>_LOST_URL).
    sql(
      `lost-${d}`,
      `A database that restarts (${d})`,
      {
        options: {
          ...options,
          url_env: `${prefix}_LOST_URL`,
          read_url_env: undefined,
          tables: [{ name: 'people', match: { email: 'subject.email' } }],
        },
      },
      { initial_interval: '500ms', max_interval: '1s', max_attempts: 20 },
    ),
    sql(
      `shop-${d}-down`,
      `Shop database, server down (${d})`,
      { options: { ...options, url_env: `${prefix}_DOWN_URL`, read_url_env: `${prefix}_DOWN_URL` } },
      { initial_interval: '200ms', max_interval: '500ms', max_attempts: 3 },
    ),
  ];
}
