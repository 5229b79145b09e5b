// GET /sandbox: what the sandbox received and what it sent back, readable in a browser.
// Everything that came from outside is escaped; an email's HTML is shown in a sandboxed frame.
import type { Fault } from './faults';
import type { SandboxEvent, SandboxInbound, SandboxMessage } from './store';

export const escapeHtml = (value: unknown): string =>
  String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const time = (iso: string) => escapeHtml(iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z'));

function deliveries(e: SandboxEvent): string {
  if (e.outcome === 'no_webhook') return 'no webhook (no StatusCallback)';
  const attempts = e.deliveries.map((d) => (d.status !== null ? `HTTP ${d.status}` : escapeHtml(d.error ?? 'no answer'))).join(' → ');
  return `webhook ${escapeHtml(e.outcome)}${attempts ? `: ${attempts}` : ''}`;
}

function event(e: SandboxEvent): string {
  const p = e.payload;
  const detail = [p.reason, p.response, p.ErrorCode ? `ErrorCode ${String(p.ErrorCode)}` : undefined, p.bounce_classification]
    .filter((x) => x !== undefined && x !== '').map(escapeHtml).join(' · ');
  return `<li><b>${escapeHtml(e.type)}</b> <small>${time(e.at)}</small>${detail ? ` — ${detail}` : ''} <small>(${deliveries(e)})</small></li>`;
}

function message(m: SandboxMessage): string {
  const meta = [
    ['From', m.from], ['Reply-To', m.replyTo], ['Status', m.status], ['Provider id', m.providerMessageId],
    ['Custom args', m.customArgs && Object.keys(m.customArgs).length ? Object.entries(m.customArgs).map(([k, v]) => `${k}=${v}`).join(', ') : undefined],
    ['Categories', m.categories?.length ? m.categories.join(', ') : undefined],
    ['Attachments', m.attachments?.length ? m.attachments.join(', ') : undefined],
    ['Template', m.contentSid ? `${m.contentSid} ${m.contentVariables ?? ''}` : m.templateId],
    ['Status callback', m.statusCallback],
  ].filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('');
  const text = m.text ?? m.body;
  return `<article>
  <h2>${escapeHtml(m.channel)} to ${escapeHtml(m.to)}${m.subject !== undefined ? ` — ${escapeHtml(m.subject)}` : ''} <small>${time(m.receivedAt)}</small></h2>
  <dl>${meta}</dl>
  ${text !== undefined ? `<pre>${escapeHtml(text)}</pre>` : ''}
  ${m.html !== undefined ? `<details><summary>HTML part</summary><iframe sandbox="" title="HTML part" srcdoc="${escapeHtml(m.html)}"></iframe></details>` : ''}
  <ol class="events">${m.events.map(event).join('') || '<li>no event yet</li>'}</ol>
</article>`;
}

function inbound(i: SandboxInbound): string {
  const p = i.params;
  const answer = i.status !== null ? `HTTP ${i.status}` : escapeHtml(i.error ?? 'no answer');
  return `<li>${time(i.at)} ${escapeHtml(p.From)} → ${escapeHtml(p.To)}: “${escapeHtml(p.Body)}”${p.ButtonPayload ? ` [button ${escapeHtml(p.ButtonPayload)}]` : ''} <small>(${answer})</small></li>`;
}

/** `messages` oldest first, as stored; the page lists them newest first. */
export function renderInbox(messages: SandboxMessage[], inboundMessages: SandboxInbound[] = [], faults: Fault[] = []): string {
  const newestFirst = [...messages].reverse();
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Relais sandbox inbox</title>
<style>
body{font-family:system-ui,sans-serif;max-width:64rem;margin:1rem auto;padding:0 1rem;color:#1a1a1a;line-height:1.4}
article{border-bottom:1px solid #ccc;padding:.5rem 0}h2{font-size:1.1rem;margin:.5rem 0}small{color:#555;font-weight:normal}
dl{display:grid;grid-template-columns:max-content 1fr;gap:0 1rem;margin:.25rem 0}dt{color:#555}dd{margin:0;overflow-wrap:anywhere}
pre{white-space:pre-wrap;background:#f5f5f5;padding:.5rem}iframe{width:100%;height:20rem;border:1px solid #ccc}
</style></head><body>
<h1>Sandbox inbox</h1>
<p>${messages.length} message(s), newest first. Nothing here left this machine. <a href="/sandbox">Reload</a> · <a href="/sandbox/messages">JSON</a></p>
${faults.length ? `<p>Armed faults: ${faults.map((f) => `${escapeHtml(f.provider)} ${escapeHtml(f.status)} × ${escapeHtml(f.count)}`).join(', ')}</p>` : ''}
${inboundMessages.length ? `<h2>Inbound (sent to Relais)</h2><ol>${[...inboundMessages].reverse().map(inbound).join('')}</ol>` : ''}
${newestFirst.map(message).join('\n') || '<p>No messages yet.</p>'}
</body></html>`;
}
