/**
 * The brain under benchmark, in a process of its own (brain-sessions.bench.ts forks it): a
 * BrainServer with the reference backend on a loopback port, robots "b0".."b<N-1>". It reports
 * its port over IPC, answers {type: 'stats'} with its RSS, heap and counters, and stops on
 * {type: 'stop'}.
 */
import { ReferenceBackend } from '../../cloud/backends/reference/reference-backend.js';
import { BrainServer } from '../../cloud/brain/brain-server.js';
import { watchParent } from '../../edge/process/tethered-child.js';

// Forked by the bench with a parent-death pipe: a bench that dies takes its brain with it.
watchParent();

export type ToChild = { type: 'stats' } | { type: 'stop' };
export type FromChild =
  | { type: 'ready'; port: number }
  | { type: 'stats'; rss: number; heapUsed: number; cpuUs: number; latencyCount: number; latencyBuckets: [number, number][]; plansSent: number; superseded: number; batches: number; batchSum: number };

const robots = Number(process.env['SPINAL_BENCH_ROBOTS'] ?? '2000');
const send = (m: FromChild): void => { process.send?.(m); };

const server = await BrainServer.start({
  host: '127.0.0.1', port: 0, tls: null, backend: new ReferenceBackend(),
  robots: Array.from({ length: robots }, (_, i) => `b${i}`),
  batching: { maxBatch: 256, maxWaitMs: 2, maxInFlight: 2 },
});
/** The plan latency histogram's cumulative buckets: [upper bound in s, count]. */
async function latencyBuckets(): Promise<[number, number][]> {
  const m = await server.metrics.planLatency.get();
  return m.values
    .filter((v) => v.metricName === 'spinal_brain_plan_latency_seconds_bucket' && v.labels['le'] !== '+Inf')
    .map((v) => [Number(v.labels['le']), v.value]);
}

process.on('message', (m: ToChild) => {
  if (m.type === 'stats') {
    void (async () => {
      const mu = process.memoryUsage();
      const v = (name: string, series?: string): Promise<number> => server.metrics.value(name, {}, series);
      send({
        type: 'stats', rss: mu.rss, heapUsed: mu.heapUsed, cpuUs: process.cpuUsage().user + process.cpuUsage().system,
        plansSent: await v('spinal_brain_plans_sent_total'),
        superseded: await v('spinal_brain_observations_superseded_total'),
        batches: await v('spinal_brain_batch_size', 'spinal_brain_batch_size_count'),
        batchSum: await v('spinal_brain_batch_size', 'spinal_brain_batch_size_sum'),
        latencyCount: await v('spinal_brain_plan_latency_seconds', 'spinal_brain_plan_latency_seconds_count'),
        latencyBuckets: await latencyBuckets(),
      });
    })();
  } else if (m.type === 'stop') {
    void server.stop().then(() => process.exit(0));
  }
});
send({ type: 'ready', port: server.port });
