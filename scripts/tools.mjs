#!/usr/bin/env node
// Makes sure the local binaries Relais needs exist under .tools/, building or fetching each
// one once. Later runs find them and return in well under a second.
//   node scripts/tools.mjs            everything (dev stack and tests)
//   node scripts/tools.mjs --quiet    print only what is being installed
//   node scripts/tools.mjs --cluster  also the real Temporal server and temporal-sql-tool
//                                     (the cluster tests; bench --target cluster)
//   node scripts/tools.mjs --only schemathesis
//                                     just the fuzzer's virtualenv (touches nothing else)
// It writes .tools/paths.json (and with --cluster .tools/cluster-paths.json), which the dev stack
// and the tests read.
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
  readdirSync,
  chmodSync,
  statSync,
  cpSync,
  rmSync,
} from 'node:fs';
import { dirname, join, resolve, delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tools = join(root, '.tools');
const bin = join(tools, 'bin');
const quiet = process.argv.includes('--quiet');
const cluster = process.argv.includes('--cluster');
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex >= 0 ? process.argv[onlyIndex + 1] : undefined;

// Pinned: newer Temporal CLI tags carry a `replace` directive and cannot be built this way.
const TEMPORAL_CLI = { module: 'github.com/temporalio/cli', version: 'v1.5.1', pkg: './cmd/temporal' };
// FerretDB embeds build/version/version.txt, which its release process writes and the module
// lacks; without it the binary refuses to start. We build from a writable copy with that file.
const FERRETDB = {
  module: 'github.com/FerretDB/FerretDB',
  version: 'v1.24.2',
  pkg: './cmd/ferretdb',
  versionFile: 'build/version/version.txt',
};
// The real server and its schema tool come from one module, which also carries the PostgreSQL
// schema files (schema/postgresql/v12/{temporal,visibility}); they are copied next to the binaries.
const TEMPORAL_SERVER = { module: 'go.temporal.io/server', version: 'v1.29.1' };
const TEMPORAL_SCHEMA_DIR = join(tools, `temporal-schema-${TEMPORAL_SERVER.version}`);
const TEST_SERVER_POM = join(root, 'scripts', 'test-server', 'pom.xml');
const TEST_SERVER_DIR = join(tools, 'temporal-test-server');

// The API fuzzer (test/contract/fuzz.test.ts), from PyPI into a virtualenv of its own. Pinned:
// its checks and CLI flags change between minor versions.
const SCHEMATHESIS = { version: '4.32.5', venv: join(tools, 'venv') };

class MissingToolchain extends Error {}

const say = (msg) => {
  if (!quiet) console.log(`[tools] ${msg}`);
};
const loud = (msg) => console.log(`[tools] ${msg}`);

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

function requireCommand(name, sentence) {
  const found = onPath(name);
  if (!found) throw new MissingToolchain(sentence);
  return found;
}

/** Runs a command, echoing a progress line every few seconds (and its output lines when verbose). */
function run(cmd, args, { env, label, cwd = root }) {
  return new Promise((resolvePromise, reject) => {
    const started = Date.now();
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let tail = '';
    const onData = (chunk) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-4000);
      lines += text.split('\n').length - 1;
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const ticker = setInterval(() => {
      loud(`${label}: ${Math.round((Date.now() - started) / 1000)} s, ${lines} lines of output so far`);
    }, 10_000);
    child.on('error', (err) => {
      clearInterval(ticker);
      reject(err);
    });
    child.on('close', (code) => {
      clearInterval(ticker);
      if (code === 0) {
        loud(`${label}: done in ${Math.round((Date.now() - started) / 1000)} s`);
        resolvePromise();
      } else {
        reject(new Error(`${label} failed (exit ${code}). Last output:\n${tail}`));
      }
    });
  });
}

/**
 * Builds a Go command from its module, pinned. Same result as `go install module/cmd@version`,
 * but in two steps (`go mod download`, then `go build` inside the module): `go install @version`
 * also asks the proxy for the module's version list to check deprecation, which some proxies refuse.
 */
