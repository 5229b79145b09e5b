// The dashboard at scale (issue 21): the page /ui for a period of 30, 90 and 366 days, one fold of
// 100 changed dispatches, and the log's CSV export of every dispatch, first with a few stored
// dispatches (the baseline), then with many (default 100,000), written straight into MongoDB with
// their days' counters (test/support/bulk.ts: the rollups the fold would have written).
import type { Stack } from '../test/support/stack';
import { signInOverHttp } from '../test/support/ui-session';
import { seedDispatches } from '../test/support/bulk';
import { recordDispatch } from '../src/db/dispatch-records';
import { foldRollups } from '../src/db/rollups';
import { dayOf } from '../src/domain/days';
import { timeIt } from './store';

export interface DashboardRow {
  stored: number;
  measure: string;
  ms: number;
  reps: number;
  load: string;
}

export async function benchDashboard(
  stack: Stack,
  o: { sizes: number[]; say: (msg: string) => void; load: () => string },
): Promise<DashboardRow[]> {
  const rows: DashboardRow[] = [];
  const session = await signInOverHttp(stack.apiUrl, stack.key);
  const page = (query: string) => async () => {
    const res = await fetch(`${stack.apiUrl}/ui/${query}`, { headers: { cookie: session.cookie } });
    if (res.status !== 200) throw new Error(`GET /ui/${query}: ${res.status}`);
    await res.text();
  };
  const lastDay = dayOf(new Date(), 'Europe/Paris');
  let stored = 0;
  let folds = 0;
  for (const size of o.sizes) {
    o.say(`dashboard: storing ${size - stored} more dispatches (and their days' counters) over 366 days`);
    await seedDispatches(stack.db, {
      tenantId: stack.tenantId,
      count: size - stored,
      firstNumber: stored + 1,
      days: 366,
      lastDay,
      timeZone: 'Europe/Paris',
      rollups: true,
      progress: (done) => {
        if (done % 20_000 === 0) o.say(`  ${done}/${size - stored}`);
      },
    });
    stored = size;
    const measure = async (name: string, op: (i: number) => Promise<unknown>) => {
      const { ms, reps } = await timeIt(op);
      rows.push({ stored, measure: name, ms, reps, load: o.load() });
      o.say(`  ${stored} stored: ${name}: ${ms.toFixed(1)} ms (median of ${reps}; load ${o.load()})`);
    };
    await measure('the dashboard page, last 30 days', page(''));
    await measure('the dashboard page, last 90 days', page('?days=90'));
    await measure('the dashboard page, last 366 days', page('?days=366'));
    // One fold of 100 dispatches just recorded (what the rollup workflow does a second after a burst); the fold alone is timed.
    const fold: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      folds += 1;
      const ids = Array.from({ length: 100 }, (_, k) => `fold-${folds}-${k}`);
      for (const dispatchId of ids) await recordOne(stack, dispatchId);
      const t0 = process.hrtime.bigint();
      await foldRollups(stack.db, stack.tenantId, Date.now(), {
        dispatches: ids.map((dispatchId) => ({ dispatchId, parts: [0] })),
        orders: [],
      });
      fold.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    fold.sort((a, b) => a - b);
    rows.push({ stored, measure: 'one fold of 100 new dispatches', ms: fold[1], reps: 3, load: o.load() });
    o.say(
      `  ${stored} stored: one fold of 100 new dispatches: ${fold[1].toFixed(1)} ms (median of 3; load ${o.load()})`,
    );
    // The whole log as CSV, read to its last byte once.
    const t0 = Date.now();
    const res = await fetch(`${stack.apiUrl}/v1/dispatches.csv?result=all`, {
      headers: { authorization: `Bearer ${stack.key}` },
    });
    const lines = (await res.text()).split('\n').length - 2;
    rows.push({
      stored,
      measure: `the log as CSV, every dispatch (${lines.toLocaleString('en')} rows)`,
      ms: Date.now() - t0,
      reps: 1,
      load: o.load(),
    });
    o.say(`  ${stored} stored: CSV export of ${lines} rows: ${Date.now() - t0} ms (load ${o.load()})`);
  }
  return rows;
}

/** A one-recipient purchase order recorded as the API records it (header, content, recipients). */
function recordOne(stack: Stack, dispatchId: string) {
  return recordDispatch(stack.db, {
    tenantId: stack.tenantId,
    dispatchId,
    kind: 'document',
    channel: 'email',
    provider: 'sendgrid',
    template: 'purchase_order',
    locale: 'en',
    document: { type: 'purchase_order', number: dispatchId },
    sender: { name: 'Bench', email: 'bench@bistro.test', outletId: null },
    requestedBy: 'bench',
    content: { subject: dispatchId, html: '<p>x</p>', text: 'x', templateData: {} },
    sealed: null,
    attachments: [],
    recipients: [{ recipientId: 'r1', address: `${dispatchId}@acme.test`, name: null }],
    parent: null,
    request: null,
  });
}

export function dashboardTable(rows: DashboardRow[], sizes: number[]): string {
  const measures = [...new Set(rows.map((r) => r.measure.replace(/ \([\d,]+ rows\)$/, '')))];
  // Each figure with the 1-minute load average when it was taken (on a shared machine, read them together).
  const lines = [
    `| measure | ${sizes.map((s) => `${s.toLocaleString('en')} stored`).join(' | ')} |`,
    `|---|${sizes.map(() => '---').join('|')}|`,
  ];
  for (const m of measures) {
    const cells = sizes.map((s) =>
      rows.find((r) => r.stored === s && r.measure.replace(/ \([\d,]+ rows\)$/, '') === m),
    );
    lines.push(
      `| ${m} | ${cells.map((c) => (c ? `${c.ms < 10 ? c.ms.toFixed(1) : c.ms.toFixed(0)} ms (load ${c.load.split(' ')[0]})` : '—')).join(' | ')} |`,
    );
  }
  return lines.join('\n');
}
