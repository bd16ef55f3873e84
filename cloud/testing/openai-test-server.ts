/**
 * An OpenAI-compatible chat-completions server for tests and benchmarks, answering as vLLM's and
 * llama-server's OpenAI front-ends do: GET /v1/models lists {object: "list", data: [{id, object:
 * "model", ...}]}; POST /v1/chat/completions takes {model, messages, response_format, ...} and
 * answers {id, object: "chat.completion", created, model, choices: [{index, message: {role,
 * content, refusal}, finish_reason}], usage}; errors are {error: {message, type, code}} with the
 * HTTP status. An unknown model is 404, a bad request 400, a missing or wrong bearer key 401
 * (when the server has one).
 *
 * Structured output is honoured: a scripted {json} answer is checked against the request's
 * response_format schema (json_schema.schema, or json_object's "schema") before it is sent, as a
 * constrained decoder would never emit anything else, and a mismatch answers 500 naming it so a
 * test sees its own mistake. {content} is sent as is (a server that does not constrain). With
 * `jsonObjectOnly` the server refuses json_schema with 400 naming response_format, as servers that
 * only know json_object do. Listens on 127.0.0.1, an ephemeral port; close() stops it and drops
 * the connections still open. Test and benchmark code only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ScriptedAnswer =
  | { json: unknown; delayMs?: number }
  | { content: string; finishReason?: string; delayMs?: number }
  | { refusal: string; delayMs?: number }
  | { status: number; message: string; delayMs?: number }
  /** Closes the connection without an answer (after delayMs). */
  | { disconnect: true; delayMs?: number }
  /** Never answers; the connection stays open until the client gives up or the server closes. */
  | { hang: true };

export interface ChatCall {
  body: Record<string, unknown>;
  headers: IncomingMessage['headers'];
}

export interface OpenAiTestServerOptions {
  models?: string[];
  apiKey?: string;
  jsonObjectOnly?: boolean;
  /** The answer to each chat call, in order of arrival (0-based). */
  answer: (call: ChatCall, index: number) => ScriptedAnswer | Promise<ScriptedAnswer>;
}

/** The JSON Schema subset the planner uses: type, enum, required, properties, additionalProperties, items, min/maxItems, maxLength, minimum/maximum, anyOf. */
export function schemaProblem(schema: Record<string, unknown>, v: unknown, at = '$'): string | null {
  if (Array.isArray(schema['anyOf'])) {
    const alts = schema['anyOf'] as Record<string, unknown>[];
    return alts.some((s) => schemaProblem(s, v, at) === null) ? null : `${at} matches none of anyOf`;
  }
  const type = schema['type'];
  const isType = (t: unknown): boolean => {
    switch (t) {
      case 'object': return typeof v === 'object' && v !== null && !Array.isArray(v);
      case 'array': return Array.isArray(v);
      case 'string': return typeof v === 'string';
      case 'number': return typeof v === 'number' && Number.isFinite(v);
      case 'integer': return Number.isInteger(v);
      case 'boolean': return typeof v === 'boolean';
      case 'null': return v === null;
      default: return true;
    }
  };
  if (type !== undefined && !(Array.isArray(type) ? type.some(isType) : isType(type))) return `${at} is not ${JSON.stringify(type)}`;
  if (Array.isArray(schema['enum']) && !(schema['enum'] as unknown[]).includes(v)) return `${at} ${JSON.stringify(v)} is not one of ${JSON.stringify(schema['enum'])}`;
  if (typeof v === 'string' && typeof schema['maxLength'] === 'number' && v.length > schema['maxLength']) return `${at} is longer than ${schema['maxLength']}`;
  if (typeof v === 'number') {
    if (typeof schema['minimum'] === 'number' && v < schema['minimum']) return `${at} is below ${schema['minimum']}`;
    if (typeof schema['maximum'] === 'number' && v > schema['maximum']) return `${at} is above ${schema['maximum']}`;
  }
  if (Array.isArray(v)) {
    if (typeof schema['minItems'] === 'number' && v.length < schema['minItems']) return `${at} has fewer than ${schema['minItems']} items`;
    if (typeof schema['maxItems'] === 'number' && v.length > schema['maxItems']) return `${at} has more than ${schema['maxItems']} items`;
    const items = schema['items'] as Record<string, unknown> | undefined;
    if (items !== undefined) for (let i = 0; i < v.length; i++) { const p = schemaProblem(items, v[i], `${at}[${i}]`); if (p !== null) return p; }
  }
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const props = (schema['properties'] ?? {}) as Record<string, Record<string, unknown>>;
    for (const k of (schema['required'] ?? []) as string[]) if (!(k in o)) return `${at}.${k} is missing`;
    for (const [k, val] of Object.entries(o)) {
      const ps = props[k];
      if (ps === undefined) { if (schema['additionalProperties'] === false) return `${at}.${k} is not allowed`; continue; }
      const p = schemaProblem(ps, val, `${at}.${k}`);
      if (p !== null) return p;
    }
  }
  return null;
}

