import assert from 'node:assert/strict';
import { phaseOf, useStack } from '../support/lethe';

describe('per-integration rate limits, shared by every request', function () {
  this.timeout(60_000);
  const suite = useStack();

  it('12 requests at once call a 2-per-second CRM no faster than that, and do not hold back the others', async () => {
    const since = Date.now();
    const limitedIds = await Promise.all(
      Array.from({ length: 12 }, () =>
        suite.lethe
          .create({
            type: 'access',
            auto_process: true,
            subject: { email: 'jane.doe@example.com' },
            integrations: ['crm-limited'],
          })
          .then((r) => r.id),
      ),
    );
    const free = await suite.lethe.create({
      type: 'access',
      auto_process: true,
      subject: { email: 'jane.doe@example.com' },
      integrations: ['crm'],
    });
    const freeDone = await suite.lethe.until(free.id, (r) => r.closed, 'the unlimited integration');
    const freeTookMs = Date.parse(freeDone.closed_at!) - Date.parse(freeDone.request_date);
    assert.ok(freeTookMs < 3000, `an unlimited integration's request took ${freeTookMs} ms`);

    for (const id of limitedIds) {
      const request = await suite.lethe.until(id, (r) => r.closed, 'a limited request', 30_000);
      assert.deepEqual(phaseOf(request, 'crm-limited', 'access'), {
        state: 'Complete',
        detail: '3 records found',
      });
    }
    // The sandbox cannot tell the integrations apart: count the calls while only limited ones ran.
    const freeEnd = Date.parse(freeDone.closed_at!);
    const times = suite.stack.crm.calls
      .filter((c) => c.method === 'GET' && Date.parse(c.at) >= since)
      .map((c) => Date.parse(c.at))
      .filter((t) => t > freeEnd + 100)
      .sort((a, b) => a - b);
    assert.ok(times.length >= 6, `${times.length} limited calls after the free one`);
    const busiestSecond = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));
    assert.ok(busiestSecond <= 3, `${busiestSecond} calls in one second`);
    const rate = (times.length - 1) / ((times.at(-1)! - times[0]!) / 1000);
    assert.ok(rate <= 2.3, `${rate.toFixed(2)} calls per second on average`);
  });
});
