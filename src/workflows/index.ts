// Every workflow the worker registers.
export { dispatch } from './dispatch';
export { order } from './order';
export { webhookDelivery } from './webhook-delivery';
export { dashboardRollup } from './rollup';
