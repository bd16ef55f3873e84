/**
 * The cloud's configuration file (JSON), validated with zod; every error names its key. Relative
 * file paths (TLS files, an ONNX model) are resolved against the configuration file's folder.
 *
 * {
 *   "listen":   { "host": "127.0.0.1", "port": 50051 },
 *   "tls":      { "certFile": "server.pem", "keyFile": "server-key.pem", "caFile": "ca.pem" },  // omit: plaintext, loopback only
 *   "robots":   ["r1", "r2"],
 *   "backend":  { "kind": "reference" } | { "kind": "onnx", "model": "policy.onnx" }
 *             | { "kind": "triton", "address": "triton:8001", "model": "vla", "latentSpace": "acme/1" }
 *             | { "kind": "vlm-planner", "baseUrl": "http://127.0.0.1:8000", "model": "Qwen/Qwen2.5-VL-7B-Instruct" },
 *   "batching": { "maxBatch": 64, "maxWaitMs": 2, "maxInFlight": 2 },
 *   "backendTimeoutMs": 500, "planValidityMs": 1000, "drainTimeoutMs": 5000,
 *   "keepalive": { "timeMs": 10000, "timeoutMs": 5000 },
 *   "metrics":  { "host": "127.0.0.1", "port": 9464 },   // null: no /metrics endpoint
 *   "health":   { "host": "127.0.0.1", "port": 8081,     // plain HTTP GET /healthz for load balancers (200 serving, 503 draining)
 *                 "downAfterChecks": 2, "noticeTimeoutMs": 5000 },  // drain: wait for this many 503s (the balancer's fall), at most this long
 *   "replicaId": "brain-a",                              // names this replica in session ids ("brain-a-s1"); omit: "s1"
 *   "dashboard": { "listen": { "host": "127.0.0.1", "port": 8080 }, "fleet": "demo",
 *                  "accountsFile": "accounts.json",            // the fleet's accounts (proto/mqtt/accounts.ts)
 *                  "mqttUrl": "ws://127.0.0.1:9001/mqtt",      // the broker's WebSocket listener, as browsers reach it
 *                  "sessionTtlS": 43200,
 *                  "tls": { "certFile": "server.pem", "keyFile": "server-key.pem" },  // HTTPS; omit: loopback only
 *                  "allowPlaintext": false,                    // plain HTTP off loopback (behind a TLS proxy)
 *                  "brokerTokenKeyFile": "broker-token.key",   // broker tokens instead of passwords in the page
 *                  "brokerTokenTtlS": 60, "brokerCaFile": "ca.pem", "brokerRevokeUrl": "wss://broker:8884/mqtt",
 *                  "brokerAdminFile": "dashboard-broker-admin.json" },  // or: a Mosquitto client per session (dynamic security)
 *                                                              // omit the section: no dashboard
 *   "log":      { "level": "info" },
 *   "tasks":    { "store": "memory" }                       // default: this brain process only
 *             | { "store": "mqtt", "url": "mqtt://broker:1883", "fleet": "demo", "username": "brain",
 *                 "passwordFile": "brain.password", "caFile": "ca.pem", "ackTimeoutMs": 5000 }
 *                                                              // retained task topics, shared by every replica (docs/scaling.md)
 * }
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { describeIssues, readJsonFile } from '../proto/config/json-config.js';

const LogLevel = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);
const Id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit');
const Port = z.number().int().min(0).max(65535);
const Triple = z.tuple([z.number(), z.number(), z.number()]);

/** Camera frame decoding limits (cloud/backends/images/image-decoder-pool.ts). */
const ImageDecodingSchema = z.strictObject({
  maxPixels: z.number().int().positive().max(100_000_000).optional(),
  maxBytes: z.number().int().positive().max(64 * 1024 * 1024).optional(),
  decodeTimeoutMs: z.number().int().positive().max(60_000).optional(),
  workers: z.number().int().min(1).max(64).optional(),
  maxQueue: z.number().int().min(0).max(100_000).optional(),
  queueWaitMs: z.number().int().positive().max(60_000).optional(),
  budgetMsPerS: z.number().positive().max(64_000).optional(),
  burstMs: z.number().positive().max(600_000).optional(),
});

