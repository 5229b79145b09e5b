// Issue 18 item 2: a label or invoice is kept only when its first bytes say PDF, PNG or JPEG, it is
// not empty nor over the limit, and its declared type does not say otherwise.
import { checkDocument, documentFilename, sniffDocumentType } from '../../src/domain/documents';

const bytes = (...b: number[]) => new Uint8Array(b);
const PDF = new Uint8Array(Buffer.from('%PDF-1.7\n%âãÏÓ\n'));
const PNG = bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13);
const JPEG = bytes(0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46);
const GIF = new Uint8Array(Buffer.from('GIF89a....'));
const ZIP = bytes(0x50, 0x4b, 0x03, 0x04, 0x14, 0);

test.each<[string, Uint8Array, string | null]>([
  ['PDF', PDF, 'application/pdf'],
  ['PNG', PNG, 'image/png'],
  ['JPEG', JPEG, 'image/jpeg'],
  ['GIF', GIF, null],
  ['ZIP (a .docx)', ZIP, null],
  ['text', new Uint8Array(Buffer.from('%PD')), null],
  ['nothing', bytes(), null],
])('the first bytes of %s say %s', (_what, content, type) => {
  expect(sniffDocumentType(content)).toBe(type);
});

test.each<
  [
    string,
    Uint8Array,
    string | null,
    { ok: true; contentType: string } | { ok: false; status: number; message: RegExp },
  ]
>([
  ['a PDF declared as one', PDF, 'application/pdf', { ok: true, contentType: 'application/pdf' }],
  ['a PDF sent as octet-stream (curl)', PDF, 'application/octet-stream', { ok: true, contentType: 'application/pdf' }],
  ['a PDF with no declared type', PDF, null, { ok: true, contentType: 'application/pdf' }],
  ['a JPEG declared image/jpg', JPEG, 'image/jpg', { ok: true, contentType: 'image/jpeg' }],
  ['a PNG declared with parameters', PNG, 'image/png; charset=binary', { ok: true, contentType: 'image/png' }],
  [
    'a PDF declared as PNG',
    PDF,
    'image/png',
    { ok: false, status: 422, message: /declared as image\/png but its content is application\/pdf/ },
  ],
  ['a ZIP declared as PDF', ZIP, 'application/pdf', { ok: false, status: 422, message: /not a PDF, PNG or JPEG/ }],
  ['an empty file', bytes(), 'application/pdf', { ok: false, status: 422, message: /empty/ }],
  [
    'one byte over the limit',
    new Uint8Array(65).fill(0x25),
    'application/pdf',
    { ok: false, status: 413, message: /larger than 64 bytes/ },
  ],
])('%s', (_what, content, declared, expected) => {
  const r = checkDocument(content, declared, 64);
  if (expected.ok) expect(r).toEqual(expected);
  else expect(!r.ok && [r.status, r.message]).toEqual([expected.status, expect.stringMatching(expected.message)]);
});

test.each<[string | null, string]>([
  ['étiquette colissimo.pdf', 'étiquette colissimo.pdf'],
  ['C:\\Users\\sam\\label.pdf', 'label.pdf'],
  ['../../etc/passwd', 'passwd'],
  ['a"b\r\n.pdf', 'ab.pdf'],
  ['..', 'label.pdf'],
  ['', 'label.pdf'],
  [null, 'label.pdf'],
])('the stored name of %j is %j', (given, stored) => {
  expect(documentFilename(given, 'label', 'application/pdf')).toBe(stored);
});
