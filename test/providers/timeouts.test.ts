// Every outbound call has a timeout (docs/api.md, "Limits"): a provider that accepts the
// connection and then never answers fails the send as retryable (ProviderUnavailable), so the
// activity's retry policy takes over (rule N4 documents the duplicate window this leaves).
// The "providers" here are real sockets that go silent; without the timeouts these tests would
// hang until Jest's own timeout fails them.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket, type AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { ApplicationFailure } from '@temporalio/common';
import { createSendGridSender } from '../../src/providers/sendgrid/send';
import { createTwilioSender } from '../../src/providers/twilio/send';
import { createSmtpSender } from '../../src/providers/smtp';
import type { OutboundEmail } from '../../src/providers/types';
import { failure } from '../support/failure';

const TIMEOUT_MS = 300;

const email: OutboundEmail = {
  from: { email: 'orders@relais.test' },
  subject: 'PO-1',
  text: 'PO-1',
  html: '<p>PO-1</p>',
  recipients: [{ email: 'anna@supplier.test', recipientId: 'r1' }],
  attachments: [],
  categories: [],
  customArgs: {},
};

/** An HTTP server that reads each request and never answers it. */
async function silentHttp() {
  const open = new Set<Socket>();
  let received = 0;
  const server: HttpServer = createHttpServer(() => {
    received += 1;
  });
  server.on('connection', (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: () => received,
    close: () => {
      for (const s of open) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('outbound calls time out', () => {
  let http: Awaited<ReturnType<typeof silentHttp>>;
  beforeAll(async () => {
    http = await silentHttp();
  });
  afterAll(() => http.close());

  it('SendGrid: a request that gets no answer fails as retryable after timeoutMs', async () => {
    const sender = createSendGridSender({ apiKey: 'SG.timeout-test', baseUrl: http.url, timeoutMs: TIMEOUT_MS });
    const before = http.received();
    const err = await failure(sender.sendEmail(email));
    expect(http.received()).toBe(before + 1); // it did reach the provider, which stayed silent
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect(err.name).toBe('ProviderUnavailable');
    expect(err.message).toMatch(/timeout/i);
  });

  it('Twilio: a request that gets no answer fails as retryable after timeoutMs', async () => {
    const sender = createTwilioSender({
      accountSid: `AC${'1a2b3c4d'.repeat(4)}`,
      authToken: 'timeout-test',
      baseUrl: http.url,
      smsFrom: '+15005550006',
      timeoutMs: TIMEOUT_MS,
    });
    const before = http.received();
    const err = await failure(
      sender.sendMessage({
        channel: 'sms',
        to: '+33612345678',
        body: 'hello',
        statusCallback: 'https://relais.example/cb',
      }),
    );
    expect(http.received()).toBe(before + 1);
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect(err.name).toBe('ProviderUnavailable');
    expect(err.message).toMatch(/timeout/i);
  });

  it('SMTP: a server that accepts the connection but never greets fails as retryable', async () => {
    const sockets = new Set<Socket>();
    const mute: TcpServer = createTcpServer((s) => {
      sockets.add(s);
    });
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    const sender = createSmtpSender({
      host: '127.0.0.1',
      port: (mute.address() as AddressInfo).port,
      connectionTimeoutMs: TIMEOUT_MS,
    });
    try {
      const err = await failure(sender.sendEmail(email));
      expect(sockets.size).toBeGreaterThan(0);
      expect(err.name).toBe('ProviderUnavailable');
      expect(err.message).toMatch(/greeting|timeout/i);
    } finally {
      sender.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => mute.close(() => r()));
    }
  });

  it('SMTP: a server that goes silent in the middle of the message fails after socketTimeoutMs', async () => {
    let reachedData = false;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      // Reads the message and never answers the end of DATA.
      onData(stream) {
        reachedData = true;
        stream.resume();
      },
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.server.address() as AddressInfo).port;
    const sender = createSmtpSender({
      host: '127.0.0.1',
      port,
      connectionTimeoutMs: 5_000,
      socketTimeoutMs: TIMEOUT_MS,
    });
    try {
      const err = await failure(sender.sendEmail(email));
      expect(reachedData).toBe(true);
      expect(err.name).toBe('ProviderUnavailable');
      expect(err.message).toMatch(/timeout/i);
    } finally {
      sender.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
