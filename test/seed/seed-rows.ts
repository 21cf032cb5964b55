/**
 * Every row of the seed's integration status tables (docs/seeds/integration-statuses.txt), kept
 * here as the project's own test data: a user's clone has no ../shared. `#` stands for a number.
 * "See Integration Errors" rows are `Error` with any message of contract section 3.
 */
export type SeedTable = 'access request' | 'deletion request';
export type SeedKind = 'api' | 'direct_contact';
export type SeedPhase = 'access' | 'deletion';

export interface SeedRow {
  table: SeedTable;
  phase: SeedPhase;
  kind: SeedKind;
  state: 'Not Started' | 'Pending' | 'Processing' | 'Error' | 'Complete';
  /** The sub-label as the seed writes it; null when the seed has none; '*' for an error message. */
  detail: string | null;
}

type Row = [SeedRow['state'], string | null];

const API_ACCESS: Row[] = [
  ['Not Started', null],
  ['Not Started', 'Will process in a workflow'],
  ['Pending', null],
  ['Processing', 'Request submitted'],
  ['Error', '*'],
  ['Complete', 'Access skipped'],
  ['Complete', '# records found'],
  ['Complete', 'No records found'],
];

const DIRECT_CONTACT_ACCESS: Row[] = [
  ['Not Started', null],
  ['Not Started', 'Will process in a workflow'],
  ['Pending', null],
  ['Processing', 'Due in # days'],
  ['Processing', 'Access skipped (no response)'],
  ['Processing', 'Due # days ago'],
  ['Error', '*'],
  ['Complete', '# of files uploaded'],
  ['Complete', 'No files uploaded'],
  ['Complete', 'Access skipped (no response)'],
  ['Complete', 'Stopped processing'],
];

const API_DELETION_ACCESS: Row[] = [
  ['Not Started', null],
  ['Not Started', 'No extraction'],
  ['Not Started', 'Will process in a workflow'],
  ['Pending', null],
  ['Processing', 'Request submitted'],
  ['Error', '*'],
  ['Complete', 'Access skipped'],
  ['Complete', 'Full deletion'],
  ['Complete', '# records found'],
  ['Complete', 'No records found'],
];

const DIRECT_CONTACT_DELETION_ACCESS: Row[] = [
  ['Not Started', null],
  ['Not Started', 'No extraction'],
  ['Not Started', 'Will process in a workflow'],
  ['Pending', null],
  ['Processing', 'Due in # days'],
  ['Processing', 'Access skipped (no response)'],
  ['Processing', 'Due # days ago'],
  ['Error', '*'],
  ['Complete', '# of files uploaded'],
  ['Complete', 'No files uploaded'],
  ['Complete', 'Access skipped (no response)'],
  ['Complete', 'Stopped processing'],
];

const API_DELETION: Row[] = [
  ['Not Started', null],
  ['Not Started', 'No extraction'],
  ['Not Started', 'Will process in a workflow'],
  ['Pending', null],
  ['Processing', 'Request submitted'],
  ['Error', '*'],
  ['Complete', 'Deletion skipped'],
  ['Complete', 'Deletion done'],
  ['Complete', '# records deleted'],
  ['Complete', 'No records deleted'],
];

const DIRECT_CONTACT_DELETION: Row[] = [
  ['Not Started', null],
  ['Not Started', 'Will process in a workflow'],
  ['Pending', null],
  ['Processing', 'Due in # days'],
  ['Processing', 'Deletion skipped (no response)'],
  ['Processing', 'Due # days ago'],
  ['Error', '*'],
  ['Complete', 'Stopped processing'],
  ['Complete', 'Deletion done'],
  ['Complete', 'Nothing to delete'],
  ['Complete', 'Data found, not deleted'],
];

const rows = (table: SeedTable, phase: SeedPhase, kind: SeedKind, list: Row[]): SeedRow[] =>
  list.map(([state, detail]) => ({ table, phase, kind, state, detail }));

export const SEED_ROWS: readonly SeedRow[] = [
  ...rows('access request', 'access', 'api', API_ACCESS),
  ...rows('access request', 'access', 'direct_contact', DIRECT_CONTACT_ACCESS),
  ...rows('deletion request', 'access', 'api', API_DELETION_ACCESS),
  ...rows('deletion request', 'access', 'direct_contact', DIRECT_CONTACT_DELETION_ACCESS),
  ...rows('deletion request', 'deletion', 'api', API_DELETION),
  ...rows('deletion request', 'deletion', 'direct_contact', DIRECT_CONTACT_DELETION),
];

export function rowKey(row: SeedRow): string {
  return `${row.table} · ${row.phase} phase · ${row.kind} · ${row.state}${row.detail === null ? '' : ` / ${row.detail}`}`;
}

/**
 * Whether a shown `{state, detail}` is this row. `#` is a real count; the seed's "# of files
 * uploaded" reads "2 files uploaded", and a count of one reads in the singular (contract section 2).
 */
export function matchesRow(row: SeedRow, shown: { state: string; detail: string | null }): boolean {
  if (shown.state !== row.state) return false;
  if (row.detail === null) return shown.detail === null;
  if (row.detail === '*') return typeof shown.detail === 'string' && shown.detail.length > 0;
  const pattern = row.detail
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace('# of files', '# files')
    .replace('#', '[0-9]+')
    // "1 record found", "Due in 1 day": the singular reading of the same row.
    .replace(/\b(day|record|file)s\b/, '$1s?');
  return shown.detail !== null && new RegExp(`^${pattern}$`).test(shown.detail);
}
