// A dispatch's attachments as stored when it was accepted, and the signed path of one behind a
// document link (/d/<token>/<name>): for the API, the operator pages and the document page.
import type { Db } from '../db/models';
import { signLink, type LinkClaims } from '../links';

/** Attachments are stored by position (`<tenant>/<dispatch>/<index>`) when the dispatch is accepted. */
const attachmentKey = (tenantId: string, dispatchId: string, index: number) => `${tenantId}/${dispatchId}/${index}`;

/** A file of one dispatch of the tenant: its name, type and bytes; undefined when there is none. */
export async function openAttachment(db: Db, tenantId: string, dispatchId: string, index: number) {
  const a = await db.Attachment.findById(attachmentKey(tenantId, dispatchId, index)).lean();
  if (!a || a.tenantId !== tenantId || a.dispatchId !== dispatchId) return undefined;
  // A Binary read back from the store, or a Buffer (as the send activity reads it).
  const content = Buffer.from(
    (a.content as unknown as { buffer?: Uint8Array }).buffer ?? (a.content as unknown as Uint8Array),
  );
  return { filename: a.filename, contentType: a.contentType, bytes: content.length, content };
}

/**
 * The path of one attachment behind a document link: its own token (kind `attachment`, the
 * dispatch and the position), expiring when the document link does. The file's name follows, for
 * the browser; the token is the first segment, which request logs replace (src/logger.ts).
 */
export function attachmentLinkPath(secret: string, document: LinkClaims, index: number, filename: string): string {
  const token = signLink(secret, {
    kind: 'attachment',
    tenantId: document.tenantId,
    target: `${document.target}/${index}`,
    exp: document.exp,
  });
  return `/d/${token}/${encodeURIComponent(filename)}`;
}
