// docs/rules.md is the project's own statement of its rules: every rule id the code, the tests,
// the templates or the docs cite must have its section there, and every test it names must
// still exist under that name. Nothing here starts a server.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const RULES = join(ROOT, 'docs', 'rules.md');
const doc = readFileSync(RULES, 'utf8');

/** The rule ids of the project, D1–D11, O1–O10, L1–L4, N1–N4. */
const FAMILIES: Record<string, number> = { D: 11, O: 10, L: 4, N: 4 };
const ALL_IDS = Object.entries(FAMILIES).flatMap(([family, count]) =>
  Array.from({ length: count }, (_, i) => `${family}${i + 1}`),
);

/** Each `### <id>` section of docs/rules.md, with its text. */
const sections = new Map(
  doc
    .split(/^### /m)
    .slice(1)
    .map((chunk) => {
      const [heading, ...body] = chunk.split('\n');
      return [heading.trim(), body.join('\n')] as const;
    }),
);

/** Files that can cite a rule: code, tests, views, templates, docs. Test artifacts (screenshots) are not sources. */
const TEXT = new Set(['.ts', '.js', '.mjs', '.hbs', '.css', '.json', '.md', '.toml', '.yaml', '.yml']);
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'artifacts' || name === 'node_modules' ? [] : sources(path);
    return TEXT.has(extname(name)) ? [path] : [];
  });
}

/** The rule ids a text cites: each `D4`, and every id inside a range such as `D3–D7` or `O1-O8`. */
function citedIds(text: string): string[] {
  const ids = new Set<string>();
  for (const m of text.matchAll(/\b([DOLN])(\d{1,2})\b(?:\s*[–-]\s*\1?(\d{1,2})\b)?/g)) {
    const [from, to] = [Number(m[2]), m[3] === undefined ? Number(m[2]) : Number(m[3])];
    for (let n = from; n <= Math.max(from, to); n += 1) ids.add(`${m[1]}${n}`);
  }
  return [...ids];
}

/** The tests docs/rules.md names: `- \`test/….test.ts\`: “name”`, `…` standing for a part the test builds. */
const named = [...doc.matchAll(/^- `(test\/[^`]+\.test\.ts)`: “([^”]+)”/gm)].map((m) => ({
  file: m[1],
  name: m[2],
  at: m.index!,
}));

test('citedIds reads single ids and ranges, and nothing else', () => {
  expect(citedIds('rule D4; rules D3–D7 (L1-L3), O10 and O1–O8')).toEqual([
    'D4',
    'D3',
    'D5',
    'D6',
    'D7',
    'L1',
    'L2',
    'L3',
    'O10',
    'O1',
    'O2',
    'O3',
    'O4',
    'O5',
    'O6',
    'O7',
    'O8',
  ]);
  expect(citedIds('E164, T0, +33612345678, D12x, XD4, sha256, PT30M, 2026-03-01')).toEqual([]);
});

test('docs/rules.md has one section per rule id, each naming the tests that check it', () => {
  expect([...sections.keys()].sort()).toEqual([...ALL_IDS].sort());
  for (const [id, body] of sections) {
    expect({ id, tests: /^- `test\//m.test(body) }).toEqual({ id, tests: true });
  }
});

test('every rule id cited in src/, test/, templates/, docs/ and the README has its section in docs/rules.md', () => {
  const files = [
    ...['src', 'test', 'templates', 'docs'].flatMap((d) => sources(join(ROOT, d))),
    join(ROOT, 'README.md'),
  ];
  expect(files.length).toBeGreaterThan(100);
  const missing = files.flatMap((file) =>
    citedIds(readFileSync(file, 'utf8'))
      .filter((id) => !sections.has(id))
      .map((id) => `${relative(ROOT, file)}: ${id}`),
  );
  expect(missing).toEqual([]);
});

test('every test docs/rules.md names exists, under that name', () => {
  expect(named.length).toBeGreaterThan(80);
  for (const { file, name } of named) {
    const path = join(ROOT, file);
    expect({ file, exists: existsSync(path) }).toEqual({ file, exists: true });
    // A test's name as its source writes it (quotes unescaped), on one line; `…` matches anything.
    const lines = readFileSync(path, 'utf8')
      .replace(/\\(['"`])/g, '$1')
      .split('\n');
    const parts = name
      .split('…')
      .map((p) => p.trim())
      .filter(Boolean);
    const found = lines.some((line) => {
      let from = 0;
      return parts.every((part) => {
        const i = line.indexOf(part, from);
        from = i + part.length;
        return i >= 0;
      });
    });
    expect({ file, name, found }).toEqual({ file, name, found: true });
  }
});

test('the README and the architecture notes link to docs/rules.md', () => {
  expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('](docs/rules.md)');
  expect(readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8')).toContain('](rules.md)');
});
