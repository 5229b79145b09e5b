// How a stored file is handed to a browser: as a download under its own name, never rendered by
// the site (an attachment, no sniffing, no scripts), never cached by a shared cache.
import { pipeline, Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { stringify } from 'csv-stringify';
import type { Db } from '../db/models';
import type { AppDeps } from '../app/deps';
import { openAttachment } from '../app/attachments';
import { openDocument } from '../db/order-documents';
import type { ProofPack } from '../proof/pack';
import { proofPdf } from '../proof/pdf';
import { notFound } from './errors';

/**
 * `Content-Disposition: attachment` with the name as given: an ASCII fallback (quotes, backslashes
 * and control or non-ASCII characters replaced) and the exact name in RFC 5987's `filename*`.
 */
export function attachmentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

/** Sends a file as a download (the headers every stored file gets, whoever asks for it). */
export function sendFile(
  reply: FastifyReply,
  file: { filename: string; contentType: string; bytes: number },
  body: unknown,
) {
  return (
    reply
      .type(file.contentType)
      .header('content-length', String(file.bytes))
      .header('content-disposition', attachmentDisposition(file.filename))
      .header('x-content-type-options', 'nosniff')
      // A file opened in the browser anyway (a PDF viewer, an image) runs nothing and reaches nothing.
      .header('content-security-policy', "default-src 'none'; sandbox")
      .header('cache-control', 'private, no-store')
      .send(body)
  );
}

/** Sends an attachment of the tenant's dispatch as a download; 404 for anything else. */
export async function sendAttachment(db: Db, tenantId: string, dispatchId: string, index: number, reply: FastifyReply) {
  const file = await openAttachment(db, tenantId, dispatchId, index);
  if (!file) throw notFound(`attachment ${index} of dispatch ${dispatchId}`);
  return sendFile(reply, file, file.content);
}

/** Sends a stored label or invoice of this tenant's order (404 for anything else), as an attachment. */
export async function sendDocument(
  deps: Pick<AppDeps, 'db'>,
  tenantId: string,
  orderId: string,
  documentId: string,
  reply: FastifyReply,
) {
  const file = await openDocument(deps.db, tenantId, orderId, documentId);
  if (!file) throw notFound(`document ${documentId} of order ${orderId}`);
  return sendFile(reply, file, file.stream);
}

/** Streams rows as a CSV download (`name`-<today>.csv). An error after the first bytes breaks the connection: a file is never silently cut short. */
export function sendCsv(
  reply: FastifyReply,
  name: string,
  columns: readonly string[],
  rows: AsyncIterable<Record<string, unknown>>,
) {
  const csv = stringify({ header: true, columns: [...columns], bom: true, escape_formulas: true });
  // pipeline: a failing cursor fails the file (Fastify then breaks the connection), and a download
  // given up by the browser closes the cursor.
  pipeline(Readable.from(rows), csv, () => undefined);
  return reply
    .type('text/csv; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-disposition', `attachment; filename="${name}-${new Date().toISOString().slice(0, 10)}.csv"`)
    .send(csv);
}

const fileName = (pack: ProofPack, ext: string) => `proof-of-sending-${pack.dispatch.number}.${ext}`;

export function sendProofJson(reply: FastifyReply, pack: ProofPack) {
  return reply
    .type('application/json; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-disposition', `attachment; filename="${fileName(pack, 'json')}"`)
    .send(pack);
}

export async function sendProofPdf(reply: FastifyReply, pack: ProofPack) {
  const pdf = await proofPdf(pack);
  return reply
    .type('application/pdf')
    .header('cache-control', 'no-store')
    .header('content-disposition', `attachment; filename="${fileName(pack, 'pdf')}"`)
    .send(pdf);
}