async function goBuild({ module, version, pkg, versionFile }, binary) {
  const target = join(bin, binary);
  if (existsSync(target)) {
    say(`${binary}: present (${target})`);
    return target;
  }
  const go = requireCommand(
    'go',
    `Go 1.22 or newer is needed to build ${binary}: install Go (https://go.dev/dl/) and run again.`,
  );
  loud(`${binary}: building ${module}@${version} with Go (first run only; a few minutes on 2 cores)`);
  let dir = goModuleDir(go, module, version);
  if (versionFile) {
    const copy = join(tools, 'build', `${binary}-${version}`);
    rmSync(copy, { recursive: true, force: true });
    cpSync(dir, copy, { recursive: true });
    spawnSync('chmod', ['-R', 'u+w', copy]);
    writeFileSync(join(copy, versionFile), `${version}\n`);
    dir = copy;
  }
  await run(go, ['build', '-trimpath', '-v', '-o', target, pkg], {
    cwd: dir,
    env: { CGO_ENABLED: '0', GOFLAGS: '-mod=readonly' },
    label: `go build ${binary}`,
  });
  if (versionFile) rmSync(dir, { recursive: true, force: true });
  return target;
}

/** Downloads a module (pinned) into Go's module cache and returns its (read-only) directory. */
function goModuleDir(go, module, version) {
  const download = spawnSync(go, ['mod', 'download', '-json', `${module}@${version}`], { encoding: 'utf8' });
  if (download.status !== 0)
    throw new Error(`go mod download ${module}@${version} failed:\n${download.stdout}${download.stderr}`);
  return JSON.parse(download.stdout).Dir;
}

/** The real Temporal server, temporal-sql-tool and the schema files they were released with. */
async function temporalServer() {
  const server = await goBuild({ ...TEMPORAL_SERVER, pkg: './cmd/server' }, 'temporal-server');
  const sqlTool = await goBuild({ ...TEMPORAL_SERVER, pkg: './cmd/tools/sql' }, 'temporal-sql-tool');
  if (!existsSync(TEMPORAL_SCHEMA_DIR)) {
    const go = requireCommand('go', 'Go is needed to fetch the Temporal schema files: install Go and run again.');
    const dir = goModuleDir(go, TEMPORAL_SERVER.module, TEMPORAL_SERVER.version);
    cpSync(join(dir, 'schema', 'postgresql'), join(TEMPORAL_SCHEMA_DIR, 'postgresql'), { recursive: true });
    spawnSync('chmod', ['-R', 'u+w', TEMPORAL_SCHEMA_DIR]);
  }
  return { server, sqlTool, schema: join(TEMPORAL_SCHEMA_DIR, 'postgresql', 'v12') };
}

/**
 * PostgreSQL, which FerretDB stores in by default (npm start, the tests) and the real Temporal
 * server uses: Debian's package (`apt-get install postgresql`) when the binaries are missing and
 * we may install (root). Returns the directory holding initdb, postgres and psql.
 */
function postgres() {
  const find = () => {
    const root = '/usr/lib/postgresql';
    if (!existsSync(root)) return undefined;
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    return versions.length ? join(root, versions[0], 'bin') : undefined;
  };
  let dir = find();
  if (dir) {
    say(`postgresql: present (${dir})`);
    return dir;
  }
  if (process.getuid?.() !== 0)
    throw new MissingToolchain(
      'PostgreSQL is needed (the embedded store and the cluster tests): install it (`sudo apt-get install -y postgresql`) and run again, or set EMBEDDED_STORE=sqlite for npm start.',
    );
  loud("postgresql: installing Debian's package with apt-get");
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let result = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'postgresql'], {
    env,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    spawnSync('apt-get', ['update', '-q'], { env, stdio: 'inherit' });
    result = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'postgresql'], {
      env,
      stdio: 'inherit',
    });
  }
  dir = find();
  if (result.status !== 0 || !dir) throw new Error('apt-get install postgresql failed (see its output above)');
  return dir;
}

