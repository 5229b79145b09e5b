// The SMTP sender against a real SMTP server on loopback (smtp-server): per-recipient outcomes
// with the server's own replies (rule D10), what the server received, and which failures are
// retried (rule N4: a retry never resends to someone already handed off).
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { createSmtpSender, type SmtpSender } from '../../src/providers/smtp';
import type { OutboundEmail } from '../../src/providers/types';
import { failure } from '../support/failure';

interface Stored {
  from: string;
  rcpt: string[];
  raw: string;
  headers: Record<string, string>;
}

const REFUSALS: Record<string, [number, string]> = {
  'unknown@supplier.test': [550, '5.1.1 User unknown'],
  'full@supplier.test': [452, '4.2.2 Mailbox full'],
};

function parseHeaders(raw: string): Record<string, string> {
  const block = raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of block.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return headers;
}

async function startSmtp() {
  const stored: Stored[] = [];
  let sessions = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(_session, cb) {
      sessions += 1;
      cb();
    },
    onMailFrom(address: SMTPServerAddress, _session, cb) {
      if (address.address.startsWith('busy@'))
        return cb(
          Object.assign(new Error('4.3.2 System not accepting network messages, try later'), { responseCode: 451 }),
        );
      cb();
    },
    onRcptTo(address: SMTPServerAddress, _session, cb) {
      const refusal = REFUSALS[address.address.toLowerCase()];
      if (refusal) return cb(Object.assign(new Error(refusal[1]), { responseCode: refusal[0] }));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        stored.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcpt: session.envelope.rcptTo.map((r) => r.address),
          raw,
          headers: parseHeaders(raw),
        });
        cb(null, 'Message queued as RELAIS1');
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    stored,
    sessions: () => sessions,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const PDF = Buffer.from('%PDF-1.4 purchase order 4711').toString('base64');

function email(
  recipients: Array<{ email: string; recipientId: string; name?: string }>,
  overrides: Partial<OutboundEmail> = {},
): OutboundEmail {
  return {
    from: { email: 'orders@relais.test', name: 'Relais Orders' },
    replyTo: { email: 'buyer@shop.test', name: 'Alice Buyer' },
    subject: 'Purchase order PO-4711',
    text: 'Please find purchase order PO-4711 attached.',
    html: '<p>Please find purchase order <b>PO-4711</b> attached.</p>',
    recipients,
    attachments: [{ filename: 'PO-4711.pdf', contentType: 'application/pdf', contentBase64: PDF }],
    categories: ['purchase_order'],
    customArgs: { relais_tenant: 't1', relais_dispatch: 'd-4711' },
    ...overrides,
  };
}

