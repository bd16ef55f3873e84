/**
 * Commanded against measured joint positions of one run as an SVG: one panel per joint, time on
 * the x axis. Hand-written (about sixty lines of string building) rather than a charting library:
 * the plots are static files and need two polylines and a few labels per panel.
 */
import type { TraceRow } from './eval-types.js';

const PANEL_W = 720, PANEL_H = 90, LEFT = 70, GAP = 14, TOP = 30;
const MAX_POINTS = 900;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function plotRun(title: string, rows: readonly TraceRow[], jointNames: readonly string[]): string {
  const n = jointNames.length;
  const t0 = rows[0]?.tUs ?? 0;
  const t1 = rows[rows.length - 1]?.tUs ?? t0 + 1;
  const stride = Math.max(1, Math.ceil(rows.length / MAX_POINTS));
  const height = TOP + n * (PANEL_H + GAP) + 30;
  const width = LEFT + PANEL_W + 20;
  const x = (t: number): number => LEFT + ((t - t0) / Math.max(1, t1 - t0)) * PANEL_W;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${LEFT}" y="18" font-size="13">${esc(title)}</text>`,
    `<text x="${width - 230}" y="18"><tspan fill="#1f77b4">— commanded (sent)</tspan>  <tspan fill="#d62728">— measured</tspan></text>`,
  ];
  for (let j = 0; j < n; j++) {
    const top = TOP + j * (PANEL_H + GAP);
    let lo = Infinity, hi = -Infinity;
    for (const r of rows) {
      for (const v of [r.sent[j] as number, r.measured[j] as number]) if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    }
    if (!Number.isFinite(lo)) { lo = -1; hi = 1; }
    const pad = Math.max(1e-3, (hi - lo) * 0.1);
    lo -= pad; hi += pad;
    const y = (v: number): number => top + PANEL_H - ((v - lo) / (hi - lo)) * PANEL_H;
    const line = (pick: (r: TraceRow) => number, colour: string): string => {
      const pts: string[] = [];
      for (let i = 0; i < rows.length; i += stride) {
        const r = rows[i] as TraceRow;
        const v = pick(r);
        if (Number.isFinite(v)) pts.push(`${x(r.tUs).toFixed(1)},${y(v).toFixed(1)}`);
      }
      return `<polyline fill="none" stroke="${colour}" stroke-width="1.2" points="${pts.join(' ')}"/>`;
    };
    parts.push(
      `<rect x="${LEFT}" y="${top}" width="${PANEL_W}" height="${PANEL_H}" fill="none" stroke="#ccc"/>`,
      `<text x="4" y="${top + 12}">${esc(jointNames[j] ?? `joint ${j}`)}</text>`,
      `<text x="4" y="${top + 26}" fill="#666">${hi.toFixed(3)}</text>`,
      `<text x="4" y="${top + PANEL_H}" fill="#666">${lo.toFixed(3)} rad</text>`,
      line((r) => r.sent[j] as number, '#1f77b4'),
      line((r) => r.measured[j] as number, '#d62728'),
    );
  }
  parts.push(`<text x="${LEFT}" y="${height - 10}" fill="#666">0 s</text>`, `<text x="${LEFT + PANEL_W - 30}" y="${height - 10}" fill="#666">${((t1 - t0) / 1e6).toFixed(1)} s</text>`, '</svg>');
  return parts.join('\n') + '\n';
}
