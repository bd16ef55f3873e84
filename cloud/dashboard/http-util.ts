/** Small HTTP helpers for the dashboard's JSON API. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Reads a JSON object body of at most `limit` bytes; throws HttpError naming what is wrong. */
export async function readJsonObject(req: IncomingMessage, limit = 16 * 1024): Promise<Record<string, unknown>> {
  const type = req.headers['content-type'] ?? '';
  // Requiring JSON also keeps plain cross-site form posts out (they cannot set this type).
  if (!/^application\/json(?:;|$)/i.test(type)) throw new HttpError(415, `Content-Type must be application/json (got ${JSON.stringify(type)})`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    throw new HttpError(400, `body is not valid JSON: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HttpError(400, 'body must be a JSON object');
  return value as Record<string, unknown>;
}

export function stringField(body: Record<string, unknown>, key: string, maxLength: number): string {
  const v = body[key];
  if (typeof v !== 'string' || v.length === 0) throw new HttpError(400, `${key} must be a non-empty string (got ${JSON.stringify(v) ?? 'nothing'})`);
  if (v.length > maxLength) throw new HttpError(400, `${key} is ${v.length} characters, over the limit of ${maxLength}`);
  return v;
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string | string[]> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** Percent-decodes `value`; a malformed escape (e.g. "%E0%A4%A") is the client's fault: 400 naming it. */
export function decodeComponent(value: string, what: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new HttpError(400, `${what} ${JSON.stringify(value.slice(0, 100))} is not valid percent-encoding`);
  }
}

export function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeComponent(part.slice(eq + 1).trim(), `cookie ${name}`);
  }
  return undefined;
}
