/** A line chart as an SVG document, written by hand: stacked panels sharing a time axis. Pure. */

export interface ChartLine {
  name: string;
  /** One value per entry of the chart's `t`; null leaves a gap. */
  values: Array<number | null>;
  color?: string;
  dashed?: boolean;
}

export interface ChartPanel {
  title: string;
  lines: ChartLine[];
}

export interface ChartSpec {
  title: string;
  subtitle?: string;
  /** The x axis: seconds since the load started. */
  t: number[];
  panels: ChartPanel[];
  /** Vertical lines across every panel (load end, capacity steps). */
  markers?: Array<{ t: number; label: string }>;
}

const WIDTH = 960;
const PANEL_HEIGHT = 220;
const PANEL_GAP = 50;
const MARGIN = { left: 70, right: 170, top: 80, bottom: 40 };
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A round step (1, 2, 2.5 or 5 × 10^k) giving about `count` intervals up to `max`. */
export function niceStep(max: number, count = 4): number {
  if (!(max > 0) || !Number.isFinite(max)) return 1;
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / magnitude;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10;
  return nice * magnitude;
}

const fmt = (x: number): string =>
  Math.abs(x) >= 1000 ? `${Number((x / 1000).toFixed(1))}k` : String(Number(x.toFixed(2)));
const coord = (x: number): string => x.toFixed(1);

function linePath(values: Array<number | null>, x: (i: number) => number, y: (v: number) => number): string {
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      pen = false;
      return;
    }
    d += `${pen ? 'L' : 'M'}${coord(x(i))},${coord(y(v))}`;
    pen = true;
  });
  return d;
}

export function renderChart(spec: ChartSpec): string {
  const height = MARGIN.top + spec.panels.length * (PANEL_HEIGHT + PANEL_GAP) - PANEL_GAP + MARGIN.bottom;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const tMin = spec.t.length > 0 ? Math.min(0, spec.t[0]) : 0;
  const tMax = Math.max(tMin + 1, ...spec.t);
  const xOf = (t: number): number => MARGIN.left + ((t - tMin) / (tMax - tMin)) * plotWidth;
  const xStep = niceStep(tMax - tMin, 8);

  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="24" font-size="16" font-weight="bold">${escapeXml(spec.title)}</text>`,
  ];
  if (spec.subtitle) out.push(`<text x="${MARGIN.left}" y="44" fill="#555555">${escapeXml(spec.subtitle)}</text>`);

  spec.panels.forEach((panel, p) => {
    const top = MARGIN.top + p * (PANEL_HEIGHT + PANEL_GAP);
    const bottom = top + PANEL_HEIGHT;
    const values = panel.lines.flatMap((l) => l.values).filter((v): v is number => v !== null && Number.isFinite(v));
    const yStep = niceStep(Math.max(0, ...values));
    const yMax = Math.max(yStep, Math.ceil(Math.max(0, ...values) / yStep) * yStep);
    const yOf = (v: number): number => bottom - (v / yMax) * PANEL_HEIGHT;

    out.push(`<g data-panel="${escapeXml(panel.title)}">`);
    out.push(`<text x="${MARGIN.left}" y="${top - 8}" font-weight="bold">${escapeXml(panel.title)}</text>`);
    for (let v = 0; v <= yMax + yStep / 1000; v += yStep) {
      const y = coord(yOf(v));
      out.push(`<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotWidth}" y2="${y}" stroke="#e5e5e5"/>`);
      out.push(
        `<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#555555">${fmt(v)}</text>`,
      );
    }
    for (let t = Math.ceil(tMin / xStep) * xStep; t <= tMax; t += xStep) {
      const x = coord(xOf(t));
      out.push(`<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 4}" stroke="#555555"/>`);
      out.push(`<text x="${x}" y="${bottom + 16}" text-anchor="middle" fill="#555555">${fmt(t)}s</text>`);
    }
    out.push(
      `<rect x="${MARGIN.left}" y="${top}" width="${plotWidth}" height="${PANEL_HEIGHT}" fill="none" stroke="#999999"/>`,
    );
    for (const [m, marker] of (spec.markers ?? []).entries()) {
      const x = coord(xOf(marker.t));
      out.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="#888888" stroke-dasharray="2,3"/>`);
      // Labels alternate between the top and the bottom of the first panel, so neighbours do not overlap.
      const labelY = m % 2 === 0 ? top + 12 : bottom - 6;
      if (p === 0)
        out.push(`<text x="${x}" y="${labelY}" dx="3" fill="#666666" font-size="10">${escapeXml(marker.label)}</text>`);
    }
    panel.lines.forEach((line, i) => {
      const color = line.color ?? PALETTE[i % PALETTE.length];
      const d = linePath(line.values, (k) => xOf(spec.t[k]), yOf);
      const dash = line.dashed ? ' stroke-dasharray="6,4"' : '';
      out.push(
        `<path data-series="${escapeXml(line.name)}" d="${d || `M${MARGIN.left},${bottom}`}" fill="none" stroke="${color}" stroke-width="1.5"${dash}><title>${escapeXml(line.name)}</title></path>`,
      );
      const ly = top + 14 + i * 18;
      out.push(
        `<line x1="${WIDTH - MARGIN.right + 12}" y1="${ly}" x2="${WIDTH - MARGIN.right + 32}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`,
      );
      out.push(
        `<text x="${WIDTH - MARGIN.right + 38}" y="${ly}" dominant-baseline="middle">${escapeXml(line.name)}</text>`,
      );
    });
    out.push('</g>');
  });
  out.push(
    `<text x="${MARGIN.left + plotWidth / 2}" y="${height - 8}" text-anchor="middle" fill="#555555">seconds since the load started</text>`,
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
