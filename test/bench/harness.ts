/**
 * Benchmark harness: one scenario a file, each returning rows of figures; the runner prints a table
 * and writes the same figures as JSON to test/bench/results/<scenario>.json.
 */
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Stats {
  n: number;
  median: number;
  p99: number;
  p1: number;
  mean: number;
  min: number;
  max: number;
}

export function stats(samples: ArrayLike<number>): Stats {
  const s = Float64Array.from(samples).sort();
  const n = s.length;
  if (n === 0) return { n: 0, median: NaN, p99: NaN, p1: NaN, mean: NaN, min: NaN, max: NaN };
  const q = (p: number): number => s[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))] as number;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += s[i] as number;
  return { n, median: n % 2 ? (s[(n - 1) / 2] as number) : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2, p99: q(0.99), p1: q(0.01), mean: sum / n, min: s[0] as number, max: s[n - 1] as number };
}

export type Cell = string | number;
export interface BenchResult {
  scenario: string;
  title: string;
  columns: string[];
  rows: Cell[][];
  /** Headline figures (ratios against the named peer, goals met or not). */
  summary: Record<string, number | string | boolean>;
  notes?: string[];
}

export interface Scenario {
  name: string;
  description: string;
  run(): Promise<BenchResult>;
}

function fmt(c: Cell): string {
  if (typeof c === 'string') return c;
  if (!Number.isFinite(c)) return String(c);
  const a = Math.abs(c);
  if (a !== 0 && (a < 0.01 || a >= 1e6)) return c.toExponential(2);
  return a >= 100 ? c.toFixed(0) : a >= 10 ? c.toFixed(1) : c.toFixed(3);
}

export function renderTable(r: BenchResult): string {
  const cells = [r.columns, ...r.rows.map((row) => row.map(fmt))];
  const widths = r.columns.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]): string => row.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  const out = [`== ${r.scenario}: ${r.title}`, line(cells[0] as string[]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)];
  for (const [k, v] of Object.entries(r.summary)) out.push(`   ${k}: ${typeof v === 'number' ? fmt(v) : String(v)}`);
  for (const n of r.notes ?? []) out.push(`   note: ${n}`);
  return out.join('\n');
}

/** The repository root: the nearest folder above this file holding package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = resolve(dir, '..');
    if (up === dir) throw new Error('package.json not found above the benchmark harness');
    dir = up;
  }
  return dir;
}

export function writeResult(r: BenchResult): string {
  const dir = join(repoRoot(), 'test', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${r.scenario}.json`);
  writeFileSync(file, JSON.stringify({ ...r, node: process.version, at: new Date().toISOString() }, null, 2) + '\n');
  return file;
}

/** Monotonic time in nanoseconds as a number (safe for intervals). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}
