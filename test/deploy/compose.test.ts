// The container stack, checked structurally: no Docker engine runs in CI, so docker-compose.yml,
// the Dockerfile and .dockerignore are parsed and held against the code they deploy (src/config.ts,
// the entry points, tsconfig.json, package.json). Each check names a concrete value, so a wrong
// edit fails here rather than on someone's server.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, posix, resolve } from 'node:path';
import ts from 'typescript';
import { parse } from 'yaml';
import { configSchema, loadConfig } from '../../src/config';

const ROOT = resolve(__dirname, '..', '..');
const read = (rel: string) => readFileSync(join(ROOT, rel), 'utf8');

// ---------- docker-compose.yml ----------

interface Healthcheck {
  test?: string | string[];
  disable?: boolean;
  interval?: string;
  retries?: number;
}
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: (string | { target: number; published?: string | number; host_ip?: string })[];
  volumes?: (string | { type?: string; source?: string; target: string })[];
  healthcheck?: Healthcheck;
  restart?: string;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as Compose;
const services = compose.services;
const RELAIS = ['worker', 'api'] as const;

function dependsOn(s: Service): Record<string, string | undefined> {
  if (!s.depends_on) return {};
  if (Array.isArray(s.depends_on)) return Object.fromEntries(s.depends_on.map((d) => [d, undefined]));
  return Object.fromEntries(Object.entries(s.depends_on).map(([d, v]) => [d, v?.condition]));
}

function healthTest(s: Service): string {
  const t = s.healthcheck?.test;
  return Array.isArray(t) ? t.join(' ') : (t ?? '');
}

function commandArgs(s: Service): string[] {
  if (Array.isArray(s.command)) return s.command.map(String);
  return s.command ? s.command.split(/\s+/) : [];
}

/** Published ports as { host, container } (short "[ip:]host:container" or long syntax). */
function ports(s: Service): { host: number; container: number; ip?: string }[] {
  return (s.ports ?? []).map((p) => {
    if (typeof p === 'object') return { host: Number(p.published), container: p.target, ip: p.host_ip };
    const parts = String(p).split(':');
    const container = Number(parts.pop());
    const host = Number(parts.pop());
    return { host, container, ip: parts[0] };
  });
}

/** Named volumes a service mounts (sources that are not paths). */
function namedVolumes(s: Service): { source: string; target: string }[] {
  return (s.volumes ?? []).flatMap((v) => {
    const [source, target] = typeof v === 'string' ? v.split(':') : [v.source ?? '', v.target];
    return source && !/^[./~]/.test(source) ? [{ source, target }] : [];
  });
}

function bindMounts(s: Service): { source: string; target: string }[] {
  return (s.volumes ?? []).flatMap((v) => {
    const [source, target] = typeof v === 'string' ? v.split(':') : [v.source ?? '', v.target];
    return /^\.\.?\//.test(source) ? [{ source, target }] : [];
  });
}

/**
 * What a container's environment becomes, as docker compose computes it: `${VAR}`, `${VAR:-x}`,
 * `${VAR-x}`, `${VAR:?msg}`, `${VAR?msg}`, `$$`, and value-less entries passed through from the
 * operator's environment (unset there = unset in the container).
 */
function containerEnv(
  s: Service,
  operator: Record<string, string>,
): { env: Record<string, string>; refused: string[] } {
  const refused: string[] = [];
  const entries: [string, string | null][] = Array.isArray(s.environment)
    ? s.environment.map((e) => {
        const i = e.indexOf('=');
        return i < 0 ? [e, null] : [e.slice(0, i), e.slice(i + 1)];
      })
    : Object.entries(s.environment ?? {}).map(([k, v]) => [k, v === null ? null : String(v)]);
  const env: Record<string, string> = {};
  for (const [key, raw] of entries) {
    if (raw === null) {
      if (key in operator) env[key] = operator[key];
      continue;
    }
    env[key] = raw.replace(
      /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (whole, name?: string, colon?: string, op?: string, arg?: string, bare?: string) => {
        if (whole === '$$') return '$';
        const n = (name ?? bare)!;
        const value = operator[n];
        const unset = value === undefined || (colon === ':' && value === '');
        if (op === '-') return unset ? (arg ?? '') : value!;
        if (op === '?') {
          if (unset) refused.push(n);
          return value ?? '';
        }
        return value ?? '';
      },
    );
  }
  return { env, refused };
}

