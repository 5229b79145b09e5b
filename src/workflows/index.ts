// Every workflow the worker registers (each folder: contract.ts, what callers import; workflow.ts, the code).
export { dispatch } from './dispatch/workflow';
export { order } from './order/workflow';
export { webhookDelivery } from './webhook-delivery/workflow';
export { dashboardRollup } from './rollup/workflow';
export { sellerAlertDigest } from './alert-digest/workflow';
export { customerNotice } from './customer-notice/workflow';
