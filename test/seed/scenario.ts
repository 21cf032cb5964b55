import assert from 'node:assert/strict';
import type { RequestView } from '../../src/domain';

import { LetheApi, phaseOf } from '../support/lethe';
import type { Stack } from '../support/stack';
import { SEED_ROWS, matchesRow, rowKey, type SeedRow } from './seed-rows';

/** Which seed rows the suites reach, filled as the tests are declared; the meta-test reads it. */
export const REACHED = new Map<string, string[]>();

/** The seed row with these words; a typo fails at once instead of silently reaching nothing. */
export function seedRow(
  table: SeedRow['table'],
  phase: SeedRow['phase'],
  kind: SeedRow['kind'],
  state: SeedRow['state'],
  detail: string | null,
): SeedRow {
  const found = SEED_ROWS.find(
    (r) =>
      r.table === table && r.phase === phase && r.kind === kind && r.state === state && r.detail === detail,
  );
  if (!found) throw new Error(`no such seed row: ${table} / ${phase} / ${kind} / ${state} / ${detail}`);
  return found;
}

/**
 * One request walked through the HTTP API, step by step (mocha runs a describe's tests in order).
 * `reaches` declares a test for a seed row: it waits until the integration shows that row.
 */
export class Scenario {
  id = '';
  created?: RequestView;
  private readonly lethe: () => LetheApi;

  constructor(
    private readonly stackOf: () => Stack,
    private readonly body: Record<string, unknown>,
  ) {
    this.lethe = () => new LetheApi(this.stackOf());
  }

  get stack(): Stack {
    return this.stackOf();
  }

  create(): void {
    this.step(`creates the ${String(this.body.type)} request`, async () => {
      this.created = await this.lethe().create(this.body);
      this.id = this.created.id;
    });
  }

  /** As the 201 answer to the POST showed it. */
  reachesAtCreation(row: SeedRow, integrationId: string): void {
    this.declare(row, integrationId, async () => {
      assert.ok(this.created, 'the request was created');
      const shown = phaseOf(this.created, integrationId, row.phase);
      assert.ok(shown && matchesRow(row, shown), `${integrationId} shows ${JSON.stringify(shown)}`);
    });
  }

  reaches(row: SeedRow, integrationId: string, exactly?: string): void {
    this.declare(row, integrationId, async () => {
      const request = await this.lethe().until(
        this.id,
        (r) => {
          const shown = phaseOf(r, integrationId, row.phase);
          return !!shown && matchesRow(row, shown) && (exactly === undefined || shown.detail === exactly);
        },
        `${integrationId} to show ${rowKey(row)}${exactly ? ` (${exactly})` : ''}`,
      );
      const shown = phaseOf(request, integrationId, row.phase);
      assert.ok(shown && matchesRow(row, shown));
    });
  }

  step(title: string, body: (scenario: this) => Promise<void>): void {
    it(title, () => this.inOrder(() => body(this)));
  }

  /** Steps build on each other: after one fails, the rest fail at once instead of waiting out their time. */
  private broken = false;
  private async inOrder(test: () => Promise<void>): Promise<void> {
    if (this.broken) throw new Error('an earlier step of this scenario failed');
    try {
      await test();
    } catch (error) {
      this.broken = true;
      throw error;
    }
  }

  act(integrationId: string, action: 'start' | 'stop' | 'skip' | 'retry'): void {
    this.step(`an operator asks to ${action} ${integrationId}`, async () => {
      const res = await this.lethe().post(`/v1/requests/${this.id}/integrations/${integrationId}/${action}`, {
        actor: 'seed-suite@example.com',
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    });
  }

  select(integrations: string[]): void {
    this.step(`the operator selects ${integrations.join(', ')}`, async () => {
      const res = await this.lethe().post(`/v1/requests/${this.id}/selection`, { integrations });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    });
  }

  /** The owner of `integrationId` answers through the link in the newest email about this request. */
  ownerAnswers(integrationId: string, phase: 'access' | 'deletion', answer: Record<string, unknown>): void {
    this.step(`the owner of ${integrationId} answers ${String(answer.answer)} (${phase})`, async () => {
      const config = this.stack.config.integrations.find((i) => i.id === integrationId);
      assert.ok(config?.type === 'direct_contact', `${integrationId} is a direct contact`);
      const res = await this.lethe().answerAsOwner(this.id, config.owner.email, answer, phase);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    });
  }

  requestState(state: string, closed = false): void {
    this.step(`the request is "${state}"${closed ? ', closed' : ''}`, async () => {
      const request = await this.lethe().until(
        this.id,
        (r) => r.state === state && r.closed === closed,
        state,
      );
      assert.equal(request.state, state);
    });
  }

  private declare(row: SeedRow, integrationId: string, test: () => Promise<void>): void {
    const title = `${rowKey(row)} (${integrationId})`;
    REACHED.set(rowKey(row), [...(REACHED.get(rowKey(row)) ?? []), title]);
    it(title, () => this.inOrder(test));
  }
}

export function files(...names: string[]) {
  return {
    answer: 'files',
    files: names.map((name) => ({ name, content_base64: Buffer.from(`${name}\n`).toString('base64') })),
  };
}
