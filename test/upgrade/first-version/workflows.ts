// The workflows of a worker running the first version of the dispatch workflow (before issue 15):
// test/upgrade/running-dispatch.test.ts starts a dispatch on it, then upgrades the worker.
export { dispatchV1 as dispatch } from '../../../src/workflows/legacy/dispatch-v1';
export { order } from '../../../src/workflows/order/workflow';
