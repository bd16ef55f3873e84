/**
 * The brain under the hostile-images benchmark, in a process of its own: a BrainServer with the
 * ONNX backend serving a small image policy (16 x 16 RGB, cloud/testing/tiny-policy-model.ts) on a
 * loopback port, robots "b0".."b<N-1>", camera frames decoded in the image decoder pool with the
 * default limits. Reports its port over IPC, answers {type: 'stats'}, stops on {type: 'stop'}.
 */
import { OnnxBackend } from '../../cloud/backends/onnx/onnx-backend.js';
import { BrainServer } from '../../cloud/brain/brain-server.js';
import { tinyPolicyModel } from '../../cloud/testing/tiny-policy-model.js';
import { IMAGES_LATENT_DIM, IMAGES_LATENT_SPACE, type FromImagesChild, type ToImagesChild } from './brain-images-protocol.js';

const robots = Number(process.env['SPINAL_BENCH_ROBOTS'] ?? '100');
const send = (m: FromImagesChild): void => { process.send?.(m); };

const model = tinyPolicyModel({ stateDim: 3, instructionDim: 8, latentDim: IMAGES_LATENT_DIM, image: { height: 16, width: 16 }, latentSpace: IMAGES_LATENT_SPACE });
const backend = await OnnxBackend.load({ model: model.bytes, intraOpThreads: 1 });
const server = await BrainServer.start({
  host: '127.0.0.1', port: 0, tls: null, backend,
  robots: Array.from({ length: robots }, (_, i) => `b${i}`),
  batching: { maxBatch: 128, maxWaitMs: 2, maxInFlight: 2 },
});

async function byLabel(name: string, label: string): Promise<Record<string, number>> {
  const m = await server.metrics.registry.getSingleMetric(name)?.get();
  const out: Record<string, number> = {};
  for (const v of m?.values ?? []) out[String(v.labels[label])] = v.value;
  return out;
}

process.on('message', (m: ToImagesChild) => {
  if (m.type === 'stats') {
    void (async () => {
      const cpu = process.cpuUsage();
      send({
        type: 'stats', cpuUs: cpu.user + cpu.system,
        rejected: await byLabel('spinal_brain_observations_rejected_total', 'reason'),
        dropped: await byLabel('spinal_brain_backend_dropped_total', 'kind'),
      });
    })();
  } else if (m.type === 'stop') {
    void server.stop().then(() => process.exit(0));
  }
});
send({ type: 'ready', port: server.port });
