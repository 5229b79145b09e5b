// SendGrid Event Webhook batches, event by event (issue 14, finding 5; rules D2, N3): a bad event
// is reported with why and never sinks its batch; an event without sg_event_id gets a stable id.
import { derivedEventId, fromSendGrid, parseSendGridBatch } from '../../src/providers/sendgrid/webhook';

// Shapes of SendGrid's Event Webhook reference samples (per-event examples, "Unique Arguments").
const processed = {
  email: 'example@test.com',
  timestamp: 1513299569,
  'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
  event: 'processed',
  category: 'cat facts',
  sg_event_id: 'sg_event_id',
  sg_message_id: 'sg_message_id',
};
const deferred = { ...processed, event: 'deferred', ip: '168.1.1.1', response: '400 try again later', attempt: '5' };
const droppedWithoutId = {
  email: 'example@test.com',
  timestamp: 1513299569,
  'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
  event: 'dropped',
  category: 'cat facts',
  sg_message_id: 'sg_message_id',
  reason: 'Bounced Address',
  status: '5.0.0',
};
const withCategories = {
  ...processed,
  event: 'delivered',
  category: ['cat facts', 'dog facts'],
  response: '250 OK',
  tls: 1,
};
const withUniqueArgs = {
  ...processed,
  event: 'delivered',
  customerAccountNumber: '55555',
  activationAttempt: '1',
  'New Argument 1': 'New Value 1',
};
const bounce = {
  ...processed,
  event: 'bounce',
  reason: '500 unknown recipient',
  status: '5.0.0',
  type: 'bounce',
  bounce_classification: 'Invalid Address',
};
const asmGroup = {
  ...processed,
  event: 'group_unsubscribe',
  asm_group_id: 10,
  useragent: 'Mozilla/4.0',
  ip: '255.255.255.255',
};

test.each([
  ['processed, category as a string', processed],
  ['deferred, attempt as a string', deferred],
  ['dropped without sg_event_id', droppedWithoutId],
  ['categories as an array', withCategories],
  ['unique args as top-level fields', withUniqueArgs],
  ['bounce with its classification', bounce],
  ['group_unsubscribe with a numeric asm_group_id', asmGroup],
])('a documented sample is accepted: %s', (_case, sample) => {
  const batch = parseSendGridBatch([sample]);
  expect(batch).toEqual({
    ok: true,
    events: [{ ok: true, raw: sample, event: expect.objectContaining({ ...sample, sg_event_id: expect.any(String) }) }],
  });
});

test.each([
  ['a timestamp of 1e300', { ...processed, timestamp: 1e300 }, 'timestamp'],
  ['a negative timestamp', { ...processed, timestamp: -5 }, 'timestamp'],
  ['a timestamp as text', { ...processed, timestamp: '1513299569' }, 'timestamp'],
  ['no email', { ...processed, email: undefined }, 'email'],
  ['an email that is a number', { ...processed, email: 42 }, 'email'],
  ['no event', { ...processed, event: undefined }, 'event'],
  ['an empty sg_event_id', { ...processed, sg_event_id: '' }, 'sg_event_id'],
  ['categories that are not text', { ...processed, category: [1, 2] }, 'category'],
  ['a routing id that is not text', { ...processed, relais_dispatch: 7 }, 'relais_dispatch'],
  ['not an object', 'delivered', '(event)'],
  ['null', null, '(event)'],
])('refused, naming the field, without the rest of the batch: %s', (_case, bad, field) => {
  const batch = parseSendGridBatch([processed, bad, deferred]);
  if (!batch.ok) throw new Error('the batch itself must be accepted');
  expect(batch.events.map((e) => e.ok)).toEqual([true, false, true]);
  const refused = batch.events[1];
  expect(refused.ok === false && refused.problems[0].field).toBe(field);
});

test.each([
  ['an object', { events: [processed] }],
  ['an empty array', []],
  ['more than 10,000 events', Array.from({ length: 10_001 }, () => processed)],
])('a body that is no batch is refused whole: %s', (_case, body) => {
  expect(parseSendGridBatch(body)).toEqual({ ok: false, message: expect.any(String) });
});

test('an event without sg_event_id gets the same id each time it is sent, whatever the key order, and another event another id', () => {
  const reordered = Object.fromEntries(Object.entries(droppedWithoutId).reverse());
  expect(derivedEventId(reordered)).toBe(derivedEventId(droppedWithoutId));
  expect(derivedEventId({ ...droppedWithoutId, timestamp: 1513299570 })).not.toBe(derivedEventId(droppedWithoutId));
  const batch = parseSendGridBatch([droppedWithoutId]);
  expect(batch.ok && batch.events[0].ok && batch.events[0].event.sg_event_id).toBe(derivedEventId(droppedWithoutId));
});

test('a routed event without sg_event_id keeps its derived id as the dedupe key', () => {
  const routed = { ...droppedWithoutId, relais_tenant: 't1', relais_dispatch: 'd1', relais_recipient: 'r1.1' };
  const batch = parseSendGridBatch([routed]);
  if (!batch.ok || !batch.events[0].ok) throw new Error('accepted');
  expect(fromSendGrid(batch.events[0].event)).toMatchObject({
    tenantId: 't1',
    dispatchId: 'd1',
    event: {
      eventId: derivedEventId(routed),
      type: 'dropped',
      reason: 'Bounced Address',
      response: '5.0.0',
      at: '2017-12-15T00:59:29.000Z',
    },
  });
});

test("issue 17: an event whose email is the relais_copy of its personalization is the sender's copy, not the recipient's", () => {
  const base = {
    timestamp: 1513299569,
    event: 'delivered',
    sg_event_id: 'e1',
    relais_tenant: 't1',
    relais_dispatch: 'd1',
    relais_index: '0.1',
    relais_copy: 'buyer@shop.test',
  };
  const parse = (raw: Record<string, unknown>) => {
    const batch = parseSendGridBatch([raw]);
    if (!batch.ok || !batch.events[0].ok) throw new Error('accepted');
    return fromSendGrid(batch.events[0].event);
  };
  const copy = parse({ ...base, email: 'Buyer@Shop.test' });
  expect(copy).toMatchObject({ tenantId: 't1', dispatchId: 'd1', copy: true });
  expect(copy).not.toHaveProperty('recipient');
  const recipient = parse({ ...base, sg_event_id: 'e2', email: 'anna@supplier.test' });
  expect(recipient).toMatchObject({ recipient: { index: 0, attempt: 1 } });
  expect(recipient).not.toHaveProperty('copy');
});