async function temporalCli() {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv))
      throw new MissingToolchain(`TEMPORAL_CLI_PATH points at ${fromEnv}, which does not exist: fix it or unset it.`);
    say(`temporal: using TEMPORAL_CLI_PATH (${fromEnv})`);
    return fromEnv;
  }
  const local = join(bin, 'temporal');
  if (existsSync(local)) {
    say(`temporal: present (${local})`);
    return local;
  }
  const system = onPath('temporal');
  if (system) {
    say(`temporal: using ${system} from PATH`);
    return system;
  }
  return goBuild(TEMPORAL_CLI, 'temporal');
}

async function ferretdb() {
  if (process.env.MONGODB_URI) {
    say('ferretdb: not needed (MONGODB_URI is set)');
    return undefined;
  }
  return goBuild(FERRETDB, 'ferretdb');
}

async function testServer() {
  const wrapper = join(bin, 'temporal-test-server');
  const lib = join(TEST_SERVER_DIR, 'lib');
  const archive = join(TEST_SERVER_DIR, 'app.jsa');
  if (existsSync(wrapper) && existsSync(lib) && existsSync(archive)) {
    say(`temporal-test-server: present (${wrapper})`);
    return wrapper;
  }
  const java = requireCommand(
    'java',
    'Java 17 or newer is needed for the time-skipping test server: install a JDK (e.g. `apt-get install openjdk-17-jre-headless`) and run again.',
  );
  if (!existsSync(lib)) {
    const mvn = requireCommand(
      'mvn',
      'Maven is needed to fetch the time-skipping test server: install it (e.g. `apt-get install maven`) and run again.',
    );
    loud('temporal-test-server: fetching io.temporal:temporal-test-server and its dependencies with Maven');
    await run(
      mvn,
      [
        '-B',
        '-q',
        '-f',
        TEST_SERVER_POM,
        'dependency:copy-dependencies',
        `-DoutputDirectory=${lib}`,
        '-DincludeScope=runtime',
      ],
      { label: 'mvn dependency:copy-dependencies' },
    );
  }
  mkdirSync(bin, { recursive: true });
  // exec, so that the SDK's teardown (which kills its direct child) ends the JVM itself.
  // C1 only, serial GC and a class-data-sharing archive: the SDK waits only 5 s for it to answer.
  writeFileSync(
    wrapper,
    [
      '#!/bin/sh',
      'D="$(cd "$(dirname "$0")/../temporal-test-server" && pwd)"',
      'exec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xss512k -Xshare:auto -XX:SharedArchiveFile="$D/app.jsa" -cp "$D/lib/*" io.temporal.testserver.TestServer "$@"',
      '',
    ].join('\n'),
  );
  chmodSync(wrapper, 0o755);
  if (!existsSync(archive)) {
    loud('temporal-test-server: recording a class-data-sharing archive (one start of the server)');
    await recordClassArchive(java, lib, archive);
  }
  return wrapper;
}

/** Starts the test server once with -XX:ArchiveClassesAtExit so later starts load classes from the archive. */
async function recordClassArchive(java, lib, archive) {
  const port = 17000 + Math.floor(Math.random() * 2000);
  const child = spawn(
    java,
    [
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      `-XX:ArchiveClassesAtExit=${archive}`,
      '-cp',
      `${lib}/*`,
      'io.temporal.testserver.TestServer',
      String(port),
    ],
    { stdio: 'ignore' },
  );
  const { createConnection } = await import('node:net');
  const deadline = Date.now() + 60_000;
  for (;;) {
    const open = await new Promise((r) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (open) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('the test server did not open its port within 60 s');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 1000));
  await new Promise((r) => {
    child.on('close', r);
    child.kill('SIGTERM');
  });
  if (!existsSync(archive)) loud('temporal-test-server: no archive was written; starts will be slower but work');
}