const ReferenceBackendSchema = z.strictObject({
  kind: z.literal('reference'),
  /** Control rate assumed for robots whose Hello announces none. */
  defaultControlHz: z.number().positive().max(10_000).optional(),
});
const OnnxBackendSchema = z.strictObject({
  kind: z.literal('onnx'),
  model: z.string().min(1),
  latentSpace: z.string().min(1).optional(),
  cameraId: z.string().min(1).optional(),
  providers: z.array(z.string().min(1)).min(1).optional(),
  intraOpThreads: z.number().int().positive().optional(),
  imageDecoding: ImageDecodingSchema.optional(),
  maxQueue: z.number().int().min(1).max(1024).optional(),
});
const TritonBackendSchema = z.strictObject({
  kind: z.literal('triton'),
  address: z.string().min(1),
  model: z.string().min(1),
  version: z.string().optional(),
  latentSpace: z.string().min(1),
  rawContents: z.boolean().optional(),
  cameraId: z.string().min(1).optional(),
  imageMean: Triple.optional(),
  imageStd: Triple.optional(),
  connectTimeoutMs: z.number().int().positive().optional(),
  imageDecoding: ImageDecodingSchema.optional(),
});

/** How a robot's observation and an action chunk map onto a policy server's keys
 * (cloud/backends/policy-server/robot-mapping.ts). */
const JointIndices = z.array(z.number().int().min(0).max(63)).min(1);
const PolicyMappingFields = {
  state: z.record(z.string().min(1), JointIndices).optional(),
  images: z.record(z.string().min(1), z.string().min(1)).optional(),
  imageSize: z.strictObject({ width: z.number().int().min(8).max(4096), height: z.number().int().min(8).max(4096) }).optional(),
  imageLayout: z.enum(['hwc', 'chw']).optional(),
  actionColumns: JointIndices.optional(),
  actionHz: z.number().positive().max(1000),
  actionMode: z.enum(['absolute', 'delta']).optional(),
  maxRows: z.number().int().min(1).max(1024).optional(),
  connectTimeoutMs: z.number().int().positive().max(60_000).optional(),
};
const OpenpiBackendSchema = z.strictObject({
  kind: z.literal('openpi'),
  /** ws://host:port of the openpi policy server (its default port is 8000). */
  url: z.string().regex(/^wss?:\/\/[^/\s]+/, 'must be a ws:// or wss:// URL'),
  promptKey: z.string().min(1).optional(),
  actionsKey: z.string().min(1).optional(),
  apiKey: z.string().min(1).optional(),
  ...PolicyMappingFields,
});

const Gr00tBackendSchema = z.strictObject({
  kind: z.literal('gr00t'),
  /** tcp://host:port of the GR00T policy server (its default port is 5555). */
  address: z.string().regex(/^tcp:\/\/[^/\s]+:\d+$/, 'must be tcp://host:port'),
  api: z.enum(['n1.5', 'n1.6']).optional(),
  apiToken: z.string().min(1).optional(),
  actions: z.record(z.string().min(1), JointIndices),
  languageKey: z.string().min(1).optional(),
  ...Object.fromEntries(Object.entries(PolicyMappingFields).filter(([k]) => k !== 'actionColumns')) as Omit<typeof PolicyMappingFields, 'actionColumns'>,
});

/** A vision-language model behind an OpenAI-compatible chat-completions server
 * (cloud/backends/vlm-planner; docs/policy-servers.md). */
const VlmPlannerBackendSchema = z.strictObject({
  kind: z.literal('vlm-planner'),
  /** The server's root: {baseUrl}/v1/chat/completions and {baseUrl}/v1/models are called. */
  baseUrl: z.string().regex(/^https?:\/\/[^/\s]+(\/[^\s]*)?$/, 'must be an http:// or https:// URL')
    .refine((u) => !/\/v1\/?$/.test(u), 'give the server\'s root (e.g. http://127.0.0.1:8000), without /v1'),
  model: z.string().min(1),
  /** The environment variable that holds the API key (sent as Authorization: Bearer); omit: none. */
  apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
  responseFormat: z.enum(['json_schema', 'json_object']).optional(),
  timeoutMs: z.number().int().min(100).max(120_000).optional(),
  /** Ask the model again this often while a plan runs; 0: only when a subtask completes or a call fails. */
  replanIntervalMs: z.number().int().min(0).max(600_000).optional(),
  /** A plan drives the robot at most this long without a newer one; then the robot holds. */
  maxPlanAgeMs: z.number().int().min(1000).max(600_000).optional(),
  maxSubtasks: z.number().int().min(1).max(64).optional(),
  imageSize: z.strictObject({ width: z.number().int().min(8).max(4096), height: z.number().int().min(8).max(4096) }).optional(),
  jpegQuality: z.number().int().min(1).max(100).optional(),
  cameraId: z.string().min(1).optional(),
  maxTokens: z.number().int().min(16).max(32_768).optional(),
  temperature: z.number().min(0).max(2).optional(),
  defaultControlHz: z.number().positive().max(10_000).optional(),
  imageDecoding: ImageDecodingSchema.optional(),
});

