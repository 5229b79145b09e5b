// GET /sandbox: what the sandbox received and what it sent back, readable in a browser, rendered
// by the operator pages' view mechanism (src/ui/views/sandbox-inbox.hbs): everything that came
// from outside is escaped there; an email's HTML is shown in a sandboxed frame.
import type { Fault } from './faults';
import type { SandboxEvent, SandboxInbound, SandboxMessage } from './store';
import { renderView } from '../ui/render';

const time = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

function deliveries(e: SandboxEvent): string {
  if (e.outcome === 'no_webhook') return 'no webhook (no StatusCallback)';
  const attempts = e.deliveries
    .map((d) => (d.status !== null ? `HTTP ${d.status}` : (d.error ?? 'no answer')))
    .join(' → ');
  return `webhook ${e.outcome}${attempts ? `: ${attempts}` : ''}`;
}

function event(e: SandboxEvent) {
  const p = e.payload;
  const detail = [
    p.reason,
    p.response,
    p.ErrorCode ? `ErrorCode ${String(p.ErrorCode)}` : undefined,
    p.bounce_classification,
  ]
    .filter((x) => x !== undefined && x !== '')
    .map(String)
    .join(' · ');
  return { type: e.type, at: time(e.at), detail, deliveries: deliveries(e) };
}

function message(m: SandboxMessage) {
  const meta = [
    ['From', m.from],
    ['Reply-To', m.replyTo],
    ['Status', m.status],
    ['Provider id', m.providerMessageId],
    [
      'Custom args',
      m.customArgs && Object.keys(m.customArgs).length
        ? Object.entries(m.customArgs)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')
        : undefined,
    ],
    ['Categories', m.categories?.length ? m.categories.join(', ') : undefined],
    ['Attachments', m.attachments?.length ? m.attachments.join(', ') : undefined],
    ['Template', m.contentSid ? `${m.contentSid} ${m.contentVariables ?? ''}` : m.templateId],
    ['Status callback', m.statusCallback],
  ]
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([name, value]) => ({ name, value: String(value) }));
  const text = m.text ?? m.body;
  return {
    channel: m.channel,
    to: m.to,
    hasSubject: m.subject !== undefined,
    subject: m.subject,
    at: time(m.receivedAt),
    meta,
    hasText: text !== undefined,
    text,
    hasHtml: m.html !== undefined,
    html: m.html,
    events: m.events.map(event),
  };
}

function inbound(i: SandboxInbound) {
  const p = i.params;
  return {
    at: time(i.at),
    from: p.From,
    to: p.To,
    body: p.Body,
    button: p.ButtonPayload,
    answer: i.status !== null ? `HTTP ${i.status}` : (i.error ?? 'no answer'),
  };
}

/** `messages` oldest first, as stored; the page lists them newest first. */
export function renderInbox(
  messages: SandboxMessage[],
  inboundMessages: SandboxInbound[] = [],
  faults: Fault[] = [],
): string {
  return renderView('sandbox-inbox', {
    count: messages.length,
    faults: faults.map((f) => ({
      provider: f.provider,
      status: f.status ?? null,
      delayMs: f.delayMs ?? null,
      count: f.count,
    })),
    inbound: [...inboundMessages].reverse().map(inbound),
    messages: [...messages].reverse().map(message),
  });
}
