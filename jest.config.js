/** Jest: one set of servers (Temporal dev server, FerretDB) for the whole run, started in
 * test/global-setup.ts; test files run two at a time to fit the machine's 2 cores.
 * The `cluster` project (test/cluster/) also runs a real Temporal cluster on PostgreSQL, started
 * once in test/cluster/global-setup.ts, only when one of its files is selected.
 * The `faults` project (test/faults/) starts, kills and restarts servers of its own (issue 7). */
/**
 * ESM-only packages required by CommonJS dependencies (content-disposition 3 by `@fastify/static`
 * 10, behind `@fastify/swagger-ui` 6; cookie 2 by `@fastify/cookie` 11.1), and `@fastify/cookie`
 * itself, which loads cookie with a dynamic import(). Node 20.19+ runs all of this natively;
 * jest's own module loader does not, so the tests compile these files to CommonJS.
 */
const COMPILED_FOR_JEST = ['content-disposition', 'cookie', '@fastify/cookie'];

const shared = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }],
    [`/node_modules/(${COMPILED_FOR_JEST.join('|')})/.+\\.js$`]: ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: [`^(?!.*/node_modules/(${COMPILED_FOR_JEST.join('|')})/).*/node_modules/`],
  setupFiles: ['<rootDir>/test/support/quiet-runtime.ts'],
  modulePathIgnorePatterns: ['<rootDir>/.tools/', '<rootDir>/.data/', '<rootDir>/dist/'],
};

module.exports = {
  projects: [
    {
      ...shared,
      displayName: 'dev',
      roots: ['<rootDir>/test', '<rootDir>/src'],
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/cluster/', '<rootDir>/test/faults/'],
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
    },
    {
      ...shared,
      displayName: 'cluster',
      roots: ['<rootDir>/test/cluster'],
      testMatch: ['**/*.test.ts'],
      globalSetup: '<rootDir>/test/cluster/global-setup.ts',
      globalTeardown: '<rootDir>/test/cluster/global-teardown.ts',
    },
    // The fault suite (test/faults/, docs/reliability.md): its own servers, started, killed and
    // restarted by the test itself (about 5 minutes). `npm test` runs it last, in a jest run of
    // its own: beside the other projects its load makes their timing-bound waits flaky on 2 cores.
    {
      ...shared,
      displayName: 'faults',
      roots: ['<rootDir>/test/faults'],
      testMatch: ['**/*.test.ts'],
    },
  ],
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  maxWorkers: 2,
  testTimeout: 120_000,
};
