/**
 * The cloud's entry point (`spinal cloud --config FILE`): the brain server with its configured
 * backend and, when configured, the fleet dashboard (task entry goes straight to this brain), until
 * SIGINT or SIGTERM, then a clean shutdown. The MQTT broker is not the cloud's: the dashboard's
 * browsers reach it over WebSocket at `dashboard.mqttUrl`.
 */
import { pino, type Logger } from 'pino';
import { readFileSync } from 'node:fs';
import { parseFleetAccounts } from '../proto/mqtt/index.js';
import { createBackend } from './backends/registry.js';
import { BrainServer } from './brain/brain-server.js';
import { MqttTaskStore } from './brain/mqtt-task-store.js';
import { MemoryTaskStore, type TaskStore } from './brain/task-store.js';
import type { Clock } from './clock.js';
import { CloudConfigError, dropUndefined, type CloudConfig } from './config.js';
import { DashboardServer } from './dashboard/dashboard-server.js';
import { DynsecSessions } from './dashboard/dynsec-sessions.js';
import { DashboardUsers } from './dashboard/users.js';
import { readTlsFiles } from './security/server-credentials.js';

export interface RunningCloud {
  brain: BrainServer;
  dashboard: DashboardServer | null;
  stop(): Promise<void>;
}

/** The dashboard's logins from the accounts file; errors name the file and key. */
function dashboardUsers(file: string, fleet: string): DashboardUsers {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CloudConfigError(`dashboard.accountsFile ${file}: ${(e as Error).message}`);
  }
  const accounts = parseFleetAccounts(raw, file);
  if (accounts.fleet !== fleet) throw new CloudConfigError(`dashboard.fleet is ${JSON.stringify(fleet)} but ${file} is for fleet ${JSON.stringify(accounts.fleet)}`);
  return new DashboardUsers(accounts);
}

/** The dashboard's admin login for Mosquitto's dynamic security; errors name the file. */
function brokerAdmin(file: string): { username: string; password: string } {
  const text = readNamed(file, 'dashboard.brokerAdminFile').toString('utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CloudConfigError(`dashboard.brokerAdminFile ${file}: ${(e as Error).message}`);
  }
  const o = raw as { username?: unknown; password?: unknown } | null;
  if (typeof o?.username !== 'string' || typeof o.password !== 'string' || o.username === '' || o.password === '') {
    throw new CloudConfigError(`dashboard.brokerAdminFile ${file}: needs {"username", "password"} (as \`spinal mosquitto --dynamic-security\` writes it)`);
  }
  return { username: o.username, password: o.password };
}

/** A file's bytes; the error names the configuration key. */
function readNamed(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new CloudConfigError(`${key}: cannot read ${path}: ${(e as Error).message}`);
  }
}

/** The configured task store (tasks.store); an MQTT one is connecting (or retrying) when this resolves. */
async function taskStore(config: CloudConfig, logger: Logger): Promise<TaskStore> {
  const t = config.tasks;
  if (t.store === 'memory') return new MemoryTaskStore();
  const password = readNamed(t.passwordFile, 'tasks.passwordFile').toString('utf8').replace(/\r?\n$/, '');
  if (password === '') throw new CloudConfigError(`tasks.passwordFile ${t.passwordFile} is empty`);
  return MqttTaskStore.start({
    url: t.url, fleet: t.fleet, username: t.username, password, logger: logger.child({ component: 'task-store' }),
    ...(t.caFile !== undefined ? { ca: readNamed(t.caFile, 'tasks.caFile') } : {}),
    ...(t.writer !== undefined ? { writer: t.writer } : {}),
    ...(t.ackTimeoutMs !== undefined ? { ackTimeoutMs: t.ackTimeoutMs } : {}),
  });
}