const LINK_SECRET = 'k'.repeat(40);
/** The least an operator sets (deploy/env.example): LINK_SECRET. */
const MINIMAL_OPERATOR = { LINK_SECRET };

/** Settings the processes refuse to start without (`if (!config.X) throw` in their main()). */
function settingsTheProcessRequires(entry: string): string[] {
  return [...read(entry).matchAll(/if \(!config\.([A-Z0-9_]+)\)\s*throw/g)].map((m) => m[1]);
}

describe('docker-compose.yml', () => {
  test("has the stack's services", () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['postgresql', 'temporal', 'temporal-ui', 'mongo', 'worker', 'api']),
    );
  });

  test('pins every image it pulls (no latest, a version in the tag)', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.build) continue;
      expect({ name, image: s.image }).toEqual({
        name,
        image: expect.stringMatching(/^[a-z0-9./-]+:[A-Za-z0-9._-]*\d[A-Za-z0-9._-]*$/),
      });
      expect(s.image!.split(':').pop()).not.toBe('latest');
    }
    expect(services.postgresql.image).toMatch(/^postgres:16[.-]/);
    expect(services.temporal.image).toMatch(/^temporalio\/auto-setup:1\.29\.\d+$/);
    expect(services['temporal-ui'].image).toMatch(/^temporalio\/ui:\d+\.\d+\.\d+$/);
    expect(services.mongo.image).toMatch(/^mongo:8[.-]/);
  });

  test('worker and api are one image built from ./Dockerfile, with different commands', () => {
    const [worker, api] = [services.worker, services.api];
    for (const s of [worker, api]) {
      const build = typeof s.build === 'string' ? { context: s.build } : s.build!;
      expect(build.context).toBe('.');
      expect(build.dockerfile ?? 'Dockerfile').toBe('Dockerfile');
      expect(existsSync(join(ROOT, 'Dockerfile'))).toBe(true);
      expect(s.image).toMatch(/^relais:/);
      expect(s.image).not.toMatch(/:latest$/);
    }
    expect(worker.image).toBe(api.image);
    expect(commandArgs(worker)).toEqual(['node', 'dist/src/worker.js']);
    expect(commandArgs(api)).toEqual(['node', 'dist/src/api/main.js']);
  });

  test('every depends_on target exists, and has a live healthcheck when service_healthy is awaited', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [target, condition] of Object.entries(dependsOn(s))) {
        expect({ name, target, exists: target in services }).toEqual({ name, target, exists: true });
        if (condition === 'service_healthy') {
          expect({ target, disabled: services[target].healthcheck?.disable ?? false }).toEqual({
            target,
            disabled: false,
          });
          expect({ target, test: healthTest(services[target]) }).toEqual({ target, test: expect.stringMatching(/\S/) });
        }
      }
    }
    expect(dependsOn(services.temporal)).toEqual({ postgresql: 'service_healthy' });
    expect(dependsOn(services['temporal-ui'])).toEqual({ temporal: 'service_healthy' });
    for (const name of RELAIS)
      expect(dependsOn(services[name])).toEqual({ temporal: 'service_healthy', mongo: 'service_healthy' });
  });

  test("healthchecks: PostgreSQL, Temporal (cluster and namespace), MongoDB, the API's /readyz, the worker's /healthz", () => {
    expect(healthTest(services.postgresql)).toContain('pg_isready');
    expect(healthTest(services.temporal)).toContain('temporal operator cluster health --address temporal:7233');
    expect(healthTest(services.temporal)).toMatch(
      /temporal operator namespace describe --namespace "\$\$DEFAULT_NAMESPACE"/,
    );
    expect(healthTest(services.mongo)).toContain('mongosh');
    expect(healthTest(services.api)).toContain(
      `http://127.0.0.1:${containerEnv(services.api, MINIMAL_OPERATOR).env.API_PORT}/readyz`,
    );
    // The worker's probe is its own HTTP port (src/worker-runtime.ts), the default of WORKER_HTTP_PORT.
    const workerEnv = containerEnv(services.worker, MINIMAL_OPERATOR).env;
    expect(healthTest(services.worker)).toContain(`http://127.0.0.1:${loadConfig(workerEnv).WORKER_HTTP_PORT}/healthz`);
  });

  test('publishes the API on 3000 and the Temporal UI on 8080', () => {
    expect(ports(services.api)).toEqual([{ host: 3000, container: 3000, ip: undefined }]);
    expect(ports(services['temporal-ui'])).toEqual([expect.objectContaining({ host: 8080, container: 8080 })]);
    expect(ports(services.api)[0].container).toBe(Number(containerEnv(services.api, MINIMAL_OPERATOR).env.API_PORT));
    // Unauthenticated consoles and databases are not published beyond loopback.
    for (const name of ['temporal-ui', 'temporal', 'postgresql', 'mongo']) {
      for (const p of ports(services[name])) expect({ name, ip: p.ip }).toEqual({ name, ip: '127.0.0.1' });
    }
  });

  test('restarts every service unless stopped', () => {
    for (const [name, s] of Object.entries(services))
      expect({ name, restart: s.restart }).toEqual({ name, restart: 'unless-stopped' });
  });

  test('MongoDB runs as replica set rs0, initiated with the host name the apps use, and MONGODB_URI names it', () => {
    const args = commandArgs(services.mongo);
    const replSet = args[args.indexOf('--replSet') + 1];
    expect(replSet).toBe('rs0');
    const health = healthTest(services.mongo);
    expect(health).toContain(`rs.initiate({_id:'${replSet}',members:[{_id:0,host:'mongo:27017'}]})`);
    expect(health).toContain('rs.status()');
    for (const name of RELAIS) {
      const uri = new URL(containerEnv(services[name], MINIMAL_OPERATOR).env.MONGODB_URI);
      expect(uri.protocol).toBe('mongodb:');
      expect(uri.host).toBe('mongo:27017');
      expect(uri.host.split(':')[0] in services).toBe(true);
      expect(uri.searchParams.get('replicaSet')).toBe(replSet);
      expect(uri.pathname).toBe('/relais');
    }
  });

  test('declares the named volumes that hold data, and mounts only files that exist', () => {
    const declared = Object.keys(compose.volumes ?? {});
    const used = Object.values(services).flatMap((s) => namedVolumes(s).map((v) => v.source));
    expect([...new Set(used)].sort()).toEqual([...declared].sort());
    expect(namedVolumes(services.postgresql)).toContainEqual({
      source: 'postgresql-data',
      target: '/var/lib/postgresql/data',
    });
    expect(namedVolumes(services.mongo)).toContainEqual({ source: 'mongo-data', target: '/data/db' });
    for (const [name, s] of Object.entries(services)) {
      for (const m of bindMounts(s))
        expect({ name, source: m.source, exists: existsSync(join(ROOT, m.source)) }).toEqual({
          name,
          source: m.source,
          exists: true,
        });
    }
  });

  test('Temporal reads a dynamic config file that exists in deploy/ and is valid', () => {
    const t = services.temporal;
    const env = containerEnv(t, MINIMAL_OPERATOR).env;
    expect(env).toMatchObject({
      DB: 'postgres12',
      POSTGRES_SEEDS: 'postgresql',
      DB_PORT: '5432',
      TEMPORAL_ADDRESS: 'temporal:7233',
    });
    expect(env.POSTGRES_USER).toBe(containerEnv(services.postgresql, MINIMAL_OPERATOR).env.POSTGRES_USER);
    expect(env.POSTGRES_PWD).toBe(containerEnv(services.postgresql, MINIMAL_OPERATOR).env.POSTGRES_PASSWORD);
    // The namespace auto-setup creates is the one the worker and api use.
    expect(env.DEFAULT_NAMESPACE).toBe('default');
    expect(env.DEFAULT_NAMESPACE).toBe(containerEnv(services.worker, MINIMAL_OPERATOR).env.TEMPORAL_NAMESPACE);
    const shop = { ...MINIMAL_OPERATOR, TEMPORAL_NAMESPACE: 'shop' };
    expect(containerEnv(t, shop).env.DEFAULT_NAMESPACE).toBe('shop');
    expect(containerEnv(services.worker, shop).env.TEMPORAL_NAMESPACE).toBe('shop');
    expect(containerEnv(services['temporal-ui'], shop).env.TEMPORAL_DEFAULT_NAMESPACE).toBe('shop');
    // DYNAMIC_CONFIG_FILE_PATH is relative to /etc/temporal in the image.
    const inContainer = posix.join('/etc/temporal', env.DYNAMIC_CONFIG_FILE_PATH);
    const mount = bindMounts(t).find((m) => inContainer.startsWith(`${m.target}/`));
    expect(mount).toBeDefined();
    const onHost = join(ROOT, mount!.source, posix.relative(mount!.target, inContainer));
    expect(existsSync(onHost)).toBe(true);
    const dynamic = parse(readFileSync(onHost, 'utf8')) as Record<string, { value: unknown; constraints?: object }[]>;
    expect(dynamic['limit.maxIDLength']).toEqual([{ value: 255, constraints: {} }]);
    for (const [key, entries] of Object.entries(dynamic)) {
      expect({ key, shape: Array.isArray(entries) && entries.every((e) => 'value' in e) }).toEqual({
        key,
        shape: true,
      });
    }
  });

  describe.each(RELAIS)('%s environment', (name) => {
    const s = services[name];

    test('parses with src/config.ts for an operator who set only LINK_SECRET, with the container values', () => {
      const { env, refused } = containerEnv(s, MINIMAL_OPERATOR);
      expect(refused).toEqual([]);
      const parsed = configSchema.safeParse(env);
      expect(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([]);
      expect(env).toMatchObject({
        HOST: '0.0.0.0',
        API_PORT: '3000',
        TEMPORAL_ADDRESS: 'temporal:7233',
        TEMPORAL_NAMESPACE: 'default',
        TEMPORAL_TASK_QUEUE: 'relais',
        PUBLIC_BASE_URL: 'http://localhost:3000',
        LINK_SECRET,
      });
      // No value collapses to an empty string: config.ts rejects "" for every optional setting.
      for (const [key, value] of Object.entries(env)) expect({ key, value }).not.toEqual({ key, value: '' });
    });

    test('gives every setting a container needs, and the ones its process refuses to start without', () => {
      const { env } = containerEnv(s, MINIMAL_OPERATOR);
      const needed = [
        'HOST',
        'API_PORT',
        'TEMPORAL_ADDRESS',
        'TEMPORAL_NAMESPACE',
        'TEMPORAL_TASK_QUEUE',
        'MONGODB_URI',
        'PUBLIC_BASE_URL',
        'LINK_SECRET',
      ];
      const entry = name === 'worker' ? 'src/worker.ts' : 'src/api/main.ts';
      const required = settingsTheProcessRequires(entry);
      expect(required).toEqual(
        expect.arrayContaining(name === 'worker' ? ['MONGODB_URI', 'LINK_SECRET'] : ['MONGODB_URI']),
      );
      for (const key of [...needed, ...required]) expect({ key, set: Boolean(env[key]) }).toEqual({ key, set: true });
      // TEMPORAL_ADDRESS points at the temporal service on the frontend port.
      const [host, port] = env.TEMPORAL_ADDRESS.split(':');
      expect(host in services).toBe(true);
      expect(port).toBe('7233');
      // The public URL is an origin: webhook signatures are checked against it + the request path.
      expect(new URL(env.PUBLIC_BASE_URL).pathname).toBe('/');
    });

    test('refuses to start without LINK_SECRET rather than run with none', () => {
      expect(containerEnv(s, {}).refused).toEqual(['LINK_SECRET']);
    });

    test('passes provider credentials through when set, and still parses', () => {
      const creds = {
        SENDGRID_API_KEY: 'SG.test',
        SENDGRID_WEBHOOK_PUBLIC_KEY: 'MFkwEw',
        TWILIO_ACCOUNT_SID: 'AC123',
        TWILIO_AUTH_TOKEN: 'token',
        TWILIO_SMS_FROM: '+33700000000',
        TWILIO_WHATSAPP_FROM: 'whatsapp:+33700000000',
        SMTP_URL: 'smtps://u:p@mail.example.com:465',
      };
      const { env } = containerEnv(s, { ...MINIMAL_OPERATOR, ...creds, PUBLIC_BASE_URL: 'https://relais.example.com' });
      expect(env).toMatchObject({ ...creds, PUBLIC_BASE_URL: 'https://relais.example.com' });
      expect(configSchema.safeParse(env).success).toBe(true);
      // Unset credentials stay unset (that provider is off), never "".
      expect(Object.keys(containerEnv(s, MINIMAL_OPERATOR).env)).not.toContain('SENDGRID_API_KEY');
    });

    test('sets only variables src/config.ts knows (a typo would be silently ignored)', () => {
      const known = new Set([...Object.keys(configSchema.shape), 'NODE_ENV']);
      const keys = Object.keys(containerEnv(s, MINIMAL_OPERATOR).env);
      expect(keys.filter((k) => !known.has(k))).toEqual([]);
    });
  });

  test('worker and api read the same settings', () => {
    expect(containerEnv(services.worker, MINIMAL_OPERATOR).env).toEqual(
      containerEnv(services.api, MINIMAL_OPERATOR).env,
    );
  });
});

