/**
 * What the brain adds in the middle of a policy server: the same test server (openpi WebSocket,
 * GR00T ZeroMQ; cloud/testing) called directly by a client, and through the brain (an edge-side
 * gRPC session → brain server → openpi / gr00t backend → server → plan back), alternating one
 * call of each so both see the same machine. Round trip per call, real time; the policy answers
 * at once with a 50x7 chunk (openpi) or 16 rows of 6 + 1 (GR00T).
 */
import { BrainServer } from '../../cloud/brain/brain-server.js';
import { createGr00tBackend } from '../../cloud/backends/gr00t/gr00t-backend.js';
import { Gr00tConnection } from '../../cloud/backends/gr00t/gr00t-client.js';
import { createOpenpiBackend } from '../../cloud/backends/openpi/openpi-backend.js';
import { OpenpiConnection } from '../../cloud/backends/openpi/openpi-client.js';
import { float32Array } from '../../cloud/backends/policy-server/ndarray.js';
import type { BrainBackend } from '../../cloud/backends/backend.js';
import { brainClient, testHello, testObservation, TestSession } from '../../cloud/testing/brain-test-client.js';
import { Gr00tTestServer } from '../../cloud/testing/gr00t-test-server.js';
import { OpenpiTestServer } from '../../cloud/testing/openpi-test-server.js';
import { nowNs, stats, type BenchResult, type Scenario } from './harness.js';

const N = 300;
const J = 7;
const joints = Array.from({ length: J }, (_, i) => ({ name: `j${i}`, positionMin: -3, positionMax: 3, velocityMax: 3 }));
const hello = { ...testHello('r1'), joints, stateDim: J, actionDim: J, acceptsActionChunks: true, protocolMinor: 1, maxChunkRows: 64, poses: {} };
const state = new Array<number>(J).fill(0.1);

async function throughBrain(backend: BrainBackend): Promise<{ call: () => Promise<void>; stop: () => Promise<void> }> {
  const srv = await BrainServer.start({ host: '127.0.0.1', port: 0, tls: null, robots: ['r1'], backend, planValidityMs: 1000, backendTimeoutMs: 2000, batching: { maxWaitMs: 0 } });
  const client = brainClient(`127.0.0.1:${srv.port}`);
  const t = new TestSession(client);
  t.hello(hello);
  await t.next('welcome');
  let seq = 0;
  return {
    call: async () => {
      t.observe(testObservation(++seq, state));
      await t.next('plan');
    },
    stop: async () => { t.end(); client.close(); await srv.stop(); },
  };
}

async function measure(direct: () => Promise<void>, brain: () => Promise<void>): Promise<{ d: number[]; b: number[] }> {
  for (let i = 0; i < 20; i++) { await direct(); await brain(); } // warm-up
  const d: number[] = [], b: number[] = [];
  for (let i = 0; i < N; i++) {
    let t = nowNs(); await direct(); d.push((nowNs() - t) / 1e6);
    t = nowNs(); await brain(); b.push((nowNs() - t) / 1e6);
  }
  return { d, b };
}

export const scenario: Scenario = {
  name: 'policy-adapter-latency',
  description: 'round trip to the openpi and GR00T test servers, direct vs through the brain (same run, alternating)',
  async run(): Promise<BenchResult> {
    const rows: (string | number)[][] = [];
    const summary: Record<string, number> = {};
    const chunk = Array.from({ length: 50 }, () => new Array<number>(J).fill(0.2));
    const op = await OpenpiTestServer.start({ policy: () => ({ actions: chunk }) });
    const conn = await OpenpiConnection.connect(op.url, { timeoutMs: 2000 });
    const opBrain = await throughBrain(createOpenpiBackend({ url: op.url, actionHz: 50 }));
    const obs = { state: float32Array(state, [J]), prompt: 'go' };
    const o = await measure(async () => { await conn.infer(obs, 2000); }, opBrain.call);
    conn.close();
    await opBrain.stop();
    await op.close();

    const gr = await Gr00tTestServer.start({ policy: () => ({ action: { arm: Array.from({ length: 16 }, () => new Array<number>(6).fill(0.2)), gripper: Array.from({ length: 16 }, () => [0.1]) } }) });
    const gc = new Gr00tConnection(gr.endpoint);
    const grBrain = await throughBrain(createGr00tBackend({ address: gr.endpoint, actionHz: 30, state: { arm: [0, 1, 2, 3, 4, 5], gripper: [6] }, actions: { arm: [0, 1, 2, 3, 4, 5], gripper: [6] } }));
    const gobs = { observation: { video: {}, state: { arm: float32Array(state.slice(0, 6), [1, 1, 6]), gripper: float32Array([0.1], [1, 1, 1]) }, language: { task: [['go']] } }, options: null };
    const g = await measure(async () => { await gc.call('get_action', gobs, 2000); }, grBrain.call);
    gc.close();
    await grBrain.stop();
    await gr.close();

    for (const [name, r] of [['openpi', o], ['gr00t', g]] as const) {
      const d = stats(r.d), b = stats(r.b);
      rows.push([name, 'direct client', d.median, d.p99]);
      rows.push([name, 'through the brain', b.median, b.p99]);
      rows.push([name, 'added by the brain', b.median - d.median, b.p99 - d.p99]);
      summary[`${name}_added_p50_ms`] = b.median - d.median;
      summary[`${name}_added_p99_ms`] = b.p99 - d.p99;
      summary[`${name}_ratio_p50`] = b.median / d.median;
    }
    return {
      scenario: 'policy-adapter-latency',
      title: `${N} calls each, alternating direct / through the brain, loopback, test servers answering at once`,
      columns: ['peer', 'path', 'p50 ms', 'p99 ms'],
      rows,
      summary,
      notes: ['the brain path includes the edge-side gRPC session and the brain\'s checks of the chunk; shared machine (other work running)'],
    };
  },
};
