// GET /sandbox: what the sandbox received, readable in a browser. Everything is escaped.
import type { SandboxMessage } from './index';

const esc = (value: unknown) => String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderInbox(messages: SandboxMessage[]): string {
  const rows = messages.map((m) => `
  <article>
    <h2>${esc(m.channel)} to ${esc(m.to)} <small>${esc(m.receivedAt)}</small></h2>
    <p><b>From</b> ${esc(m.from)} · <b>id</b> ${esc(m.providerMessageId)}</p>
    ${m.subject ? `<p><b>Subject</b> ${esc(m.subject)}</p>` : ''}
    <pre>${esc(m.text ?? m.body ?? (m.contentSid ? `template ${m.contentSid} ${m.contentVariables ?? ''}` : ''))}</pre>
    <ol>${m.events.map((e) => `<li>${esc(e.type)} at ${esc(e.at)} — webhook ${esc(e.outcome)} (${e.deliveries.map((d) => esc(d.status)).join(', ')})</li>`).join('')}</ol>
  </article>`).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Relais sandbox inbox</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;color:#1a1a1a}article{border-bottom:1px solid #ccc;padding:.5rem 0}pre{white-space:pre-wrap;background:#f5f5f5;padding:.5rem}small{color:#555;font-weight:normal}</style>
</head><body><h1>Sandbox inbox</h1><p>${messages.length} message(s), newest first. Nothing here left this machine.</p>${rows || '<p>No messages yet.</p>'}</body></html>`;
}
