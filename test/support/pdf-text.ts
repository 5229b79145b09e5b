// The text of a PDF, as a reader's copy-paste would give it: pdf-parse (Mozilla's PDF.js) run by its
// own command line, since it loads its worker as an ES module, which this Jest set-up cannot.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const CLI = resolve(dirname(require.resolve('pdf-parse')), '../../../bin/cli.mjs');

export function pdfText(pdf: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'relais-pdf-'));
  try {
    const file = join(dir, 'document.pdf');
    writeFileSync(file, pdf);
    return execFileSync(process.execPath, [CLI, 'text', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
