// The import-cycle check `npm test` runs (npm run cycles: dependency-cruiser with
// .dependency-cruiser.cjs) fails on a circle of runtime imports and lets a circle of types alone
// through (issue 19), on files written for it; `npm run cycles` runs it on src.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const depcruise = join(root, 'node_modules/.bin/depcruise');

function cruise(folder: string): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    execFile(
      depcruise,
      [folder, '--config', join(root, '.dependency-cruiser.cjs')],
      { cwd: root },
      (err, stdout, stderr) => {
        done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: `${stdout}${stderr}` });
      },
    );
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relais-cycles-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a circle of runtime imports fails the check, naming its files; a circle of types alone does not', async () => {
  await writeFile(join(dir, 'a.ts'), "import { b } from './b';\nexport const a = () => b;\n");
  await writeFile(join(dir, 'b.ts'), "import { a } from './a';\nexport const b = () => a;\n");
  await writeFile(join(dir, 'c.ts'), "import type { D } from './d';\nexport interface C { d?: D }\n");
  await writeFile(join(dir, 'd.ts'), "import type { C } from './c';\nexport interface D { c?: C }\n");
  const { code, output } = await cruise(dir);
  expect(code).not.toBe(0);
  expect(output).toMatch(/no-circular/);
  expect(output).toMatch(/a\.ts/);
  expect(output).not.toMatch(/[cd]\.ts/);

  // The same files without the runtime circle pass.
  await writeFile(join(dir, 'b.ts'), 'export const b = () => 1;\n');
  expect((await cruise(dir)).code).toBe(0);
});
