/**
 * A client of the OpenAI chat-completions API as vLLM, Ollama and llama.cpp's llama-server serve
 * it: GET {baseUrl}/v1/models (the health check: the server answers and serves `model`) and
 * POST {baseUrl}/v1/chat/completions with a JSON body, not streamed, answered by
 * {choices: [{message: {content, refusal?}, finish_reason}]}. Errors come back as
 * {error: {message}} (OpenAI, llama.cpp) or {message} (vLLM's ErrorResponse); both are read.
 *
 * Structured output: response_format {type: "json_schema", json_schema: {name, strict, schema}};
 * a server that only knows {type: "json_object"} answers 400 naming the field, and the client
 * then sends json_object (with the schema under "schema", which llama-server also honours) from
 * that request on.
 */
export class ChatError extends Error {
  override readonly name = 'ChatError';
  /** unreachable/closed/timeout/server-error: the server's fault, retried after a back-off;
   * bad-reply: the answer is unusable; refused: the model declined. */
  constructor(message: string, readonly kind: 'unreachable' | 'closed' | 'timeout' | 'server-error' | 'bad-reply' | 'refused') {
    super(message);
  }
}

export type ResponseFormatKind = 'json_schema' | 'json_object';

export interface ChatClientOptions {
  /** The server's root, e.g. http://127.0.0.1:8000 (without /v1). */
  baseUrl: string;
  model: string;
  apiKey?: string;
  responseFormat?: ResponseFormatKind;
}

export type ContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string | ContentPart[];
}

export interface ChatRequest {
  messages: ChatMessage[];
  schemaName: string;
  schema: Record<string, unknown>;
  maxTokens: number;
  temperature: number;
}

export interface ChatReply {
  content: string;
  /** The server's own time for the call is not in the API; this is the round trip, ms. */
  roundTripMs: number;
  format: ResponseFormatKind;
}

function causeOf(e: unknown): string {
  const err = e as { message?: string; cause?: { code?: string; message?: string } };
  const c = err.cause;
  if (c !== undefined) return c.code !== undefined ? `${c.code}${c.message !== undefined && !c.message.includes(c.code) ? ` (${c.message})` : ''}` : (c.message ?? String(c));
  return err.message ?? String(e);
}

function errorText(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    if (typeof j.error === 'string') return j.error;
    if (typeof j.error?.message === 'string') return j.error.message;
    if (typeof j.message === 'string') return j.message;
    if (typeof j.detail === 'string') return j.detail;
  } catch { /* not JSON: the text itself */ }
  return body.trim().slice(0, 300);
}

export class ChatClient {
  private format: ResponseFormatKind;
  private readonly root: string;

  constructor(private readonly o: ChatClientOptions) {
    this.format = o.responseFormat ?? 'json_schema';
    this.root = o.baseUrl.replace(/\/+$/, '');
  }

  get responseFormat(): ResponseFormatKind {
    return this.format;
  }

  private headers(json: boolean): Record<string, string> {
    return {
      accept: 'application/json',
      ...(json ? { 'content-type': 'application/json' } : {}),
      ...(this.o.apiKey !== undefined ? { authorization: `Bearer ${this.o.apiKey}` } : {}),
    };
  }

