/**
 * The browser client's files, read once at start and served from memory with an ETag: the page
 * (public/, including its own small MQTT client) and uPlot from node_modules. Nothing is fetched
 * from anywhere else, so the dashboard works on an isolated robot network.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

/** public/ beside this module (sources) or in the source tree above dist/ (compiled). */
export function publicDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const dir of [join(here, 'public'), join(here, '..', '..', '..', 'cloud', 'dashboard', 'public')]) {
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  throw new Error(`dashboard: the browser client (public/index.html) was not found beside ${here}`);
}

function asset(path: string): Asset {
  const body = readFileSync(path);
  const type = TYPES[extname(path)];
  if (type === undefined) throw new Error(`dashboard: no content type for ${path}`);
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/** URL path → asset. `/` is index.html. */
export function loadAssets(dir = publicDir()): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    // Tests (*.test.ts) sit beside the client's modules and are not part of it.
    if (TYPES[extname(name)] !== undefined && !name.includes('.test.')) assets.set(`/${name}`, asset(join(dir, name)));
  }
  const index = assets.get('/index.html');
  if (index) assets.set('/', index);
  const require = createRequire(import.meta.url);
  const uplot = dirname(require.resolve('uplot/package.json'));
  assets.set('/vendor/uPlot.iife.min.js', asset(join(uplot, 'dist', 'uPlot.iife.min.js')));
  assets.set('/vendor/uPlot.min.css', asset(join(uplot, 'dist', 'uPlot.min.css')));
  return assets;
}
