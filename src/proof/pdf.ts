// The proof of sending as a PDF (./pack.ts says what is in it), in the tenant's language, made
// with pdfkit (pure JavaScript: the API needs no browser) and the DejaVu fonts (embedded, so
// names in any Latin, Greek or Cyrillic script print as they are). Every time is printed in UTC
// and in the tenant's zone; hashes and ids in a monospaced font, each on one line.
import PDFDocument from 'pdfkit';
import type { Locale } from '../domain/locale';
import { documentLabel } from '../domain/dispatch';
import type { ProofEvent, ProofPack, ProofTime } from './pack';

const FONTS = {
  sans: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'),
  bold: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'),
  mono: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSansMono.ttf'),
};

const WORDS = {
  en: {
    title: 'Proof of sending',
    intro:
      'This document records what Relais handed to the email or message provider for {tenant}, to whom, and every answer the provider gave about each recipient, as received.',
    identity: 'The document',
    dispatchId: 'Dispatch id',
    number: 'Record number',
    document: 'Document',
    subject: 'Subject',
    sender: 'Sender',
    channel: 'Channel and provider',
    requestedBy: 'Sent by (API key)',
    createdAt: 'Accepted',
    sentAt: 'Handed to the provider',
    completedAt: 'Followed until',
    result: 'Result',
    recipients: 'Recipients',
    senderCopy: 'Copy to the sender',
    content: 'What was sent (SHA-256)',
    subjectHash: 'Subject',
    htmlHash: 'HTML body',
    textHash: 'Text body',
    attachment: 'Attachment',
    bytes: 'bytes',
    messageHash: 'Whole message',
    sealedNote:
      "This message carried a customer's personal link or code: its text is not reproduced here, only the hashes of what was sent.",
    timelines: "Each recipient's timeline",
    attempt: 'attempt',
    received: 'received',
    eventId: 'event id',
    messageId: 'message id',
    response: 'answer',
    reason: 'reason',
    noEvent: 'No event recorded.',
    fromProvider: {
      sendgrid: 'SendGrid (signed event)',
      twilio: 'Twilio (signed callback)',
      relais: 'Relais',
      unknown: 'recorded',
    } as Record<string, string>,
    actions: 'Resent or marked sent by hand',
    noAction: 'Neither resent nor marked sent by hand.',
    actionNames: {
      resent: 'Resent to a recipient',
      resent_via: 'Resent as a link',
      marked_sent: 'Marked as sent by hand',
    } as Record<string, string>,
    by: 'by',
    verify: 'How to check this document',
    verifyText: [
      'Each hash is the SHA-256 of the exact bytes handed to the provider: the subject, the HTML and the text bodies as UTF-8, each attachment as stored. The provider may add tracking to the body it delivers.',
      'The whole-message hash is the SHA-256 of {"attachments":[{"filename","sha256"}…],"html","subject","text"} written with the hashes above, keys in that order, without spaces.',
      "Provider events were stored only after their signature was verified (SendGrid: ECDSA over the Event Webhook; Twilio: HMAC-SHA1 of the callback). Their ids are the provider's own; the JSON version of this document holds each event as received.",
      "Times: first in UTC, then on the clock of {zone}. The provider's times are whole seconds for SendGrid.",
    ],
    generated: 'Generated',
    page: 'page',
  },
  fr: {
    title: "Preuve d'envoi",
    intro:
      "Ce document atteste ce que Relais a remis au prestataire d'e-mail ou de messagerie pour {tenant}, à qui, et chaque réponse du prestataire sur chaque destinataire, telle que reçue.",
    identity: 'Le document',
    dispatchId: "Identifiant de l'envoi",
    number: 'N° de fiche',
    document: 'Document',
    subject: 'Objet',
    sender: 'Expéditeur',
    channel: 'Canal et prestataire',
    requestedBy: "Envoyé par (clé d'API)",
    createdAt: 'Accepté',
    sentAt: 'Remis au prestataire',
    completedAt: "Suivi jusqu'au",
    result: 'Résultat',
    recipients: 'Destinataires',
    senderCopy: "Copie à l'expéditeur",
    content: 'Ce qui a été envoyé (SHA-256)',
    subjectHash: 'Objet',
    htmlHash: 'Corps HTML',
    textHash: 'Corps texte',
    attachment: 'Pièce jointe',
    bytes: 'octets',
    messageHash: 'Message entier',
    sealedNote:
      "Ce message contenait un lien ou un code personnel du client : son texte n'est pas reproduit ici, seulement les empreintes de ce qui a été envoyé.",
    timelines: 'Chronologie de chaque destinataire',
    attempt: 'tentative',
    received: 'reçu',
    eventId: "id de l'événement",
    messageId: 'id du message',
    response: 'réponse',
    reason: 'raison',
    noEvent: 'Aucun événement enregistré.',
    fromProvider: {
      sendgrid: 'SendGrid (événement signé)',
      twilio: 'Twilio (rappel signé)',
      relais: 'Relais',
      unknown: 'enregistré',
    },
    actions: 'Renvois et envois marqués à la main',
    noAction: 'Ni renvoyé ni marqué comme envoyé à la main.',
    actionNames: {
      resent: 'Renvoyé à un destinataire',
      resent_via: 'Renvoyé sous forme de lien',
      marked_sent: 'Marqué comme envoyé à la main',
    },
    by: 'par',
    verify: 'Comment vérifier ce document',
    verifyText: [
      "Chaque empreinte est le SHA-256 des octets exacts remis au prestataire : l'objet, les corps HTML et texte en UTF-8, chaque pièce jointe telle que conservée. Le prestataire peut ajouter un suivi au corps qu'il livre.",
      'L\'empreinte du message entier est le SHA-256 de {"attachments":[{"filename","sha256"}…],"html","subject","text"} écrit avec les empreintes ci-dessus, clés dans cet ordre, sans espaces.',
      "Les événements du prestataire n'ont été enregistrés qu'après vérification de leur signature (SendGrid : ECDSA de l'Event Webhook ; Twilio : HMAC-SHA1 du rappel). Leurs identifiants sont ceux du prestataire ; la version JSON de ce document contient chaque événement tel que reçu.",
      "Heures : d'abord en UTC, puis à l'heure de {zone}. Les heures de SendGrid sont à la seconde.",
    ],
    generated: 'Généré le',
    page: 'page',
  },
} satisfies Record<Locale, unknown>;

