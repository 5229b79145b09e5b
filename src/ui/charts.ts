// Server-rendered charts of the dashboard: the geometry of stacked columns (per day) as plain
// numbers a Handlebars partial draws as SVG (views/_columns.hbs), and the widths of horizontal
// bars drawn in HTML (views/_bars.hbs). No script, no charting library: every chart has its
// figures beside it as text (a caption, a description, a table).

export interface Segment {
  key: string;
  value: number;
  color: string;
}
export interface Column {
  label: string;
  up: Segment[];
  down?: Segment[];
}

export interface ColumnsChart {
  width: number;
  height: number;
  plot: { left: number; top: number; right: number; bottom: number };
  ticks: Array<{ y: number; label: string }>;
  bars: Array<{
    x: number;
    w: number;
    rects: Array<{ x: number; y: number; w: number; h: number; color: string; key: string }>;
  }>;
  xLabels: Array<{ x: number; y: number; text: string }>;
  /** The baseline (the middle of a chart with values below it). */
  zeroY: number;
}

/** The smallest of 1, 2, 2.5, 5 × 10^k at or above `max` (axis ends on a round number). */
export function niceCeiling(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((v) => v >= max - 1e-9)!;
}

const WIDTH = 900;
const HEIGHT = 240;
const LABELS_SHOWN = 6;

/**
 * Columns stacked upwards (and, when any column has `down`, downwards from a middle baseline),
 * one per label, on an axis from 0 to a round maximum (`fixedMax` for shares: 1).
 */
export function columnsChart(
  columns: readonly Column[],
  options: { format: (n: number) => string; fixedMax?: number },
): ColumnsChart {
  const plot = { left: 48, top: 10, right: WIDTH - 8, bottom: HEIGHT - 28 };
  const mirrored = columns.some((c) => c.down?.some((s) => s.value > 0));
  const total = (segments: readonly Segment[] = []) => segments.reduce((sum, s) => sum + Math.max(0, s.value), 0);
  const max = options.fixedMax ?? niceCeiling(Math.max(0, ...columns.map((c) => Math.max(total(c.up), total(c.down)))));
  const zeroY = mirrored ? (plot.top + plot.bottom) / 2 : plot.bottom;
  const span = mirrored ? (plot.bottom - plot.top) / 2 : plot.bottom - plot.top;
  const scale = (v: number) => (v / max) * span;
  const slot = (plot.right - plot.left) / Math.max(1, columns.length);
  const barWidth = Math.max(1, Math.min(36, slot * 0.72));
  const bars = columns.map((c, i) => {
    const x = plot.left + slot * i + (slot - barWidth) / 2;
    const rects: ColumnsChart['bars'][number]['rects'] = [];
    let above = zeroY;
    for (const s of c.up) {
      const h = scale(Math.max(0, s.value));
      if (h <= 0) continue;
      above -= h;
      rects.push({ x, y: above, w: barWidth, h, color: s.color, key: s.key });
    }
    let below = zeroY;
    for (const s of c.down ?? []) {
      const h = scale(Math.max(0, s.value));
      if (h <= 0) continue;
      rects.push({ x, y: below, w: barWidth, h, color: s.color, key: s.key });
      below += h;
    }
    return { x, w: barWidth, rects };
  });
  const tickValues = mirrored ? [max, max / 2, 0, max / 2, max] : [0, max / 2, max];
  const ticks = tickValues.map((v, i) => ({
    y: mirrored ? plot.top + (i * (plot.bottom - plot.top)) / 4 : plot.bottom - scale(v),
    label: options.format(v),
  }));
  // At most about LABELS_SHOWN labels under the axis, evenly spaced, the last column's too when there is room for it.
  const every = Math.max(1, Math.ceil(columns.length / LABELS_SHOWN));
  const shown = columns.map((_, i) => i).filter((i) => i % every === 0);
  const last = columns.length - 1;
  if (last > 0 && !shown.includes(last) && last - shown[shown.length - 1] >= every / 2) shown.push(last);
  const xLabels = shown.map((i) => ({ x: plot.left + slot * i + slot / 2, y: HEIGHT - 8, text: columns[i].label }));
  return { width: WIDTH, height: HEIGHT, plot, ticks, bars, xLabels, zeroY };
}

export interface Bar {
  label: string;
  value: number;
  text: string;
  href?: string;
  segments?: Array<{ share: number; color: string; key: string }>;
}

/** Horizontal bars: each bar's length as a share (0–100) of the longest, with its segments' shares of the bar (stacked). */
export function barShares<T extends { value: number; parts?: Array<{ value: number; color: string; key: string }> }>(
  items: readonly T[],
) {
  const max = Math.max(0, ...items.map((i) => i.value));
  return items.map((item) => ({
    ...item,
    share: max > 0 ? Math.round((item.value / max) * 1000) / 10 : 0,
    segments: (item.parts ?? [])
      .filter((p) => p.value > 0)
      .map((p) => ({ key: p.key, color: p.color, share: max > 0 ? Math.round((p.value / max) * 1000) / 10 : 0 })),
  }));
}

/** Colours with at least 3:1 contrast on white (WCAG 1.4.11), one per result and per exception type. */
export const RESULT_COLORS: Record<string, string> = {
  delivered: '#15803d',
  sent: '#0f766e',
  processed: '#475569',
  queued: '#64748b',
  unknown: '#a16207',
  alert: '#c2410c',
  error: '#b91c1c',
  failed: '#7f1d1d',
};
export const EXCEPTION_COLORS: Record<string, string> = {
  unfulfillable: '#6d28d9',
  on_hold: '#a16207',
  rts_failed: '#0369a1',
  handover_failed: '#be185d',
  stuck_in_transit: '#3f6212',
  delivery_failed: '#b91c1c',
};
