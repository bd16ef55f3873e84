/**
 * What the vlm-planner adds around a model call, and that serving never waits on it. The same
 * OpenAI-compatible test server (cloud/testing/openai-test-server.ts, answering at once with a
 * two-subtask plan) is called directly (one POST of a prepared body with a 448x448 JPEG data URL,
 * reply parsed) and by the planner (task change → image prepared → prompt → POST → reply parsed,
 * checked against the robot → plan in force), alternating one of each so both see the same
 * machine. The planner runs twice: with a camera frame already 448x448 (sent as is) and with a
 * 640x480 frame (decoded and resized in the decoder pool, then encoded again). Last, observation →
 * plan round trips through the brain server (gRPC) while the model is busy with 300 ms calls back
 * to back: the plan comes from the plan in force, not from the model.
 */
import { BrainServer } from '../../cloud/brain/brain-server.js';
import { VlmPlannerBackend } from '../../cloud/backends/vlm-planner/vlm-planner-backend.js';
import { planJsonSchema } from '../../cloud/backends/vlm-planner/plan-schema.js';
import { planMessages } from '../../cloud/backends/vlm-planner/plan-prompt.js';
import { robotJointsFromHello } from '../../cloud/backends/reference/robot-kinematics.js';
import type { InferRequest } from '../../cloud/backends/backend.js';
import { brainClient, testHello, testObservation, TestSession } from '../../cloud/testing/brain-test-client.js';
import { OpenAiTestServer, type ScriptedAnswer } from '../../cloud/testing/openai-test-server.js';
import { noiseJpeg } from '../../cloud/testing/test-jpegs.js';
import { nowNs, stats, type BenchResult, type Scenario } from './harness.js';

const N = 150;
const hello = testHello('r1');
const robot = robotJointsFromHello(hello);
const sub = (kind: string, text: string, pose: string) => ({ kind, text, pose, joints: null, deltas: null, waitMs: null });
const answer: ScriptedAnswer = { json: { done: false, subtasks: [sub('pose', 'go to ready', 'ready'), sub('pose', 'go home', 'home')] } };
const ctx = { signal: new AbortController().signal, timeoutMs: 1000 };

function frame(w: number, h: number) {
  return { cameraId: 'front', encoding: 'jpeg', data: Buffer.from(noiseJpeg(w, h, 80)), width: w, height: h, captureTimeUs: 0 };
}

/** One planning call per invocation: a new task makes the planner ask the model at once. */
function plannerCall(b: VlmPlannerBackend, f: ReturnType<typeof frame>): () => Promise<void> {
  let k = 0;
  return async () => {
    k++;
    const r: InferRequest = { session: { sessionId: 's1', hello }, observation: testObservation(k, [0, 0, 0], { frames: [f] }), task: { taskId: `t${k}`, instruction: 'touch ready, then go home' } };
    await b.infer([r], ctx);
    await b.settled('s1');
    if (b.status('s1')?.startsWith('subtask 1/2') !== true) throw new Error(`no plan: ${b.status('s1') ?? ''}`);
  };
}

async function alternate(direct: () => Promise<void>, other: () => Promise<void>, n: number): Promise<{ d: number[]; o: number[] }> {
  for (let i = 0; i < 10; i++) { await direct(); await other(); }
  const d: number[] = [], o: number[] = [];
  for (let i = 0; i < n; i++) {
    let t = nowNs(); await direct(); d.push((nowNs() - t) / 1e6);
    t = nowNs(); await other(); o.push((nowNs() - t) / 1e6);
  }
  return { d, o };
}