export class OpenAiTestServer {
  readonly calls: ChatCall[] = [];
  private waiters: (() => void)[] = [];

  private constructor(private readonly server: Server, readonly baseUrl: string) {}

  static async start(o: OpenAiTestServerOptions): Promise<OpenAiTestServer> {
    const models = o.models ?? ['test-vlm'];
    let self: OpenAiTestServer | null = null;
    const server = createServer((req, res) => { void self?.handle(req, res, o, models); });
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve); });
    self = new OpenAiTestServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return self;
  }

  /** Resolves once `n` chat calls have arrived. */
  async callsReached(n: number): Promise<void> {
    while (this.calls.length < n) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse, o: OpenAiTestServerOptions, models: string[]): Promise<void> {
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const error = (status: number, message: string, type: string): void => send(status, { error: { message, type, code: status } });
    if (o.apiKey !== undefined && req.headers.authorization !== `Bearer ${o.apiKey}`) { req.resume(); error(401, 'Invalid API key', 'authentication_error'); return; }
    const url = req.url ?? '';
    if (req.method === 'GET' && url === '/v1/models') {
      req.resume();
      send(200, { object: 'list', data: models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'spinal-test' })) });
      return;
    }
    if (req.method !== 'POST' || url !== '/v1/chat/completions') { req.resume(); error(404, `no route ${req.method ?? '?'} ${url}`, 'not_found_error'); return; }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      error(400, 'the body is not JSON', 'invalid_request_error');
      return;
    }
    if (typeof body['model'] !== 'string' || !models.includes(body['model'])) { error(404, `The model \`${String(body['model'])}\` does not exist.`, 'NotFoundError'); return; }
    if (!Array.isArray(body['messages']) || body['messages'].length === 0) { error(400, 'messages must be a non-empty array', 'invalid_request_error'); return; }
    const rf = body['response_format'] as { type?: string; json_schema?: { name?: unknown; schema?: unknown }; schema?: unknown } | undefined;
    let schema: Record<string, unknown> | null = null;
    if (rf !== undefined) {
      if (rf.type === 'json_schema') {
        if (o.jsonObjectOnly === true) { error(400, 'response_format.type must be "json_object" or "text"; json_schema is not supported', 'invalid_request_error'); return; }
        if (typeof rf.json_schema?.name !== 'string' || typeof rf.json_schema.schema !== 'object') { error(400, 'response_format.json_schema needs "name" and "schema"', 'invalid_request_error'); return; }
        schema = rf.json_schema.schema as Record<string, unknown>;
      } else if (rf.type === 'json_object') {
        schema = typeof rf.schema === 'object' ? rf.schema as Record<string, unknown> : null;
      } else if (rf.type !== 'text') { error(400, `response_format.type "${String(rf.type)}" is unknown`, 'invalid_request_error'); return; }
    }
    const call = { body, headers: req.headers };
    const index = this.calls.length;
    this.calls.push(call);
    for (const w of this.waiters.splice(0)) w();
    const a = await o.answer(call, index);
    if ('hang' in a) return;
    if (a.delayMs !== undefined && a.delayMs > 0) await new Promise((r) => setTimeout(r, a.delayMs));
    if (res.destroyed) return;
    if ('disconnect' in a) { req.socket.destroy(); return; }
    if ('status' in a) { error(a.status, a.message, a.status >= 500 ? 'server_error' : 'invalid_request_error'); return; }
    let content: string | null = null, refusal: string | null = null, finish = 'stop';
    if ('json' in a) {
      const problem = schema !== null ? schemaProblem(schema, a.json) : null;
      if (problem !== null) { error(500, `test script error: the scripted reply breaks the requested schema: ${problem}`, 'server_error'); return; }
      content = JSON.stringify(a.json);
    } else if ('refusal' in a) {
      refusal = a.refusal;
    } else {
      content = a.content;
      finish = a.finishReason ?? 'stop';
    }
    send(200, {
      id: `chatcmpl-test-${index}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: body['model'],
      choices: [{ index: 0, message: { role: 'assistant', content, refusal }, finish_reason: finish }],
      usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
    });
  }
}
