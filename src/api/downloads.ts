// How a stored file is handed to a browser: as a download under its own name, never rendered by
// the site (an attachment, no sniffing, no scripts), never cached by a shared cache.
import type { FastifyReply } from 'fastify';

/**
 * `Content-Disposition: attachment` with the name as given: an ASCII fallback (quotes, backslashes
 * and control or non-ASCII characters replaced) and the exact name in RFC 5987's `filename*`.
 */
export function attachmentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

/** Sends a file as a download (the headers every stored file gets, whoever asks for it). */
export function sendFile(reply: FastifyReply, file: { filename: string; contentType: string; bytes: number }, body: unknown) {
  return reply.type(file.contentType)
    .header('content-length', String(file.bytes))
    .header('content-disposition', attachmentDisposition(file.filename))
    .header('x-content-type-options', 'nosniff')
    // A file opened in the browser anyway (a PDF viewer, an image) runs nothing and reaches nothing.
    .header('content-security-policy', "default-src 'none'; sandbox")
    .header('cache-control', 'private, no-store')
    .send(body);
}
