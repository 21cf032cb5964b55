import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';

/** The baseline's worker, a process of its own like Lethe's: `noop` is its only activity. */
async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    taskQueue: 'bench-baseline',
    workflowBundle: { codePath: process.env.BASELINE_BUNDLE as string },
    activities: { noop: async () => 1 },
  });
  await worker.run();
  await connection.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