/** Where robots' tasks live (cloud/brain/task-store.ts). */
const TasksSchema = z.discriminatedUnion('store', [
  z.strictObject({ store: z.literal('memory') }),
  z.strictObject({
    store: z.literal('mqtt'),
    url: z.string().regex(/^(mqtts?|wss?):\/\/[^/\s]+/, 'must be an mqtt://, mqtts://, ws:// or wss:// URL'),
    fleet: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'must be an MQTT fleet name (1-64 letters, digits, "_" or "-")'),
    /** An account of role `brain` in the fleet's accounts file. */
    username: z.string().min(1),
    /** The account's password, alone in a file (trailing newline ignored). */
    passwordFile: z.string().min(1),
    /** CA of the broker's certificate (mqtts://, wss://). */
    caFile: z.string().min(1).optional(),
    /** This replica's name in the records it writes; default random per process. */
    writer: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'must be 1-64 letters, digits, "_" or "-"').optional(),
    ackTimeoutMs: z.number().int().min(100).max(60_000).optional(),
  }),
]);

export const CloudConfigSchema = z.strictObject({
  listen: z.strictObject({ host: z.string().min(1).default('127.0.0.1'), port: Port.default(50051) }).default({ host: '127.0.0.1', port: 50051 }),
  tls: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1), caFile: z.string().min(1) }).optional(),
  robots: z.array(Id).min(1),
  backend: z.discriminatedUnion('kind', [ReferenceBackendSchema, OnnxBackendSchema, TritonBackendSchema, OpenpiBackendSchema, Gr00tBackendSchema, VlmPlannerBackendSchema]).default({ kind: 'reference' }),
  batching: z.strictObject({
    maxBatch: z.number().int().min(1).max(4096).optional(),
    maxWaitMs: z.number().min(0).max(1000).optional(),
    maxInFlight: z.number().int().min(1).max(64).optional(),
  }).optional(),
  backendTimeoutMs: z.number().int().min(1).max(60_000).optional(),
  planValidityMs: z.number().int().min(1).max(60_000).optional(),
  drainTimeoutMs: z.number().int().min(0).max(60_000).optional(),
  keepalive: z.strictObject({ timeMs: z.number().int().min(1000).optional(), timeoutMs: z.number().int().min(100).optional() }).optional(),
  metrics: z.strictObject({ host: z.string().min(1).default('127.0.0.1'), port: Port }).nullable().optional(),
  health: z.strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: Port,
    downAfterChecks: z.number().int().min(1).max(100).optional(),
    noticeTimeoutMs: z.number().int().min(0).max(120_000).optional(),
  }).nullable().optional(),
  replicaId: Id.optional(),
  log: z.strictObject({ level: LogLevel.default('info') }).default({ level: 'info' }),
  tasks: TasksSchema.default({ store: 'memory' }),
  dashboard: z.strictObject({
    listen: z.strictObject({ host: z.string().min(1).default('127.0.0.1'), port: Port.default(8080) }).default({ host: '127.0.0.1', port: 8080 }),
    fleet: z.string().min(1),
    accountsFile: z.string().min(1),
    mqttUrl: z.string().regex(/^wss?:\/\/[^/\s]+/, 'must be a ws:// or wss:// URL'),
    sessionTtlS: z.number().int().min(60).max(30 * 24 * 3600).default(12 * 3600),
    tls: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
    allowPlaintext: z.boolean().default(false),
    /** The key (>= 32 random bytes) shared with the broker, which checks the tokens minted with it. */
    brokerTokenKeyFile: z.string().min(1).optional(),
    brokerTokenTtlS: z.number().int().min(1).max(3600).default(60),
    /** The CA of the broker's certificate, for the dashboard's own revocation connection. */
    brokerCaFile: z.string().min(1).optional(),
    /** Where the dashboard itself reaches the broker (revocations at logout, dynamic security commands); default mqttUrl. */
    brokerRevokeUrl: z.string().regex(/^(wss?|mqtts?):\/\/[^/\s]+/, 'must be a ws://, wss://, mqtt:// or mqtts:// URL').optional(),
    /** Mosquitto with dynamic security: the admin login `spinal mosquitto --dynamic-security` wrote; one broker client per session. */
    brokerAdminFile: z.string().min(1).optional(),
  }).optional(),
});

