// A dependency that is down answers 503 (issue 7, docs/reliability.md): the errors the real
// drivers raise when MongoDB or Temporal cannot be reached are recognised, and nothing else is.
import mongoose from 'mongoose';
import { Connection } from '@temporalio/client';
import { freePort } from '../../scripts/lib/processes';
import { unavailableDependency } from '../../src/api/errors';

test("MongoDB unreachable: the driver's server-selection error", async () => {
  const port = await freePort(); // nothing listens there
  const err = await mongoose
    .createConnection(`mongodb://127.0.0.1:${port}/x`, { serverSelectionTimeoutMS: 300 })
    .asPromise()
    .catch((e: unknown) => e);
  expect(unavailableDependency(err)).toBe('mongodb');
});

test('Temporal unreachable: the gRPC call fails unavailable or past its deadline', async () => {
  const port = await freePort();
  const connection = Connection.lazy({ address: `127.0.0.1:${port}` });
  const err = await connection
    .withDeadline(Date.now() + 1500, () => connection.workflowService.getSystemInfo({}))
    .catch((e: unknown) => e);
  expect(unavailableDependency(err)).toBe('temporal');
  await connection.close();
});

// The driver's own classes, as it raises them when FerretDB or MongoDB goes away mid-request.
// Matched by class: a list of names missed subclasses such as PoolClearedOnNetworkError and the
// server's shutdown answers; two fault-suite runs saw a 500 as FerretDB stopped (its answer to the
// requests it was serving, reproduced by stopping it under 80 clients).
const { MongoNetworkError, MongoServerError, MongoServerClosedError, MongoNotConnectedError } = mongoose.mongo;
class PoolClearedLike extends MongoNetworkError {
  override get name() {
    return 'PoolClearedOnNetworkError';
  }
}
test.each([
  ['a connection closed under a request', new MongoNetworkError('connection 4 to 127.0.0.1:27017 closed')],
  [
    'a pool cleared after a network error (a MongoNetworkError subclass)',
    new PoolClearedLike('Connection to 127.0.0.1:27017 interrupted'),
  ],
  [
    'the server shutting down (ShutdownInProgress, 91)',
    new MongoServerError({ code: 91, errmsg: 'The server is in quiesce mode and will shut down' }),
  ],
  ['interrupted at shutdown (11600)', new MongoServerError({ code: 11600, errmsg: 'interrupted at shutdown' })],
  [
    'FerretDB stopping with requests in flight (seen in the fault suite)',
    new MongoServerError({ code: 1, errmsg: '[msg_insert.go:168 handler.(*Handler).MsgInsert] context canceled' }),
  ],
  ['the server closed by the driver', new MongoServerClosedError()],
  // Both seen in a fault-suite run as FerretDB stopped:
  [
    'a write to a socket the server had closed, before the driver wrapped it (EPIPE)',
    Object.assign(new Error('This socket has been ended by the other party'), {
      code: 'EPIPE',
      stack:
        'Error: This socket has been ended by the other party\n    at Connection.writeCommand (/app/node_modules/mongodb/lib/cmap/connection.js:722:23)',
    }),
  ],
  [
    'an insertMany whose network error is in errorResponse',
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:27017'), {
      name: 'MongoBulkWriteError',
      errorResponse: new MongoNetworkError('connect ECONNREFUSED 127.0.0.1:27017'),
    }),
  ],
  ['the client not connected', new MongoNotConnectedError('not connected')],
  ['wrapped by an SDK', Object.assign(new Error('failed'), { cause: new MongoNetworkError('connection closed') })],
])('MongoDB down: %s', (_what, err) => {
  expect(unavailableDependency(err)).toBe('mongodb');
});

test('anything else is not an outage', () => {
  expect(unavailableDependency(new MongoServerError({ code: 11000, errmsg: 'E11000 duplicate key' }))).toBeUndefined();
  expect(unavailableDependency(new MongoServerError({ code: 2, errmsg: 'BadValue' }))).toBeUndefined();
  expect(unavailableDependency(new MongoServerError({ code: 1, errmsg: 'some other internal error' }))).toBeUndefined();
  expect(
    unavailableDependency(
      Object.assign(new Error('write EPIPE'), {
        code: 'EPIPE',
        stack: 'Error: write EPIPE\n    at somewhere (/app/src/other.js:1:1)',
      }),
    ),
  ).toBeUndefined();
  expect(unavailableDependency(new Error('boom'))).toBeUndefined();
  expect(unavailableDependency(Object.assign(new Error('not found'), { code: 5, metadata: {} }))).toBeUndefined();
  expect(unavailableDependency(undefined)).toBeUndefined();
});
