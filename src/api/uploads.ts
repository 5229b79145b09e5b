// Uploads (multipart/form-data) for the routes and pages that take a file: the label or invoice
// of an order (issue 18). The file is read into memory (at most MAX_DOCUMENT_BYTES) and kept aside.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart, { type MultipartFile } from '@fastify/multipart';
import { ApiError } from './errors';
import { MAX_DOCUMENT_BYTES } from '../domain/documents';

/** 413 naming the file part that is over MAX_DOCUMENT_BYTES. */
function fileTooLarge(field: string) {
  const message = `the file is larger than ${MAX_DOCUMENT_BYTES} bytes`;
  return new ApiError(413, 'payload_too_large', `${field}: ${message}`, [
    { field, message, value: null, limitBytes: MAX_DOCUMENT_BYTES },
  ]);
}

/** An upload as the multipart parser left it: the file part, read whole (at most MAX_DOCUMENT_BYTES). */
export interface UploadedFile {
  filename: string;
  mimetype: string;
  content: Buffer;
}
const UPLOADS = Symbol('uploads');
type WithUploads = FastifyRequest & { [UPLOADS]?: Record<string, UploadedFile> };

/**
 * multipart/form-data for the upload routes (their scope only): one file part of at most
 * MAX_DOCUMENT_BYTES, read into memory and kept aside; the body the route validates holds the
 * other fields and the file's name in its place (what the contract describes as a binary string).
 */
export async function acceptUploads(scope: FastifyInstance) {
  // A multipart Content-Type without its boundary cannot be read at all (found by the API fuzzer: a 500).
  scope.addHook('preValidation', async (request) => {
    const type = request.headers['content-type'] ?? '';
    if (/^multipart\/form-data\b/i.test(type) && !/;\s*boundary=/i.test(type)) {
      throw new ApiError(400, 'invalid_request', 'Content-Type: multipart/form-data needs its boundary parameter', [
        { field: '(body)', message: 'no boundary', value: null },
      ]);
    }
  });
  // What the multipart parser (busboy) says of a body it cannot read is the caller's mistake: a 400,
  // handed on to the scope's usual error handler (the API's, or the pages').
  scope.setErrorHandler((error) => {
    if (error instanceof ApiError || !(error instanceof Error)) throw error;
    const code = (error as { code?: string }).code ?? '';
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw fileTooLarge('file');
    if (['FST_FILES_LIMIT', 'FST_FIELDS_LIMIT', 'FST_PARTS_LIMIT'].includes(code)) {
      throw new ApiError(
        413,
        'payload_too_large',
        'one file part, and the fields kind and note, are all an upload takes',
        { limit: code },
      );
    }
    if (
      /^(Multipart: |Unexpected end of (form|multipart data)$|Malformed part header$)/.test(error.message) ||
      /node_modules[\\/]@fastify[\\/]busboy[\\/]/.test(error.stack ?? '')
    ) {
      throw new ApiError(400, 'invalid_request', `the multipart/form-data body is malformed: ${error.message}`, [
        { field: '(body)', message: error.message, value: null },
      ]);
    }
    throw error;
  });
  await scope.register(multipart, {
    attachFieldsToBody: 'keyValues',
    limits: { fileSize: MAX_DOCUMENT_BYTES, files: 1, fields: 8, parts: 9, fieldSize: 4096 },
    async onFile(this: FastifyRequest, part: MultipartFile) {
      let content: Buffer;
      try {
        content = await part.toBuffer();
      } catch (err) {
        throw (err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE' ? fileTooLarge(part.fieldname) : err;
      }
      const request = this as WithUploads;
      request[UPLOADS] = {
        ...request[UPLOADS],
        [part.fieldname]: { filename: part.filename, mimetype: part.mimetype, content },
      };
      (part as unknown as { value: string }).value = part.filename || part.fieldname;
    },
  });
}

/**
 * The file part of an upload request. A client that sent `file` as a plain field, not a file
 * part: its text is the content (and is refused as such).
 */
export function uploadedFile(request: FastifyRequest, body: { file: string }): UploadedFile {
  return (
    (request as WithUploads)[UPLOADS]?.file ?? { filename: '', mimetype: 'text/plain', content: Buffer.from(body.file) }
  );
}
