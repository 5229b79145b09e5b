// The files sellers upload to an order (issue 18: the label, the invoice), in GridFS through the
// MongoDB driver mongoose carries: bucket `order_documents`, chunks of 255 KiB (every document
// far under MongoDB's 16 MB), served by both MongoDB and FerretDB (measured on FerretDB on
// PostgreSQL: a 10 MiB file stored in about 1 s and read back in under 1 s). The file's metadata
// names its tenant and order: a read asks for both, so no other tenant's id opens it.
import type { Readable } from 'node:stream';
import mongoose from 'mongoose';
import type { Db } from './models';
import type { DocumentKind, DocumentRef } from '../domain/seller-actions';

const BUCKET = 'order_documents';

const bucketOf = (db: Db) => new mongoose.mongo.GridFSBucket(db.connection.db!, { bucketName: BUCKET });

export interface StoredDocumentMeta {
  tenantId: string;
  orderId: string;
  kind: DocumentKind;
  contentType: string;
  uploadedBy: string;
}

/** Stores a file; its id (24 hex digits) names it from then on. */
export async function storeDocument(
  db: Db,
  meta: StoredDocumentMeta,
  filename: string,
  content: Buffer,
): Promise<DocumentRef> {
  const id = new mongoose.mongo.ObjectId();
  await new Promise<void>((resolve, reject) => {
    const upload = bucketOf(db).openUploadStreamWithId(id, filename, { metadata: meta });
    upload.once('error', reject).once('finish', () => resolve());
    upload.end(content);
  });
  return {
    documentId: id.toHexString(),
    filename,
    contentType: meta.contentType,
    bytes: content.length,
    at: new Date().toISOString(),
  };
}

/** Removes a file stored for an action that was then refused: nothing is kept of it. */
export async function deleteDocument(db: Db, documentId: string): Promise<void> {
  await bucketOf(db)
    .delete(new mongoose.mongo.ObjectId(documentId))
    .catch((err: Error) => {
      if (!/not found/i.test(err.message)) throw err;
    });
}

/** A stored file of this tenant's order, as a stream with what a download needs; undefined when there is none. */
export async function openDocument(
  db: Db,
  tenantId: string,
  orderId: string,
  documentId: string,
): Promise<{ stream: Readable; filename: string; contentType: string; bytes: number; kind: string } | undefined> {
  if (!/^[0-9a-f]{24}$/.test(documentId)) return undefined;
  const id = new mongoose.mongo.ObjectId(documentId);
  const [file] = await bucketOf(db).find({ _id: id }).limit(1).toArray();
  const meta = file?.metadata as StoredDocumentMeta | undefined;
  if (!file || !meta || meta.tenantId !== tenantId || meta.orderId !== orderId) return undefined;
  return {
    stream: bucketOf(db).openDownloadStream(id),
    filename: file.filename,
    contentType: meta.contentType,
    bytes: file.length,
    kind: meta.kind,
  };
}