  /** Null when GET /v1/models answers and lists the model; else why not (naming the config field). */
  async health(timeoutMs: number): Promise<string | null> {
    const url = `${this.root}/v1/models`;
    let res: Response;
    try {
      res = await fetch(url, { headers: this.headers(false), signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      const timedOut = (e as Error).name === 'TimeoutError';
      return `vlm-planner baseUrl ${this.root}: GET /v1/models ${timedOut ? `did not answer within ${timeoutMs} ms` : `failed: ${causeOf(e)}`}`;
    }
    const body = await res.text().catch(() => '');
    if (res.status === 401 || res.status === 403) return `vlm-planner baseUrl ${this.root}: GET /v1/models answered ${res.status} (${errorText(body)}); check the key named by apiKeyEnv`;
    if (!res.ok) return `vlm-planner baseUrl ${this.root}: GET /v1/models answered ${res.status}: ${errorText(body)}`;
    let ids: string[];
    try {
      const j = JSON.parse(body) as { data?: { id?: unknown }[] };
      ids = (j.data ?? []).map((m) => String(m.id));
    } catch {
      return `vlm-planner baseUrl ${this.root}: GET /v1/models did not answer JSON`;
    }
    if (!ids.includes(this.o.model)) return `vlm-planner model "${this.o.model}" is not served by ${this.root} (it serves: ${ids.join(', ') || 'nothing'})`;
    return null;
  }

  /** One completion within `timeoutMs`; `signal` aborts it early (a newer task). */
  async complete(req: ChatRequest, timeoutMs: number, signal?: AbortSignal): Promise<ChatReply> {
    const started = performance.now();
    const deadline = AbortSignal.timeout(timeoutMs);
    const both = signal !== undefined ? AbortSignal.any([deadline, signal]) : deadline;
    for (let attempt = 0; ; attempt++) {
      const format = this.format;
      const responseFormat = format === 'json_schema'
        ? { type: 'json_schema', json_schema: { name: req.schemaName, strict: true, schema: req.schema } }
        : { type: 'json_object', schema: req.schema };
      // json_object constrains to JSON only: the schema goes in the system message as well.
      const messages = format === 'json_schema' ? req.messages : req.messages.map((m, i) => (
        i === 0 && m.role === 'system' && typeof m.content === 'string' ? { ...m, content: `${m.content}\nIts JSON Schema: ${JSON.stringify(req.schema)}` } : m));
      const body = JSON.stringify({
        model: this.o.model, messages, response_format: responseFormat,
        max_tokens: req.maxTokens, temperature: req.temperature, stream: false,
      });
      let res: Response;
      let text: string;
      try {
        res = await fetch(`${this.root}/v1/chat/completions`, { method: 'POST', headers: this.headers(true), body, signal: both });
        text = await res.text();
      } catch (e) {
        if (deadline.aborted) throw new ChatError(`the model server at ${this.root} did not answer within ${timeoutMs} ms (vlm-planner timeoutMs)`, 'timeout');
        if (signal?.aborted === true) throw new ChatError('the request was cancelled', 'closed');
        const cause = causeOf(e);
        const refused = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH/.test(cause);
        throw new ChatError(refused ? `cannot reach the model server at ${this.root} (vlm-planner baseUrl): ${cause}` : `the model server at ${this.root} dropped the connection mid-request: ${cause}`, refused ? 'unreachable' : 'closed');
      }
      if (res.status === 400 && format === 'json_schema' && attempt === 0 && /json_schema|response_format/i.test(text)) {
        this.format = 'json_object'; // the server does not take json_schema: fall back for good
        continue;
      }
      if (res.status === 401 || res.status === 403) throw new ChatError(`the model server at ${this.root} answered ${res.status}: ${errorText(text)} (check the key named by vlm-planner apiKeyEnv)`, 'server-error');
      if (res.status === 404) throw new ChatError(`the model server at ${this.root} answered 404: ${errorText(text)} (check vlm-planner model "${this.o.model}")`, 'server-error');
      if (!res.ok) throw new ChatError(`the model server at ${this.root} answered ${res.status}: ${errorText(text)}`, res.status >= 500 || res.status === 429 ? 'server-error' : 'bad-reply');
      return { content: this.contentOf(text), roundTripMs: performance.now() - started, format };
    }
  }

  private contentOf(text: string): string {
    let j: { choices?: { message?: { content?: unknown; refusal?: unknown }; finish_reason?: unknown }[] };
    try {
      j = JSON.parse(text) as typeof j;
    } catch {
      throw new ChatError(`the model server's reply is not JSON; it begins ${JSON.stringify(text.slice(0, 80))}`, 'bad-reply');
    }
    const choice = j.choices?.[0];
    if (choice === undefined) throw new ChatError('the model server\'s reply has no choices[0]', 'bad-reply');
    const m = choice.message ?? {};
    if (typeof m.refusal === 'string' && m.refusal.trim() !== '') throw new ChatError(`the model refused: ${m.refusal.trim().slice(0, 300)}`, 'refused');
    if (choice.finish_reason === 'length') throw new ChatError('the model\'s reply was cut off at the token limit (vlm-planner maxTokens)', 'bad-reply');
    if (typeof m.content !== 'string' || m.content.trim() === '') throw new ChatError('the model\'s reply has no content', 'bad-reply');
    return m.content;
  }
}