const fill = (s: string, values: Record<string, string>) => s.replace(/\{(\w+)\}/g, (_, k: string) => values[k] ?? '');
/** "2026-12-06T13:32:05.000Z · 2026-12-06 14:32:05.000 +01:00" */
const both = (t: ProofTime | null) =>
  t ? `${t.utc}  ·  ${t.local.replace('T', ' ').replace(/([+-]\d{2}:\d{2}|Z)$/, ' $1')}` : '—';

/** Renders a pack; resolves with the PDF's bytes. */
export function proofPdf(pack: ProofPack): Promise<Buffer> {
  const w = WORDS[pack.tenant.locale];
  const label =
    documentLabel(pack.dispatch.document, pack.dispatch.subject, pack.tenant.locale) || pack.dispatch.dispatchId;
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: 50, bottom: 60, left: 50, right: 50 },
    bufferPages: true,
    info: {
      Title: `${w.title} — ${label}`,
      Author: 'Relais',
      Subject: `${pack.tenant.name} · ${pack.dispatch.dispatchId}`,
      CreationDate: new Date(pack.generatedAt.utc),
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.registerFont('sans', FONTS.sans);
  doc.registerFont('bold', FONTS.bold);
  doc.registerFont('mono', FONTS.mono);
  const left = doc.page.margins.left;
  const width = doc.page.width - doc.page.margins.left - doc.page.margins.right;

  const heading = (text: string) => {
    doc
      .moveDown(0.8)
      .font('bold')
      .fontSize(13)
      .fillColor('#1a1a1a')
      .text(text, left, undefined, { width })
      .moveDown(0.3);
  };
  /** A label and its value on one row (the value wraps in its column). */
  const fact = (name: string, value: string, mono = false) => {
    const y = doc.y;
    const valueHeight = doc
      .font(mono ? 'mono' : 'sans')
      .fontSize(mono ? 8.5 : 10)
      .heightOfString(value || '—', { width: width - 150 });
    if (y + valueHeight > doc.page.height - doc.page.margins.bottom) doc.addPage();
    const top = doc.y;
    doc.font('bold').fontSize(9.5).fillColor('#525252').text(name, left, top, { width: 145 });
    doc
      .font(mono ? 'mono' : 'sans')
      .fontSize(mono ? 8.5 : 10)
      .fillColor('#1a1a1a')
      .text(value || '—', left + 150, top, { width: width - 150 });
    doc.x = left;
    doc.y = Math.max(doc.y, top + valueHeight) + 3;
  };
  /** A hash on a line of its own, never broken. */
  const hash = (name: string, value: string | null) => {
    doc.font('bold').fontSize(9.5).fillColor('#525252').text(name, left, undefined, { width });
    doc
      .font('mono')
      .fontSize(8.5)
      .fillColor('#1a1a1a')
      .text(value ?? '—', left, undefined, { width, lineBreak: false })
      .moveDown(0.35);
  };

  // ---- title and identity
  doc.font('bold').fontSize(20).fillColor('#1a1a1a').text(`${w.title}`, left, undefined, { width });
  doc.font('sans').fontSize(12).text(`${label} — ${pack.tenant.name}`, { width }).moveDown(0.4);
  doc
    .font('sans')
    .fontSize(9.5)
    .fillColor('#525252')
    .text(fill(w.intro, { tenant: pack.tenant.name }), { width });
  heading(w.identity);
  const d = pack.dispatch;
  fact(w.dispatchId, d.dispatchId, true);
  fact(w.number, String(d.number));
  fact(w.document, d.document ? documentLabel(d.document, null, pack.tenant.locale) : '');
  fact(w.subject, d.subject ?? '');
  fact(w.sender, [d.sender.name, d.sender.email ? `<${d.sender.email}>` : null].filter(Boolean).join(' '));
  fact(w.channel, `${d.channel} · ${d.provider}`);
  fact(w.requestedBy, `${d.requestedBy.keyId}${d.requestedBy.label ? ` (${d.requestedBy.label})` : ''}`, true);
  fact(w.createdAt, both(d.createdAt), true);
  fact(w.sentAt, both(d.sentAt), true);
  if (d.completedAt) fact(w.completedAt, both(d.completedAt), true);
  fact(w.result, d.resultLabel);
  fact(w.recipients, String(d.recipientCount));

  // ---- what was sent
  heading(w.content);
  if (pack.content.sealed)
    doc.font('sans').fontSize(9.5).fillColor('#525252').text(w.sealedNote, { width }).moveDown(0.3);
  hash(w.messageHash, pack.content.messageSha256);
  hash(w.subjectHash, pack.content.subjectSha256);
  hash(w.htmlHash, pack.content.htmlSha256);
  hash(w.textHash, pack.content.textSha256);
  for (const a of pack.content.attachments)
    hash(`${w.attachment}: ${a.filename} (${a.contentType}, ${a.bytes} ${w.bytes})`, a.sha256);

  // ---- timelines
  heading(w.timelines);
  for (const r of pack.recipients) {
    if (doc.y > doc.page.height - doc.page.margins.bottom - 60) doc.addPage();
    doc
      .moveDown(0.3)
      .font('bold')
      .fontSize(10.5)
      .fillColor('#1a1a1a')
      .text(
        `${r.index + 1}. ${r.address}${r.name ? ` (${r.name})` : ''} — ${r.statusLabel} (${w.attempt} ${r.attempt})`,
        left,
        undefined,
        { width },
      );
    if (!r.events.length)
      doc
        .font('sans')
        .fontSize(9)
        .fillColor('#525252')
        .text(w.noEvent, left + 12, undefined, { width: width - 12 });
    for (const e of r.events) event(e);
  }
  // Issue 17: the sender's copy, with its own events.
  const copy = pack.senderCopy;
  if (copy) {
    if (doc.y > doc.page.height - doc.page.margins.bottom - 60) doc.addPage();
    doc
      .moveDown(0.3)
      .font('bold')
      .fontSize(10.5)
      .fillColor('#1a1a1a')
      .text(`${w.senderCopy} (${copy.mode}): ${copy.address} — ${copy.statusLabel ?? '—'}`, left, undefined, { width });
    for (const e of copy.events) event(e);
  }

  function event(e: ProofEvent) {
    const indent = left + 12;
    const inner = width - 12;
    const lines = [
      [
        e.eventId ? `${w.eventId}: ${e.eventId}` : null,
        e.providerMessageId ? `${w.messageId}: ${e.providerMessageId}` : null,
      ]
        .filter(Boolean)
        .join('   '),
      e.receivedAt ? `${w.received}: ${both(e.receivedAt)}` : '',
    ].filter(Boolean);
    const words = [
      e.response ? `${w.response}: ${e.response}` : null,
      e.reason ? `${w.reason}: ${e.reason}` : null,
      e.plainReason,
    ]
      .filter(Boolean)
      .join(' — ');
    const title = `${e.event}${e.status ? ` → ${e.status}` : ''} · ${w.attempt} ${e.attempt} · ${w.fromProvider[e.source ?? 'unknown']}`;
    const needed =
      doc.font('sans').fontSize(9).heightOfString(title, { width: inner }) +
      11 * (lines.length + 1) +
      (words ? doc.heightOfString(words, { width: inner }) : 0);
    if (doc.y + needed > doc.page.height - doc.page.margins.bottom) doc.addPage();
    doc
      .font('mono')
      .fontSize(7.5)
      .fillColor('#1a1a1a')
      .text(both(e.at), indent, undefined, { width: inner, lineBreak: false });
    doc.font('sans').fontSize(9).text(title, indent, undefined, { width: inner });
    for (const line of lines)
      doc.font('mono').fontSize(7.5).fillColor('#525252').text(line, indent, undefined, { width: inner });
    if (words) doc.font('sans').fontSize(9).fillColor('#1a1a1a').text(words, indent, undefined, { width: inner });
    doc.moveDown(0.35);
  }

  // ---- who resent or marked it sent
  heading(w.actions);
  if (!pack.actions.length) doc.font('sans').fontSize(9.5).fillColor('#1a1a1a').text(w.noAction, { width });
  for (const a of pack.actions) {
    doc.font('mono').fontSize(7.5).fillColor('#1a1a1a').text(both(a.at), left, undefined, { width, lineBreak: false });
    doc
      .font('sans')
      .fontSize(9.5)
      .text(
        `${w.actionNames[a.action]} ${w.by} ${a.by.person ? `${a.by.person}, key ` : ''}${a.by.keyId}${a.by.label ? ` (${a.by.label})` : ''}${a.details ? ` — ${a.details}` : ''}`,
        left,
        undefined,
        { width },
      )
      .moveDown(0.3);
  }

  heading(w.verify);
  for (const p of w.verifyText)
    doc
      .font('sans')
      .fontSize(9)
      .fillColor('#1a1a1a')
      .text(fill(p, { zone: pack.tenant.timeZone }), { width })
      .moveDown(0.3);

  // ---- a footer on every page
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i += 1) {
    doc.switchToPage(i);
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc
      .font('sans')
      .fontSize(7.5)
      .fillColor('#525252')
      .text(
        `${pack.tenant.name} · ${pack.dispatch.dispatchId} · ${w.generated} ${pack.generatedAt.utc} · ${w.page} ${i + 1}/${range.count}`,
        left,
        doc.page.height - 35,
        { width, align: 'center', lineBreak: false },
      );
    doc.page.margins.bottom = bottom;
  }
  doc.end();
  return done;
}