/** Starts everything the configuration asks for; rejects with a clear error when it cannot. */
export async function startCloud(config: CloudConfig, opts: { logger?: Logger; clock?: Clock } = {}): Promise<RunningCloud> {
  const logger = opts.logger ?? pino({ level: config.log.level, base: { service: 'brain' } }, pino.destination({ fd: 1, sync: true }));
  const tls = config.tls !== undefined ? readTlsFiles(config.tls) : null;
  const d = config.dashboard;
  const users = d !== undefined ? dashboardUsers(d.accountsFile, d.fleet) : null;
  const backend = await createBackend(config.backend, opts.clock !== undefined ? { clock: opts.clock } : {});
  let tasks: TaskStore | null = null;
  try {
    tasks = await taskStore(config, logger);
    const brain = await BrainServer.start({
      tasks,
      host: config.listen.host, port: config.listen.port, tls, robots: config.robots, backend, logger, processMetrics: true,
      metrics: config.metrics ?? null,
      health: config.health != null ? dropUndefined(config.health) : null,
      ...(config.replicaId !== undefined ? { replicaId: config.replicaId } : {}),
      ...(config.batching !== undefined ? { batching: dropUndefined(config.batching) } : {}),
      ...(config.backendTimeoutMs !== undefined ? { backendTimeoutMs: config.backendTimeoutMs } : {}),
      ...(config.planValidityMs !== undefined ? { planValidityMs: config.planValidityMs } : {}),
      ...(config.drainTimeoutMs !== undefined ? { drainTimeoutMs: config.drainTimeoutMs } : {}),
      ...(config.keepalive !== undefined ? { keepalive: dropUndefined(config.keepalive) } : {}),
      ...(opts.clock !== undefined ? { clock: opts.clock } : {}),
    });
    let dashboard: DashboardServer | null = null;
    if (d !== undefined && users !== null) {
      const dashLog = logger.child({ component: 'dashboard' });
      const brokerSessions = d.brokerAdminFile !== undefined ? await DynsecSessions.connect({
        url: d.brokerRevokeUrl ?? d.mqttUrl, ...brokerAdmin(d.brokerAdminFile),
        ...(d.brokerCaFile !== undefined ? { ca: readNamed(d.brokerCaFile, 'dashboard.brokerCaFile') } : {}),
        onError: (message) => dashLog.warn({ err: message }, 'broker dynamic security'),
      }).catch(async (e: unknown) => { await brain.stop(); throw e; }) : null;
      try {
        dashboard = await DashboardServer.start({
          host: d.listen.host, port: d.listen.port, fleet: d.fleet, robots: config.robots, users, mqttUrl: d.mqttUrl, brain,
          sessionTtlMs: d.sessionTtlS * 1000, logger: dashLog, allowPlaintext: d.allowPlaintext,
          ...(brokerSessions !== null ? { brokerSessions } : {}),
          ...(d.tls !== undefined ? { tls: { cert: readNamed(d.tls.certFile, 'dashboard.tls.certFile'), key: readNamed(d.tls.keyFile, 'dashboard.tls.keyFile') } } : {}),
          ...(d.brokerTokenKeyFile !== undefined ? {
            brokerTokens: {
              key: readNamed(d.brokerTokenKeyFile, 'dashboard.brokerTokenKeyFile'), ttlMs: d.brokerTokenTtlS * 1000,
              ...(d.brokerCaFile !== undefined ? { ca: readNamed(d.brokerCaFile, 'dashboard.brokerCaFile') } : {}),
              ...(d.brokerRevokeUrl !== undefined ? { revokeUrl: d.brokerRevokeUrl } : {}),
            },
          } : {}),
        });
      } catch (e) {
        await brokerSessions?.stop();
        await brain.stop();
        throw e;
      }
    }
    return { brain, dashboard, stop: async () => { await dashboard?.close(); await brain.stop(); } };
  } catch (e) {
    await backend.close();
    await tasks?.close();
    throw e;
  }
}

/** Runs until SIGINT or SIGTERM; resolves with the exit code (0 after a clean shutdown). */
export async function runCloud(opts: { config: CloudConfig; logger?: Logger }): Promise<number> {
  const cloud = await startCloud(opts.config, opts.logger !== undefined ? { logger: opts.logger } : {});
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  await cloud.stop();
  return signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1;
}