export type CloudConfig = z.infer<typeof CloudConfigSchema>;
export type BackendConfig = CloudConfig['backend'];

export class CloudConfigError extends Error {
  override readonly name = 'CloudConfigError';
}

/** Validates a parsed configuration; `source` names it in errors; relative paths resolve against `baseDir`. */
export function parseCloudConfig(raw: unknown, source: string, baseDir = process.cwd()): CloudConfig {
  const r = CloudConfigSchema.safeParse(raw);
  if (!r.success) {
    throw new CloudConfigError(`config ${source}: ${describeIssues(r.error, raw)}`);
  }
  const c = r.data;
  const dup = c.robots.find((id, i) => c.robots.indexOf(id) !== i);
  if (dup !== undefined) throw new CloudConfigError(`config ${source}: robots: "${dup}" is listed twice`);
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  if (c.tls !== undefined) c.tls = { certFile: abs(c.tls.certFile), keyFile: abs(c.tls.keyFile), caFile: abs(c.tls.caFile) };
  if (c.backend.kind === 'onnx') c.backend = { ...c.backend, model: abs(c.backend.model) };
  if (c.tasks.store === 'mqtt') {
    c.tasks = { ...c.tasks, passwordFile: abs(c.tasks.passwordFile), ...(c.tasks.caFile !== undefined ? { caFile: abs(c.tasks.caFile) } : {}) };
    // Task topics name the robot in one MQTT level: the brain's robot ids must be MQTT names too.
    const bad = c.robots.find((id) => !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(id) || id === 'all');
    if (bad !== undefined) throw new CloudConfigError(`config ${source}: robots: "${bad}" cannot name an MQTT task topic (tasks.store "mqtt" needs letters, digits, "_" or "-", and not "all")`);
  }
  if (c.dashboard !== undefined) {
    const d = c.dashboard;
    c.dashboard = {
      ...d, accountsFile: abs(d.accountsFile),
      ...(d.tls !== undefined ? { tls: { certFile: abs(d.tls.certFile), keyFile: abs(d.tls.keyFile) } } : {}),
      ...(d.brokerTokenKeyFile !== undefined ? { brokerTokenKeyFile: abs(d.brokerTokenKeyFile) } : {}),
      ...(d.brokerCaFile !== undefined ? { brokerCaFile: abs(d.brokerCaFile) } : {}),
      ...(d.brokerAdminFile !== undefined ? { brokerAdminFile: abs(d.brokerAdminFile) } : {}),
    };
    if (d.brokerAdminFile !== undefined && d.brokerTokenKeyFile !== undefined) {
      throw new CloudConfigError(`config ${source}: dashboard: brokerTokenKeyFile (embedded broker) and brokerAdminFile (Mosquitto) are two ways of the same thing; give one`);
    }
  }
  return c;
}

export function loadCloudConfig(path: string): CloudConfig {
  const file = readJsonFile(path);
  if (!file.ok) throw new CloudConfigError(`config ${path}: ${file.problem}`);
  return parseCloudConfig(file.value, path, dirname(resolve(path)));
}

/** An object type with its `undefined`-able keys made optional and `undefined`-free (zod's
 * optional fields are `T | undefined`; the project compiles with exactOptionalPropertyTypes). */
export type NoUndefined<T> =
  & { [K in keyof T as undefined extends T[K] ? never : K]: T[K] }
  & { [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined> };

export function dropUndefined<T extends object>(o: T): NoUndefined<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as NoUndefined<T>;
}
