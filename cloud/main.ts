/**
 * The cloud's entry point (`spinal cloud --config FILE`): the brain server with its configured
 * backend, until SIGINT or SIGTERM, then a clean shutdown. (The dashboard and the embedded MQTT
 * broker are other issues' work and compose here when they exist.)
 */
import { pino, type Logger } from 'pino';
import { createBackend } from './backends/registry.js';
import { BrainServer } from './brain/brain-server.js';
import type { Clock } from './clock.js';
import { dropUndefined, type CloudConfig } from './config.js';
import { readTlsFiles } from './security/server-credentials.js';

export interface RunningCloud {
  brain: BrainServer;
  stop(): Promise<void>;
}

/** Starts everything the configuration asks for; rejects with a clear error when it cannot. */
export async function startCloud(config: CloudConfig, opts: { logger?: Logger; clock?: Clock } = {}): Promise<RunningCloud> {
  const logger = opts.logger ?? pino({ level: config.log.level, base: { service: 'brain' } }, pino.destination({ fd: 1, sync: true }));
  const tls = config.tls !== undefined ? readTlsFiles(config.tls) : null;
  const backend = await createBackend(config.backend, opts.clock !== undefined ? { clock: opts.clock } : {});
  try {
    const brain = await BrainServer.start({
      host: config.listen.host, port: config.listen.port, tls, robots: config.robots, backend, logger, processMetrics: true,
      metrics: config.metrics ?? null,
      ...(config.batching !== undefined ? { batching: dropUndefined(config.batching) } : {}),
      ...(config.backendTimeoutMs !== undefined ? { backendTimeoutMs: config.backendTimeoutMs } : {}),
      ...(config.planValidityMs !== undefined ? { planValidityMs: config.planValidityMs } : {}),
      ...(config.drainTimeoutMs !== undefined ? { drainTimeoutMs: config.drainTimeoutMs } : {}),
      ...(config.keepalive !== undefined ? { keepalive: dropUndefined(config.keepalive) } : {}),
      ...(opts.clock !== undefined ? { clock: opts.clock } : {}),
    });
    return { brain, stop: () => brain.stop() };
  } catch (e) {
    await backend.close();
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
