// What the platform, ops, the seller and the customer ask of a running order (the contract's
// Updates): fulfilment events (O1–O8), release or cancel a hold (O4), the seller's actions
// (issue 18), the address confirmation (O3). Each validator refuses, with the reason, what the
// current state does not allow; each handler answers once its change is written.
import { setHandler } from '@temporalio/workflow';
import {
  cancelUpdate,
  confirmAddressUpdate,
  orderEventUpdate,
  orderStateQuery,
  releaseUpdate,
  sellerActionUpdate,
  type OpsAction,
} from './contract';
import { assessOrderRisk, refused, type OrderSteps } from './steps';
import {
  CONFIRMATION_EXPIRED,
  CONFIRMATION_NOT_WAITING,
  CONFIRMATION_USED,
  REFUSED,
  refuseUpdate,
} from '../failure-types';

/** Why a confirmation link is refused, as the failure type callers switch on. */
const CONFIRMATION_REFUSALS = {
  used: CONFIRMATION_USED,
  expired: CONFIRMATION_EXPIRED,
  not_waiting: CONFIRMATION_NOT_WAITING,
} as const;

export function handleUpdates(o: OrderSteps): void {
  const { input, run } = o;
  setHandler(orderStateQuery, () => run.s);

  setHandler(
    orderEventUpdate,
    async (event) => {
      const r = run.applyEvent(event);
      if (r) throw refused(r);
      await o.persist(); // the caller's next read sees this event
      return run.s;
    },
    {
      validator: (event) => {
        const r = run.eventRefusal(event);
        if (r) throw refused(r);
      },
    },
  );

  // O4: ops release or cancel a held order, with a reason; anything else is refused.
  for (const [def, action] of [
    [releaseUpdate, 'released'],
    [cancelUpdate, 'cancelled'],
  ] as const) {
    setHandler(
      def,
      async (request: OpsAction) => {
        run.opsAction(action, request);
        await o.persist();
        return run.s;
      },
      {
        validator: (_request: OpsAction) => {
          const m = run.opsRefusal(action);
          if (m) throw refuseUpdate(REFUSED, m, { state: run.s.state });
        },
      },
    );
  }

  // Issue 18: the seller's actions from the orders workspace, the same Update for the API and the
  // operator page; the caller audits who and when.
  setHandler(
    sellerActionUpdate,
    async ({ by, action }) => {
      const r = run.sellerAction(by, action);
      if (r) throw refused(r);
      await o.persist();
      return run.s;
    },
    {
      validator: ({ action }) => {
        const r = run.sellerActionRefusal(action);
        if (r) throw refused(r);
      },
    },
  );

  // O3: confirmed as it is, or corrected; a corrected address (and, lifecycle 3, a confirmed one) is scored again before the hold lifts.
  setHandler(
    confirmAddressUpdate,
    async ({ via, corrected }) => {
      run.confirmationUsed(corrected);
      const customer = input.order.customer;
      const risk = corrected
        ? await assessOrderRisk({
            tenantId: input.tenantId,
            orderId: input.orderId,
            customer: { ...customer, address: corrected },
          })
        : run.lifecycle === 3
          ? await assessOrderRisk({
              tenantId: input.tenantId,
              orderId: input.orderId,
              customer,
              addressConfirmed: true,
            })
          : null;
      run.addressConfirmed(via, corrected, risk);
      await o.persist();
      return run.s;
    },
    {
      validator: ({ nonce }) => {
        const r = run.confirmationRefusal(nonce, Date.now());
        if (r) throw refuseUpdate(CONFIRMATION_REFUSALS[r.reason], r.message);
      },
    },
  );
}
