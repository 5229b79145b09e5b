// The files a seller uploads to an order (issue 18; O5: the shipping label, the invoice): what
// Relais accepts is decided from the file's first bytes, not from the type the browser declares.

/** Largest label or invoice Relais keeps (a scanned page is well under it). */
export const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;

export const DOCUMENT_TYPES = ['application/pdf', 'image/png', 'image/jpeg'] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

const SIGNATURES: Array<[DocumentType, number[]]> = [
  ['application/pdf', [0x25, 0x50, 0x44, 0x46, 0x2d]], // %PDF-
  ['image/png', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  ['image/jpeg', [0xff, 0xd8, 0xff]],
];

/** The type the content's magic bytes say, or null when it is none of the accepted ones. */
export function sniffDocumentType(content: Uint8Array): DocumentType | null {
  return SIGNATURES.find(([, bytes]) => bytes.every((b, i) => content[i] === b))?.[0] ?? null;
}

/** Declared types a browser or a client may send for each accepted type (`image/jpg` is common, if wrong). */
const DECLARED: Record<DocumentType, string[]> = {
  'application/pdf': ['application/pdf', 'application/x-pdf'],
  'image/png': ['image/png'],
  'image/jpeg': ['image/jpeg', 'image/jpg', 'image/pjpeg'],
};
/** Declared types that say nothing about the content (curl's default, a missing type). */
const UNSAID = ['', 'application/octet-stream'];

export type DocumentCheck = { ok: true; contentType: DocumentType } | { ok: false; status: 413 | 422; message: string };

/**
 * Whether an upload is a label or invoice Relais keeps: not empty, at most `maxBytes`, a PDF, PNG
 * or JPEG by its first bytes, and not declared as something else.
 */
export function checkDocument(
  content: Uint8Array,
  declared: string | null | undefined,
  maxBytes = MAX_DOCUMENT_BYTES,
): DocumentCheck {
  if (content.length === 0) return { ok: false, status: 422, message: 'the file is empty' };
  if (content.length > maxBytes)
    return { ok: false, status: 413, message: `the file is larger than ${maxBytes} bytes` };
  const sniffed = sniffDocumentType(content);
  if (!sniffed)
    return {
      ok: false,
      status: 422,
      message: 'the file is not a PDF, PNG or JPEG (its first bytes say so, whatever its name)',
    };
  const said = (declared ?? '').split(';')[0].trim().toLowerCase();
  if (!UNSAID.includes(said) && !DECLARED[sniffed].includes(said)) {
    return { ok: false, status: 422, message: `the file is declared as ${said} but its content is ${sniffed}` };
  }
  return { ok: true, contentType: sniffed };
}

const EXTENSIONS: Record<DocumentType, string> = { 'application/pdf': 'pdf', 'image/png': 'png', 'image/jpeg': 'jpg' };

/**
 * A file name safe to store and to send back in Content-Disposition: the last path segment,
 * printable characters only, at most 120; the kind and the type's extension when nothing is left.
 */
export function documentFilename(given: string | null | undefined, kind: string, type: DocumentType): string {
  const base = (given ?? '').split(/[\\/]/).pop() ?? '';
  const clean = base
    // eslint-disable-next-line no-control-regex -- control characters are removed from a file name on purpose
    .replace(/[\u0000-\u001f\u007f"]/g, '')
    .trim()
    .slice(-120);
  return clean && clean !== '.' && clean !== '..' ? clean : `${kind}.${EXTENSIONS[type]}`;
}
