import { stopWorkflowEnvironment } from './workflow-harness';
import { stopDatabases } from './databases';
import { closeShops } from './sql-shop';
import { stopStacks } from './stack';

/** Mocha root hooks: whatever the suites started is torn down once, after the last one. */
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await stopStacks();
    await stopWorkflowEnvironment();
    await closeShops();
    await stopDatabases();
  },
};
