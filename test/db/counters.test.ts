// Record numbers on the embedded store (FerretDB): a tenant's first numbers asked at once.
import { randomBytes } from 'node:crypto';
import { connectDb, lastNumber, nextNumber, type Db } from '../../src/db/models';

let db: Db;
beforeAll(async () => {
  db = await connectDb(process.env.RELAIS_TEST_MONGODB_URI!, {
    dbName: `relais_counters_${randomBytes(4).toString('hex')}`,
  });
});
afterAll(async () => {
  await db?.connection.dropDatabase().catch(() => undefined);
  await db?.close();
});

test('L1: twenty first numbers of a new sequence asked at once are 1 to 20, none refused', async () => {
  for (const round of [1, 2, 3]) {
    const name = `dispatch:t-race-${round}`;
    const numbers = await Promise.all(Array.from({ length: 20 }, () => nextNumber(db, name)));
    expect([...numbers].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // Whatever the hint kept, the last number given is the last one taken.
    expect(await lastNumber(db, name)).toBe(20);
  }
  // A sequence numbered before this change (its hint only) goes on from it.
  await db.Counter.updateOne({ _id: 'dispatch:t-old' }, { $set: { seq: 41 } }, { upsert: true });
  expect(await nextNumber(db, 'dispatch:t-old')).toBe(42);
  expect(await lastNumber(db, 'dispatch:t-old')).toBe(42);
});
