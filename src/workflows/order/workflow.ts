// The order workflow: one per order (rules O1–O10). Risk check on start, hold and address
// confirmation, release/cancel, fulfilment events, the ready-to-ship deadline and the 48-hour
// stuck-in-transit rule, and alerts per the seller's preferences. Every alert is a dispatch.
// Its state is an OrderSummary, bounded whatever the number of events: the timeline and resolved
// exceptions are appended to MongoDB as they happen, and each projection write carries only what
// changed since the last one (docs/architecture.md, "Where order state lives"). Every step is
// decided in src/domain/order-run.ts; steps.ts performs them, updates.ts answers callers, who use contract.ts.
import { allHandlersFinished, condition, continueAsNew, patched } from '@temporalio/workflow';
import { OrderRun } from '../../domain/order-run';
import { orderV1 } from '../legacy/order-v1';
import { continueAsNewWhenSuggested } from '../shared/continue-as-new';
import { RECORDED_NOTICES_PATCH } from '../shared/notices';
import {
  ORDER_STATE_V2,
  ORDER_WORKSPACE_V3,
  type LegacyOrderView,
  type OrderInput,
  type OrderSummary,
} from './contract';
import { assessOrderRisk, createAddressConfirmation, createConfirmation, OrderSteps } from './steps';
import { handleUpdates } from './updates';

export async function order(
  input: OrderInput,
  carried?: OrderSummary | LegacyOrderView,
): Promise<OrderSummary | LegacyOrderView> {
  // Runs of the earlier version stay on it to the end: those it continued as new carry its view,
  // those it started have no patch marker in their history.
  if (carried && !('shape' in carried)) return orderV1(input, carried);
  if (!carried && !patched(ORDER_STATE_V2)) return orderV1(input);
  return orderV2(input, carried);
}

async function orderV2(input: OrderInput, carried?: OrderSummary): Promise<OrderSummary> {
  // Lifecycle 3 (issue 18) for runs started or continued since; a run replaying a history recorded
  // before keeps lifecycle 2 to its end, step for step (test/workflows/order-v2-replay.test.ts).
  const run = new OrderRun(
    input,
    () => new Date().toISOString(),
    carried?.lifecycle ?? (patched(ORDER_WORKSPACE_V3) ? 3 : 2),
    carried,
  );
  const o = new OrderSteps(input, run);
  handleUpdates(o);

  if (!carried) {
    // O2: risk on creation; O3: a doubtful address is confirmed by the customer through a signed, expiring, single-use link.
    if (
      run.placed(
        await assessOrderRisk({ tenantId: input.tenantId, orderId: input.orderId, customer: input.order.customer }),
      )
    ) {
      const request = {
        tenantId: input.tenantId,
        orderId: input.orderId,
        ttlMs: input.policy.linkTtlMs,
        phone: input.order.customer.phone,
        companyName: input.tenantName,
        locale: input.locale,
      };
      // The link and the reply code are a customer's secrets: the activity that records the notice adds them (issue 15); older runs carried them.
      if (patched(RECORDED_NOTICES_PATCH)) {
        const c = await createAddressConfirmation(request);
        run.confirmationCreated(c, { expiresAt: c.expiresAt }, true);
      } else {
        const c = await createConfirmation(request);
        run.confirmationCreated(c, { link: c.link, expiresAt: c.expiresAt, confirmationCode: c.code ?? null }, false);
      }
    }
    await o.sendNotices();
    await o.persist();
  }

  while (!run.finished()) {
    const seen = run.changed;
    const deadline = run.deadline(); // O5, O7
    const news = () => run.changed !== seen || run.outbox.length > 0;
    const woke =
      deadline === undefined
        ? (await condition(news), true)
        : await condition(news, Math.max(1, deadline - Date.now()));
    if (!woke && deadline !== undefined && Date.now() >= deadline) run.deadlinePassed();
    await o.sendNotices();
    await o.persist();
    await continueAsNewWhenSuggested(() => continueAsNew<typeof order>(input, run.s));
  }
  // The event that finished the order is still answering its caller: let it.
  await condition(allHandlersFinished);
  await o.sendNotices();
  await o.persist();
  return run.s;
}
