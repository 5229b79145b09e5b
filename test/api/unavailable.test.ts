// A dependency that is down answers 503 (issue 7, docs/reliability.md): the errors the real
// drivers raise when MongoDB or Temporal cannot be reached are recognised, and nothing else is.
import mongoose from 'mongoose';
import { Connection } from '@temporalio/client';
import { freePort } from '../../scripts/lib/processes';
import { unavailableDependency } from '../../src/api/errors';

test('MongoDB unreachable: the driver\'s server-selection error', async () => {
  const port = await freePort(); // nothing listens there
  const err = await mongoose.createConnection(`mongodb://127.0.0.1:${port}/x`, { serverSelectionTimeoutMS: 300 }).asPromise().catch((e: unknown) => e);
  expect(unavailableDependency(err)).toBe('mongodb');
});

test('Temporal unreachable: the gRPC call fails unavailable or past its deadline', async () => {
  const port = await freePort();
  const connection = Connection.lazy({ address: `127.0.0.1:${port}` });
  const err = await connection.withDeadline(Date.now() + 1500, () => connection.workflowService.getSystemInfo({})).catch((e: unknown) => e);
  expect(unavailableDependency(err)).toBe('temporal');
  await connection.close();
});

test('anything else is not an outage', () => {
  expect(unavailableDependency(new Error('boom'))).toBeUndefined();
  expect(unavailableDependency(Object.assign(new Error('not found'), { code: 5, metadata: {} }))).toBeUndefined();
  expect(unavailableDependency(undefined)).toBeUndefined();
});