describe('SMTP sender (rule D10) against a real SMTP server', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let sender: SmtpSender;

  beforeAll(async () => {
    smtp = await startSmtp();
    sender = createSmtpSender({ host: '127.0.0.1', port: smtp.port, name: 'relais.test', connectionTimeoutMs: 2000 });
  });
  afterAll(async () => {
    sender.close();
    await smtp.close();
  });
  beforeEach(() => {
    smtp.stored.length = 0;
  });

  it("issue 20: each recipient's message carries its own substitutions (the receipt link), the others' never", async () => {
    const TAG = 'https://receipt-link-withheld-from-this-copy.invalid/';
    await sender.sendEmail(
      email(
        [
          {
            email: 'anna@supplier.test',
            recipientId: '0.1',
            substitutions: { [TAG]: 'https://relais.test/a/anna.sig' },
          },
          { email: 'bob@supplier.test', recipientId: '1.1', substitutions: { [TAG]: 'https://relais.test/a/bob.sig' } },
        ] as OutboundEmail['recipients'],
        { text: `Confirm receipt: ${TAG}`, html: `<a href="${TAG}">Confirm receipt</a>`, attachments: [] },
      ),
    );
    const [anna, bob] = smtp.stored;
    expect(anna.raw).toContain('https://relais.test/a/anna.sig');
    expect(anna.raw).not.toContain('bob.sig');
    expect(anna.raw).not.toContain(TAG);
    expect(bob.raw).toContain('https://relais.test/a/bob.sig');
    expect(bob.raw).not.toContain('anna.sig');
  });

  it("sends one message per recipient and reports each with the server's reply", async () => {
    const result = await sender.sendEmail(
      email([
        { email: 'anna@supplier.test', recipientId: 'r1', name: 'Anna' },
        { email: 'unknown@supplier.test', recipientId: 'r2' },
        { email: 'bob@supplier.test', recipientId: 'r3' },
        { email: 'full@supplier.test', recipientId: 'r4' },
      ]),
    );

    expect(result.provider).toBe('smtp');
    expect(result.recipients).toEqual([
      { recipientId: 'r1', outcome: 'sent', response: expect.stringMatching(/^250 .*Message queued as RELAIS1/) },
      { recipientId: 'r2', outcome: 'not_sent', response: '550 5.1.1 User unknown' },
      { recipientId: 'r3', outcome: 'sent', response: expect.stringMatching(/^250 /) },
      // Temporary, but others were already handed off: not retried, so they don't get it twice.
      { recipientId: 'r4', outcome: 'not_sent', response: '452 4.2.2 Mailbox full' },
    ]);

    // Only the accepted ones reached the server, each alone on its envelope and in its To.
    expect(smtp.stored.map((m) => m.rcpt)).toEqual([['anna@supplier.test'], ['bob@supplier.test']]);
    const [anna, bob] = smtp.stored;
    expect(result.providerMessageId).toBe(anna.headers['message-id']);
    expect(anna.from).toBe('orders@relais.test');
    expect(anna.headers.to).toBe('Anna <anna@supplier.test>');
    expect(bob.headers.to).toBe('bob@supplier.test');
    expect(anna.raw).not.toContain('bob@supplier.test');
    expect(bob.raw).not.toContain('anna@supplier.test');
    expect(anna.headers.from).toBe('Relais Orders <orders@relais.test>');
    expect(anna.headers['reply-to']).toBe('Alice Buyer <buyer@shop.test>');
    expect(anna.headers.subject).toBe('Purchase order PO-4711');
    expect(anna.headers['x-relais-dispatch']).toBe('d-4711');
    expect(anna.headers['x-relais-recipient']).toBe('r1');
    expect(bob.headers['x-relais-recipient']).toBe('r3');
    expect(anna.raw).toContain('Please find purchase order PO-4711 attached.');
    expect(anna.raw).toContain('text/html');
    expect(anna.raw).toMatch(/Content-Disposition: attachment; filename=PO-4711\.pdf/i);
    expect(anna.raw).toContain(PDF);
  });

  it('asks for a retry when a recipient is only temporarily refused and nobody was handed off', async () => {
    const err = await failure(sender.sendEmail(email([{ email: 'full@supplier.test', recipientId: 'r1' }])));
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect(err.name).toBe('ProviderUnavailable');
    expect(err.message).toContain('452 4.2.2 Mailbox full');
    expect(smtp.stored).toHaveLength(0);
  });

  it("keeps a permanent refusal as that recipient's not_sent, even when it is the only one", async () => {
    const result = await sender.sendEmail(email([{ email: 'unknown@supplier.test', recipientId: 'r1' }]));
    expect(result.recipients).toEqual([{ recipientId: 'r1', outcome: 'not_sent', response: '550 5.1.1 User unknown' }]);
    expect(result.providerMessageId).toBeUndefined();
  });

  it("treats a 4xx to MAIL FROM as the server's trouble: retryable", async () => {
    const err = await failure(
      sender.sendEmail(
        email([{ email: 'anna@supplier.test', recipientId: 'r1' }], { from: { email: 'busy@relais.test' } }),
      ),
    );
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect(err.name).toBe('ProviderUnavailable');
    expect(err.message).toContain('451 4.3.2');
  });

  it('refuses an empty list, duplicates and more than 1000 recipients before connecting', async () => {
    const before = smtp.sessions();
    const cases: Array<[OutboundEmail['recipients'], RegExp]> = [
      [[], /recipients: the list is empty/],
      [
        [
          { email: 'a@supplier.test', recipientId: 'r1' },
          { email: 'A@Supplier.test', recipientId: 'r2' },
        ],
        /recipients\[1\]\.email: "A@Supplier.test" is already recipients\[0\]/,
      ],
      [
        Array.from({ length: 1001 }, (_, i) => ({ email: `p${i}@supplier.test`, recipientId: `r${i}` })),
        /1001 recipients; at most 1000/,
      ],
      [[{ email: 'not an address', recipientId: 'r1' }], /recipients\[0\]\.email: "not an address"/],
    ];
    for (const [recipients, words] of cases) {
      const err = await failure(sender.sendEmail(email(recipients)));
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect((err as ApplicationFailure).nonRetryable).toBe(true);
      expect((err as ApplicationFailure).type).toBe('InvalidRequest');
      expect(err.message).toMatch(words);
    }
    expect(smtp.sessions()).toBe(before);
  });

  it('gives a retryable error when the server is down', async () => {
    const down = await startSmtp();
    await down.close();
    const lonely = createSmtpSender({ host: '127.0.0.1', port: down.port, connectionTimeoutMs: 2000 });
    try {
      const err = await failure(
        lonely.sendEmail(
          email([
            { email: 'anna@supplier.test', recipientId: 'r1' },
            { email: 'bob@supplier.test', recipientId: 'r2' },
          ]),
        ),
      );
      expect(err).not.toBeInstanceOf(ApplicationFailure);
      expect(err.name).toBe('ProviderUnavailable');
      expect(err.message).toMatch(/^SMTP server 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    } finally {
      lonely.close();
    }
  });
});