// ---------- Dockerfile ----------

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

function dockerfileStages(text: string): Stage[] {
  const logical: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line) && current === '') continue;
    if (/^\s*#/.test(line)) continue; // comment lines inside a continuation are dropped
    if (line.trimEnd().endsWith('\\')) {
      current += `${line.trimEnd().slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim()) logical.push(current.trim());
    current = '';
  }
  const stages: Stage[] = [];
  for (const l of logical) {
    const m = /^(\S+)\s*(.*)$/.exec(l)!;
    const op = m[1].toUpperCase();
    const args = m[2];
    if (op === 'FROM') {
      const f = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)!;
      stages.push({ from: f[1], name: f[2], instructions: [] });
    } else if (stages.length) {
      stages[stages.length - 1].instructions.push({ op, args });
    }
  }
  return stages;
}

const stages = dockerfileStages(read('Dockerfile'));
const buildStage = stages.find((s) => s.name === 'build')!;
const runtime = stages[stages.length - 1];
const runs = (s: Stage) => s.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
const workdir = (s: Stage) =>
  s.instructions
    .filter((i) => i.op === 'WORKDIR')
    .map((i) => i.args)
    .pop() ?? '/';
/** COPY instructions as { from, sources, dest } with dest made absolute against the stage's WORKDIR. */
function copies(s: Stage): { from?: string; sources: string[]; dest: string }[] {
  let wd = '/';
  const out: { from?: string; sources: string[]; dest: string }[] = [];
  for (const i of s.instructions) {
    if (i.op === 'WORKDIR') wd = posix.resolve(wd, i.args);
    if (i.op !== 'COPY') continue;
    const words = i.args.split(/\s+/);
    const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
    const paths = words.filter((w) => !w.startsWith('--'));
    const dest = paths.pop()!;
    out.push({ from, sources: paths, dest: posix.resolve(wd, dest) });
  }
  return out;
}
function execForm(args: string): string[] {
  return JSON.parse(args.replace(/^(?:--\S+\s+)*CMD\s+/, '')) as string[];
}

const tsconfig = JSON.parse(read('tsconfig.json')) as { compilerOptions: { outDir: string; rootDir: string } };

/** The source file tsc compiles to a given path under outDir (dist/src/x.js ← src/x.ts). */
function sourceOf(compiled: string): string {
  const out = tsconfig.compilerOptions.outDir.replace(/\/$/, '');
  expect(compiled.startsWith(`${out}/`)).toBe(true);
  return posix.join(tsconfig.compilerOptions.rootDir, compiled.slice(out.length + 1)).replace(/\.js$/, '.ts');
}

describe('Dockerfile', () => {
  test('two stages on node:20-bookworm-slim: build, then the runtime', () => {
    expect(stages.map((s) => [s.from, s.name])).toEqual([
      ['node:20-bookworm-slim', 'build'],
      ['node:20-bookworm-slim', 'runtime'],
    ]);
  });

  test('build stage: npm ci with dev dependencies, then tsc -p . into dist/ (rootDir ".")', () => {
    expect(runs(buildStage).some((r) => /\bnpm ci\b/.test(r) && !r.includes('--omit=dev'))).toBe(true);
    expect(runs(buildStage).some((r) => /\btsc -p \.(\s|$)/.test(r))).toBe(true);
    expect(tsconfig.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: '.' });
    const sources = copies(buildStage).flatMap((c) => c.sources);
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'tsconfig.json', 'src']));
  });

  test('runtime stage: production dependencies only, compiled code, templates where the code reads them', () => {
    expect(runs(runtime).some((r) => /\bnpm ci\b/.test(r) && r.includes('--omit=dev'))).toBe(true);
    expect(runs(runtime).some((r) => /\btsc\b/.test(r))).toBe(false);
    const wd = workdir(runtime);
    const fromBuild = copies(runtime).filter((c) => c.from === 'build');
    expect(fromBuild).toContainEqual({
      from: 'build',
      sources: [posix.join(workdir(buildStage), 'dist/src')],
      dest: posix.join(wd, 'dist/src'),
    });
    // src/templates.ts: DEFAULT_TEMPLATE_DIR = resolve(__dirname, '..', 'templates'); compiled, __dirname is dist/src.
    expect(read('src/templates.ts')).toContain("resolve(__dirname, '..', 'templates')");
    const templateDir = posix.resolve(wd, 'dist/src', '..', 'templates');
    expect(copies(runtime)).toContainEqual({ from: undefined, sources: ['templates'], dest: templateDir });
    expect(statSync(join(ROOT, 'templates')).isDirectory()).toBe(true);
    // src/ui/render.ts reads its views and assets next to itself (join(__dirname, 'views'|'assets')).
    expect(read('src/ui/render.ts')).toMatch(/join\(__dirname, 'views'\)/);
    expect(read('src/ui/render.ts')).toMatch(/join\(__dirname, 'assets', /);
    for (const dir of ['views', 'assets']) {
      expect(copies(runtime)).toContainEqual({
        from: undefined,
        sources: [`src/ui/${dir}`],
        dest: posix.join(wd, 'dist/src/ui', dir),
      });
    }
  });

  test('runs as a non-root user', () => {
    const users = runtime.instructions.filter((i) => i.op === 'USER').map((i) => i.args.split(':')[0]);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0']).not.toContain(users[users.length - 1]);
    expect(users[users.length - 1]).toBe('node'); // the user node:*-slim images ship
  });

  test("HEALTHCHECK probes the API's /healthz on API_PORT; default command is the API", () => {
    const health = runtime.instructions.filter((i) => i.op === 'HEALTHCHECK');
    expect(health).toHaveLength(1);
    expect(health[0].args).toMatch(/--interval=\S+/);
    expect(execForm(health[0].args).join(' ')).toContain("process.env.API_PORT || 3000) + '/healthz'");
    const cmd = runtime.instructions
      .filter((i) => i.op === 'CMD')
      .map((i) => JSON.parse(i.args) as string[])
      .pop();
    expect(cmd).toEqual(commandArgs(services.api));
    expect(runtime.instructions.find((i) => i.op === 'ENV')?.args).toMatch(/HOST=0\.0\.0\.0/);
  });

  test('the commands compose runs point at files the build produces', () => {
    for (const name of RELAIS) {
      const [node, entry] = commandArgs(services[name]);
      expect(node).toBe('node');
      const source = sourceOf(entry);
      expect({ name, source, exists: existsSync(join(ROOT, source)) }).toEqual({ name, source, exists: true });
      expect(entry.startsWith('dist/src/')).toBe(true); // inside what the runtime copies from the build stage
    }
    // The worker bundles its workflows from <dist/src>/workflows (index.js, compiled from src/workflows/index.ts).
    expect(read('src/worker.ts')).toMatch(/WORKFLOWS_PATH = join\(__dirname, 'workflows'\)/);
    expect(existsSync(join(ROOT, 'src/workflows/index.ts'))).toBe(true);
  });
});

// ---------- .dockerignore ----------

describe('.dockerignore', () => {
  const patterns = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const toRegex = (p: string) =>
    new RegExp(
      `^${p
        .replace(/^\//, '')
        .replace(/\/$/, '')
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')}(/.*)?$`,
    );
  const ignored = (path: string) =>
    patterns.reduce(
      (acc, p) =>
        p.startsWith('!') ? (toRegex(p.slice(1)).test(path) ? false : acc) : toRegex(p).test(path) ? true : acc,
      false,
    );

  test('keeps what the build copies', () => {
    for (const path of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'src',
      'src/worker.ts',
      'src/workflows/index.ts',
      'templates',
    ]) {
      expect({ path, ignored: ignored(path) }).toEqual({ path, ignored: false });
    }
  });

  test('leaves out dependencies, build output, local state and secrets', () => {
    for (const path of [
      'node_modules',
      '.git',
      'dist',
      '.data',
      '.tools',
      '.env',
      '.env.production',
      'test',
      'npm-debug.log',
    ]) {
      expect({ path, ignored: ignored(path) }).toEqual({ path, ignored: true });
    }
  });
});