/**
 * Debian's Chromium, for the browser tests of the operator pages (playwright-core drives it).
 * Installed with apt-get when missing (as root, or through sudo); present, it costs a stat.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
async function chromium() {
  if (existsSync(CHROMIUM)) {
    say(`chromium: present (${CHROMIUM})`);
    return CHROMIUM;
  }
  const aptGet = requireCommand(
    'apt-get',
    `Chromium is needed for the browser tests and ${CHROMIUM} is missing: install Debian's chromium package (or set CHROMIUM_PATH) and run again.`,
  );
  const root = process.getuid?.() === 0;
  const sudo = root ? undefined : onPath('sudo');
  if (!root && !sudo)
    throw new MissingToolchain(
      `Chromium is needed for the browser tests: run \`apt-get install chromium\` as root (or set CHROMIUM_PATH) and run again.`,
    );
  const asRoot = (args) => (root ? [aptGet, args] : [sudo, ['-n', aptGet, ...args]]);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  loud("chromium: installing Debian's chromium package with apt-get (first run only)");
  await run(...asRoot(['update']), { env, label: 'apt-get update' });
  await run(...asRoot(['install', '-y', 'chromium']), { env, label: 'apt-get install chromium' });
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is still missing`);
  return CHROMIUM;
}

/** schemathesis in .tools/venv, installed with pip once; present at the pinned version, it costs a stat. */
async function schemathesis() {
  const exe = join(SCHEMATHESIS.venv, 'bin', 'schemathesis');
  const marker = join(SCHEMATHESIS.venv, `.schemathesis-${SCHEMATHESIS.version}`);
  // A virtualenv names its own path in its scripts: one created elsewhere (a moved checkout) is made again.
  const interpreter = existsSync(exe) ? /^#!(\S+)/.exec(readFileSync(exe, 'utf8'))?.[1] : undefined;
  if (existsSync(exe) && existsSync(marker) && interpreter && existsSync(interpreter)) {
    say(`schemathesis: present (${exe})`);
    return exe;
  }
  if (existsSync(SCHEMATHESIS.venv)) rmSync(SCHEMATHESIS.venv, { recursive: true, force: true });
  const python = requireCommand(
    'python3',
    "Python 3.10 or newer (with its venv module, Debian's python3-venv) is needed for the API fuzzer: install it and run again.",
  );
  loud(`schemathesis: installing ${SCHEMATHESIS.version} from PyPI into ${SCHEMATHESIS.venv} (first run only)`);
  if (!existsSync(join(SCHEMATHESIS.venv, 'bin', 'pip')))
    await run(python, ['-m', 'venv', SCHEMATHESIS.venv], { label: 'python3 -m venv' });
  await run(
    join(SCHEMATHESIS.venv, 'bin', 'pip'),
    ['install', '--disable-pip-version-check', '-q', `schemathesis==${SCHEMATHESIS.version}`],
    { label: `pip install schemathesis==${SCHEMATHESIS.version}` },
  );
  writeFileSync(marker, `${SCHEMATHESIS.version}\n`);
  return exe;
}

async function main() {
  mkdirSync(bin, { recursive: true });
  const started = Date.now();
  if (only === 'schemathesis') {
    await schemathesis();
    say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return;
  }
  if (only) throw new MissingToolchain(`--only knows only "schemathesis" (got ${JSON.stringify(only)})`);
  const paths = {
    temporal: await temporalCli(),
    ferretdb: await ferretdb(),
    temporalTestServer: await testServer(),
    chromium: await chromium(),
    schemathesis: await schemathesis(),
    // Not needed when npm start is told to keep FerretDB on SQLite (and no cluster is wanted).
    postgresBin: cluster || process.env.EMBEDDED_STORE !== 'sqlite' ? postgres() : undefined,
  };
  if (cluster) {
    // A file of its own, so that a plain run never forgets what this one found.
    const built = await temporalServer();
    const clusterPaths = {
      temporalServer: built.server,
      temporalSqlTool: built.sqlTool,
      temporalSchema: built.schema,
      postgresBin: paths.postgresBin,
    };
    writeFileSync(join(tools, 'cluster-paths.json'), JSON.stringify(clusterPaths, null, 2) + '\n');
  }
  writeFileSync(join(tools, 'paths.json'), JSON.stringify(paths, null, 2) + '\n');
  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err) => {
  if (err instanceof MissingToolchain) {
    console.error(`[tools] ${err.message}`);
  } else {
    console.error(`[tools] ${err.message ?? err}`);
  }
  process.exit(1);
});
