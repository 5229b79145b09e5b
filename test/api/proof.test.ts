// Proof of sending (issue 21, rules D2, D8, D11): for one dispatch a JSON and a PDF with the
// document's identity, SHA-256 of what the provider received (checked against what the sandbox
// got), each recipient's provider events as received (the provider's own ids and SMTP answers,
// times in UTC and the tenant's zone), who resent it and who marked it sent; the PDF's text read
// back. A notice carrying a customer's signed link is proven by hashes only: no link in the pack.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../src/canonical-json';
import { newOrder, purchaseOrder, startStack, type Stack } from '../support/stack';
import { pdfText } from '../support/pdf-text';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
async function download(path: string, key = stack.key) {
  const res = await fetch(`${stack.apiUrl}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    disposition: res.headers.get('content-disposition'),
    bytes: Buffer.from(await res.arrayBuffer()),
  };
}
/** The PDF's text with line breaks as spaces (a long line wraps where the page ends). */
const flat = (text: string) => text.replace(/\s+/g, ' ');

test("rules D2, D8, D11: a purchase order's proof — what was sent, hashed; every provider event; who resent and who marked it sent", async () => {
  const attachment = Buffer.from('%PDF-1.4 the purchase order PO-proof-1 itself');
  const body = purchaseOrder('proof-1', ['ana@acme.test', 'bob+bounce@acme.test'], {
    attachments: [
      { filename: 'PO-proof-1.pdf', contentType: 'application/pdf', contentBase64: attachment.toString('base64') },
    ],
  });
  expect((await stack.request('POST', '/v1/dispatches', body)).status).toBe(202);
  await stack.waitFor(
    'the bounce',
    async () => (await stack.request('GET', '/v1/dispatches/proof-1')).body?.result === 'alert',
  );
  // D8: the bounced address corrected and resent; D11: then marked as sent by hand too (posted).
  const fixer = await stack.keyWithRoles(['dispatch:write', 'log:read']);
  const fixerId = fixer.slice('rk_'.length, 'rk_'.length + 12); // the key id is 12 base64url characters, which may include '_'
  expect(
    (await stack.request('POST', '/v1/dispatches/proof-1/recipients/r2/resend', { email: 'bob@acme.test' }, fixer))
      .status,
  ).toBe(200);
  await stack.waitFor(
    'delivered to the corrected address',
    async () => (await stack.request('GET', '/v1/dispatches/proof-1')).body?.result === 'delivered',
  );
  expect(
    (await stack.request('POST', '/v1/dispatches/proof-1/mark-sent', { note: 'posted too, registered letter' }, fixer))
      .status,
  ).toBe(200);
  await stack.waitFor(
    'the mark recorded',
    async () => (await stack.request('GET', '/v1/dispatches/proof-1')).body?.markedSent,
  );

  const json = await download('/v1/dispatches/proof-1/proof.json');
  expect(json.status).toBe(200);
  expect(json.disposition).toMatch(/^attachment; filename="proof-of-sending-\d+\.json"$/);
  const pack = JSON.parse(json.bytes.toString('utf8'));
  expect(pack).toMatchObject({
    format: 'relais-proof-of-sending/1',
    tenant: { id: stack.tenantId, name: 'Bistro Demo', timeZone: 'Europe/Paris' },
    dispatch: {
      dispatchId: 'proof-1',
      document: { type: 'purchase_order', number: 'PO-proof-1' },
      result: 'delivered',
      recipientCount: 2,
      sender: { email: 'bruno.buyer@bistro.test' },
    },
  });

  // What was sent: the hashes of what the provider (the sandbox) received, byte for byte.
  const received = stack.sandbox.messages({ to: 'ana@acme.test' })[0];
  expect(pack.content).toMatchObject({
    algorithm: 'SHA-256',
    sealed: false,
    subjectSha256: sha256(received.subject!),
    htmlSha256: sha256(received.html!),
    textSha256: sha256(received.text!),
    attachments: [
      {
        filename: 'PO-proof-1.pdf',
        contentType: 'application/pdf',
        bytes: attachment.length,
        sha256: sha256(attachment),
      },
    ],
  });
  expect(pack.content.messageSha256).toBe(
    sha256(
      canonicalJson({
        subject: sha256(received.subject!),
        html: sha256(received.html!),
        text: sha256(received.text!),
        attachments: [{ filename: 'PO-proof-1.pdf', sha256: sha256(attachment) }],
      }),
    ),
  );

  // Every event the provider sent about each address, with its own id and the SMTP answer; times in UTC and Paris time.
  const [ana, bob] = pack.recipients;
  const sandboxEvents = (to: string) =>
    stack.sandbox
      .messages({ to })
      .flatMap((m) => m.events)
      .filter((e) => e.outcome === 'delivered');
  expect(
    ana.events
      .filter((e: { source: string }) => e.source === 'sendgrid')
      .map((e: { eventId: string }) => e.eventId)
      .sort(),
  ).toEqual(
    sandboxEvents('ana@acme.test')
      .map((e) => e.eventId)
      .sort(),
  );
  const anaDelivered = ana.events.find((e: { event: string }) => e.event === 'delivered');
  expect(anaDelivered).toMatchObject({
    source: 'sendgrid',
    status: 'delivered',
    response: expect.stringMatching(/^250 /),
    payload: { event: 'delivered', email: 'ana@acme.test' },
  });
  expect(anaDelivered.at.local).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+01:00$/);
  expect(new Date(anaDelivered.at.local).getTime()).toBe(new Date(anaDelivered.at.utc).getTime());
  expect(bob).toMatchObject({ address: 'bob@acme.test', status: 'delivered', attempt: 2 });
  const bounce = bob.events.find((e: { event: string }) => e.event === 'bounce');
  expect(bounce).toMatchObject({
    attempt: 1,
    response: '5.1.1',
    reason: '550 5.1.1 user unknown',
    reasonCode: 'invalid_address',
    eventId: sandboxEvents('bob+bounce@acme.test').find((e) => e.type === 'bounce')!.eventId,
  });
  expect(bob.events.map((e: { event: string; attempt: number }) => `${e.event}.${e.attempt}`)).toEqual(
    expect.arrayContaining(['bounce.1', 'resent.2', 'delivered.2']),
  );

  // Who did what (D8, D11).
  expect(pack.actions).toEqual([
    expect.objectContaining({
      action: 'resent',
      by: { keyId: fixerId, label: null, person: null },
      details: expect.stringContaining('address corrected from bob+bounce@acme.test'),
    }),
    expect.objectContaining({
      action: 'marked_sent',
      by: { keyId: fixerId, label: null, person: null },
      details: 'posted too, registered letter',
    }),
  ]);

  // The PDF says the same, read back from its text.
  const pdf = await download('/v1/dispatches/proof-1/proof.pdf');
  expect(pdf.status).toBe(200);
  expect(pdf.type).toBe('application/pdf');
  expect(pdf.bytes.subarray(0, 5).toString()).toBe('%PDF-');
  const text = flat(pdfText(pdf.bytes));
  expect(text).toContain('Proof of sending');
  expect(text).toContain('purchase order PO-proof-1 — Bistro Demo');
  for (const hash of [
    pack.content.messageSha256,
    pack.content.htmlSha256,
    pack.content.textSha256,
    pack.content.attachments[0].sha256,
  ])
    expect(text).toContain(hash);
  for (const e of [...ana.events, ...bob.events].filter((x: { eventId: string | null }) => x.eventId))
    expect(text).toContain(e.eventId);
  expect(text).toContain('250 2.0.0 OK');
  expect(text).toContain('550 5.1.1 user unknown');
  expect(text).toContain(anaDelivered.at.utc);
  expect(text).toContain(`${anaDelivered.at.local.slice(0, 10)} ${anaDelivered.at.local.slice(11, 23)} +01:00`);
  expect(text).toContain(`Resent to a recipient by ${fixerId}`);
  expect(text).toContain(`Marked as sent by hand by ${fixerId} — posted too, registered letter`);
});

test("a notice carrying a customer's signed link is proven by the hashes of what was sent; the link is nowhere in the pack", async () => {
  const email = 'carla.customer@example.test';
  // No phone: the address confirmation's only channel is email (issue 20: channels go one at a time).
  const held = newOrder('proof-held', {
    email,
    phone: null,
    address: { line1: 'rue', line2: null, city: 'Paris', postalCode: '750', country: 'FR' },
  });
  expect((await stack.request('POST', '/v1/orders', held)).status).toBe(202);
  const sent = await stack.waitFor('the confirmation email', async () => stack.sandbox.messages({ to: email })[0]);
  const token = /\/c\/([A-Za-z0-9_.-]+)/.exec(sent.html!)![1];
  const noticeId = await stack.waitFor(
    'the notice recorded',
    async () =>
      (await stack.request('GET', '/v1/orders/proof-held')).body?.notifications?.find(
        (n: { audience: string; channel: string }) => n.audience === 'customer' && n.channel === 'email',
      )?.dispatchId,
  );

  const json = (await download(`/v1/dispatches/${noticeId}/proof.json`)).bytes.toString('utf8');
  const pack = JSON.parse(json);
  expect(pack.content).toMatchObject({ sealed: true, htmlSha256: sha256(sent.html!), textSha256: sha256(sent.text!) });
  expect(json).not.toContain(token);
  const pdf = await download(`/v1/dispatches/${noticeId}/proof.pdf`);
  const text = flat(pdfText(pdf.bytes));
  expect(text).toContain(pack.content.htmlSha256);
  expect(text).not.toContain(token);
});

test("L4: the log's role; another tenant's dispatch is not found; the proof is in the tenant's language", async () => {
  expect((await stack.request('POST', '/v1/dispatches', purchaseOrder('proof-2', ['dina@acme.test']))).status).toBe(
    202,
  );
  await stack.waitFor(
    'delivered',
    async () => (await stack.request('GET', '/v1/dispatches/proof-2')).body?.result === 'delivered',
  );
  for (const ext of ['json', 'pdf']) {
    expect(
      (await download(`/v1/dispatches/proof-2/proof.${ext}`, await stack.keyWithRoles(['dispatch:write']))).status,
    ).toBe(403);
    expect((await download(`/v1/dispatches/proof-2/proof.${ext}`, await stack.keyWithRoles(['log:read']))).status).toBe(
      200,
    );
    const other = await download(`/v1/dispatches/proof-2/proof.${ext}`, stack.other.key);
    expect(other.status).toBe(404);
    expect(JSON.parse(other.bytes.toString()).error.code).toBe('not_found');
  }
  await stack.db.Tenant.updateOne({ _id: stack.tenantId }, { $set: { locale: 'fr' } });
  const text = flat(pdfText((await download('/v1/dispatches/proof-2/proof.pdf')).bytes));
  expect(text).toContain("Preuve d'envoi");
  expect(text).toContain('Comment vérifier ce document');
  await stack.db.Tenant.updateOne({ _id: stack.tenantId }, { $set: { locale: 'en' } });
});