// ---------- production dependencies suffice ----------

test('every package src/ loads at run time is a production dependency (the image installs --omit=dev)', () => {
  const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const rel = posix.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (rel.endsWith('.ts') && !rel.endsWith('.test.ts') && !rel.endsWith('.d.ts')) files.push(rel);
    }
  };
  walk('src');
  const packageOf = (spec: string) =>
    spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
  const missing = new Set<string>();
  for (const file of files) {
    const sf = ts.createSourceFile(file, read(file), ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
    const specs: string[] = [];
    for (const st of sf.statements) {
      if (ts.isImportDeclaration(st)) {
        const clause = st.importClause;
        const typeOnly =
          clause?.isTypeOnly ||
          (clause &&
            !clause.name &&
            clause.namedBindings &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly));
        if (!typeOnly) specs.push((st.moduleSpecifier as ts.StringLiteral).text);
      } else if (ts.isExportDeclaration(st) && st.moduleSpecifier && !st.isTypeOnly) {
        specs.push((st.moduleSpecifier as ts.StringLiteral).text);
      }
    }
    const visit = (n: ts.Node) => {
      if (
        ts.isCallExpression(n) &&
        n.arguments.length === 1 &&
        ts.isStringLiteral(n.arguments[0]) &&
        ((ts.isIdentifier(n.expression) && n.expression.text === 'require') ||
          n.expression.kind === ts.SyntaxKind.ImportKeyword)
      ) {
        specs.push(n.arguments[0].text);
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
    for (const spec of specs) {
      if (spec.startsWith('.') || isBuiltin(spec)) continue;
      if (!(packageOf(spec) in pkg.dependencies)) missing.add(`${packageOf(spec)} (${file})`);
    }
  }
  expect([...missing]).toEqual([]);
});