export const scenario: Scenario = {
  name: 'vlm-planner-latency',
  description: 'vlm-planner: a model call direct vs through the planner (image, prompt, checks), and observation → plan while the model thinks',
  async run(): Promise<BenchResult> {
    const rows: (string | number)[][] = [];
    const summary: Record<string, number> = {};
    const s = await OpenAiTestServer.start({ answer: () => answer });
    const same = frame(448, 448), big = frame(640, 480);
    const body = JSON.stringify({
      model: 'test-vlm', max_tokens: 1024, temperature: 0, stream: false,
      messages: planMessages(robot, 8, { instruction: 'touch ready, then go home', state: [0, 0, 0], reason: 'new task', previous: null, imageUrl: `data:image/jpeg;base64,${same.data.toString('base64')}`, imageNote: null }),
      response_format: { type: 'json_schema', json_schema: { name: 'robot_plan', strict: true, schema: planJsonSchema(robot, 8) } },
    });
    const direct = async (): Promise<void> => {
      const res = await fetch(`${s.baseUrl}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const j = await res.json() as { choices: { message: { content: string } }[] };
      JSON.parse(j.choices[0]?.message.content ?? '');
    };
    const pass = new VlmPlannerBackend({ baseUrl: s.baseUrl, model: 'test-vlm', replanIntervalMs: 0 });
    const resize = new VlmPlannerBackend({ baseUrl: s.baseUrl, model: 'test-vlm', replanIntervalMs: 0 });
    const a = await alternate(direct, plannerCall(pass, same), N);
    const r = await alternate(direct, plannerCall(resize, big), Math.round(N / 3));
    await pass.close();
    await resize.close();
    for (const [name, m] of [['448x448 frame sent as is', a], ['640x480 frame resized to 448x448', r]] as const) {
      const d = stats(m.d), o = stats(m.o);
      rows.push([name, 'direct POST', d.median, d.p99]);
      rows.push([name, 'through the planner', o.median, o.p99]);
      rows.push([name, 'added by the planner', o.median - d.median, o.p99 - d.p99]);
    }
    const sa = stats(a.o), da = stats(a.d), sr = stats(r.o), dr = stats(r.d);
    summary['added_p50_ms'] = sa.median - da.median;
    summary['added_p99_ms'] = sa.p99 - da.p99;
    summary['added_resize_p50_ms'] = sr.median - dr.median;
    summary['added_resize_p99_ms'] = sr.p99 - dr.p99;
    await s.close();

    // Serving while the model thinks: 300 ms model calls back to back (a timer of 1 ms).
    const slow = await OpenAiTestServer.start({ answer: () => ({ ...answer, delayMs: 300 }) });
    const b = new VlmPlannerBackend({ baseUrl: slow.baseUrl, model: 'test-vlm', replanIntervalMs: 1 });
    const srv = await BrainServer.start({ host: '127.0.0.1', port: 0, tls: null, robots: ['r1'], backend: b, planValidityMs: 1000, backendTimeoutMs: 1000, batching: { maxWaitMs: 0 } });
    srv.setTask('r1', 'touch ready, then go home');
    const client = brainClient(`127.0.0.1:${srv.port}`);
    const t = new TestSession(client);
    t.hello(hello);
    await t.next('welcome');
    const rtt: number[] = [];
    for (let i = 1; i <= 20 + 3 * N; i++) {
      const t0 = nowNs();
      t.observe(testObservation(i, [0, 0, 0]));
      await t.next('plan');
      if (i > 20) rtt.push((nowNs() - t0) / 1e6);
    }
    const calls = b.stats().calls;
    t.end(); client.close();
    await srv.stop();
    await slow.close();
    const st = stats(rtt);
    rows.push(['brain serving, model busy (300 ms calls)', 'observation → plan', st.median, st.p99]);
    summary['serve_p50_ms'] = st.median;
    summary['serve_p99_ms'] = st.p99;
    summary['model_calls_during_serving'] = calls;
    return {
      scenario: 'vlm-planner-latency',
      title: `${N} planning calls alternating direct / through the planner (${Math.round(N / 3)} with a resize), loopback, the test server answering at once`,
      columns: ['case', 'path', 'p50 ms', 'p99 ms'],
      rows,
      summary,
      notes: [
        'the planner path includes the data URL, the prompt, the reply\'s schema and limit checks and the new goal runner; the direct path only the POST and JSON parses',
        'shared machine (other work running): p99 is noisy',
      ],
    };
  },
};
