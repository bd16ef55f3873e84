/**
 * The vlm-planner backend against an OpenAI-compatible test server (cloud/testing/
 * openai-test-server.ts): the health handshake, the request as the server reads it (json_schema
 * response_format, the camera as a JPEG data URL, the bearer key), a two-subtask plan carried out
 * in order by a simulated robot through the brain server, every kind of bad model output refused
 * with its reason while the robot holds, a slow reply and a disconnect (the plan in force keeps
 * running, then lapses to a hold), replanning on a timer, and the json_object fallback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeGoal, goalRangeFromLimits } from '../../../proto/latent/reference-goal.js';
import { ManualClock } from '../../clock.js';
import { parseCloudConfig } from '../../config.js';
import { brainServerHarness } from '../../testing/brain-server-harness.js';
import { listSessions, operatorClient, setTask, testHello, testObservation } from '../../testing/brain-test-client.js';
import { OpenAiTestServer, type ScriptedAnswer, type ChatCall } from '../../testing/openai-test-server.js';
import { grayJpeg } from '../../testing/test-jpegs.js';
import { readJpegHeader } from '../images/jpeg-header.js';
import type { InferRequest, InferResult } from '../backend.js';
import { createBackend } from '../registry.js';
import { VlmPlannerBackend, type VlmPlannerOptions } from './vlm-planner-backend.js';

const servers: OpenAiTestServer[] = [];
const backends: VlmPlannerBackend[] = [];
afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(answer: (call: ChatCall, i: number) => ScriptedAnswer | Promise<ScriptedAnswer>, over: Partial<Parameters<typeof OpenAiTestServer.start>[0]> = {}): Promise<OpenAiTestServer> {
  const s = await OpenAiTestServer.start({ answer, ...over });
  servers.push(s);
  return s;
}

function backend(s: OpenAiTestServer, over: Partial<VlmPlannerOptions> = {}): VlmPlannerBackend {
  const b = new VlmPlannerBackend({ baseUrl: s.baseUrl, model: 'test-vlm', replanIntervalMs: 0, ...over });
  backends.push(b);
  return b;
}

const hello = testHello('r1');
const range = goalRangeFromLimits([-3, -2, -2.5], [3, 2, 2.5]);
const ctx = { signal: new AbortController().signal, timeoutMs: 100 };
const request = (seq: number, state: number[], instruction = 'go to ready', taskId = 't1', over: Partial<InferRequest> = {}): InferRequest =>
  ({ session: { sessionId: 's1', hello }, observation: testObservation(seq, state), task: { taskId, instruction }, ...over });
async function step(b: VlmPlannerBackend, seq: number, state: number[], instruction?: string): Promise<{ goal: number[]; result: InferResult }> {
  const [r] = await b.infer([request(seq, state, instruction)], ctx);
  if (r?.ok !== true) throw new Error(`no latent: ${JSON.stringify(r)}`);
  return { goal: Array.from(decodeGoal(r.latent, range).position, (v) => Number(v.toFixed(4))), result: r };
}
const sub = (kind: string, text: string, f: { pose?: string; joints?: number[]; deltas?: number[]; waitMs?: number } = {}) =>
  ({ kind, text, pose: f.pose ?? null, joints: f.joints ?? null, deltas: f.deltas ?? null, waitMs: f.waitMs ?? null });
const plan = (...subtasks: ReturnType<typeof sub>[]) => ({ json: { done: false, subtasks } });

describe('vlm-planner: the server handshake and the request', () => {
  it('health: GET /v1/models must list the model; a missing model, a wrong key or no server is named', async () => {
    const s = await server(() => ({ json: { done: true, subtasks: [] } }), { models: ['a', 'test-vlm'], apiKey: 'k1' });
    expect(await backend(s, { apiKey: 'k1' }).health()).toBeNull();
    expect(await backend(s, { apiKey: 'k1', model: 'qwen' }).health()).toBe(`vlm-planner model "qwen" is not served by ${s.baseUrl} (it serves: a, test-vlm)`);
    expect(await backend(s).health()).toMatch(/GET \/v1\/models answered 401 \(Invalid API key\); check the key named by apiKeyEnv/);
    const gone = await OpenAiTestServer.start({ answer: () => ({ hang: true }) }); // never connected to
    const url = gone.baseUrl;
    await gone.close();
    expect(await backend(gone).health(500)).toMatch(new RegExp(`^vlm-planner baseUrl ${url}: GET /v1/models failed: ECONNREFUSED`));
  });

  it('a wrong model fails at start naming backend.model; an unset apiKeyEnv names it', async () => {
    const s = await server(() => ({ json: { done: true, subtasks: [] } }));
    await expect(createBackend({ kind: 'vlm-planner', baseUrl: s.baseUrl, model: 'nope' })).rejects.toThrow(/^backend.model: vlm-planner model "nope" is not served by/);
    await expect(createBackend({ kind: 'vlm-planner', baseUrl: s.baseUrl, model: 'test-vlm', apiKeyEnv: 'SPINAL_TEST_UNSET_KEY' })).rejects.toThrow('backend.apiKeyEnv: the environment variable SPINAL_TEST_UNSET_KEY is not set');
    const b = await createBackend({ kind: 'vlm-planner', baseUrl: s.baseUrl, model: 'test-vlm' });
    expect(b.name).toBe('vlm-planner');
    await b.close();
  });

  it('the configuration section is checked, naming the field', () => {
    const ok = parseCloudConfig({ robots: ['r1'], backend: { kind: 'vlm-planner', baseUrl: 'http://127.0.0.1:8000', model: 'Qwen/Qwen2.5-VL-7B-Instruct', apiKeyEnv: 'VLM_KEY', imageSize: { width: 448, height: 448 }, replanIntervalMs: 5000 } }, 'c.json');
    expect(ok.backend.kind).toBe('vlm-planner');
    expect(() => parseCloudConfig({ robots: ['r1'], backend: { kind: 'vlm-planner', baseUrl: 'http://127.0.0.1:8000/v1', model: 'm' } }, 'c.json')).toThrow(/backend.baseUrl.*without \/v1/);
    expect(() => parseCloudConfig({ robots: ['r1'], backend: { kind: 'vlm-planner', baseUrl: 'x', model: 'm' } }, 'c.json')).toThrow(/backend.baseUrl.*http:\/\/ or https:\/\//);
    expect(() => parseCloudConfig({ robots: ['r1'], backend: { kind: 'vlm-planner', baseUrl: 'http://h:1', model: 'm', apiKeyEnv: 'no spaces' } }, 'c.json')).toThrow(/backend.apiKeyEnv/);
  });

  it('sends the instruction, joints, poses and a JPEG data URL of the configured size, with a strict json_schema naming this robot\'s poses and joint count', async () => {
    const s = await server(() => plan(sub('pose', 'go to ready', { pose: 'ready' })), { apiKey: 'secret' });
    const b = backend(s, { apiKey: 'secret', imageSize: { width: 32, height: 24 } });
    const frame = { cameraId: 'front', encoding: 'jpeg', data: Buffer.from(grayJpeg(128, 64, 48)), width: 64, height: 48, captureTimeUs: 0 };
    await b.infer([request(1, [0, 0, 0], 'go to ready', 't1', { observation: testObservation(1, [0, 0, 0], { frames: [frame] }) })], ctx);
    await b.settled('s1');
    const call = s.calls[0] as ChatCall;
    expect(call.headers.authorization).toBe('Bearer secret');
    const body = call.body as { model: string; response_format: { type: string; json_schema: { name: string; strict: boolean; schema: { properties: { subtasks: { maxItems: number; items: { properties: Record<string, unknown> } } } } } }; messages: { role: string; content: unknown }[] };
    expect(body.model).toBe('test-vlm');
    expect(body.response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'robot_plan', strict: true } });
    const items = body.response_format.json_schema.schema.properties.subtasks.items.properties;
    expect(items['pose']).toEqual({ anyOf: [{ type: 'string', enum: ['home', 'ready'] }, { type: 'null' }] });
    expect(items['joints']).toMatchObject({ anyOf: [{ minItems: 3, maxItems: 3 }, { type: 'null' }] });
    expect(body.messages[0]?.content).toMatch(/1: lift \[-2, 2\] rad/);
    expect(body.messages[0]?.content).toMatch(/ready: \[1, 1, 1\]/);
    const parts = body.messages[1]?.content as { type: string; text?: string; image_url?: { url: string } }[];
    expect(parts[0]?.text).toMatch(/Instruction: go to ready\nJoint positions now \(rad\): \[0, 0, 0\]\nWhy a plan is asked for now: new task/);
    const url = parts[1]?.image_url?.url ?? '';
    expect(url).toMatch(/^data:image\/jpeg;base64,/);
    const header = readJpegHeader(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64'));
    expect(header.ok && header.header).toMatchObject({ width: 32, height: 24 });
  });
});

describe('vlm-planner: plans and their execution', () => {
  it('holds where the robot is until the first plan, serving every observation without waiting on the model', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => { release = r; });
    const s = await server(async () => { await gate; return plan(sub('pose', 'go to ready', { pose: 'ready' })); });
    const clock = new ManualClock();
    const b = backend(s, { clock });
    expect((await step(b, 1, [0.2, 0.1, 0])).goal).toEqual([0.2, 0.1, 0]);
    await s.callsReached(1);
    expect((await step(b, 2, [0.2, 0.1, 0])).goal).toEqual([0.2, 0.1, 0]); // the model is still thinking
    expect(b.status('s1')).toBe('holding: waiting for the first plan (planning)');
    release();
    await b.settled('s1');
    expect((await step(b, 3, [0.2, 0.1, 0])).goal).toEqual([1, 1, 1]);
    expect(b.status('s1')).toBe('subtask 1/1: go to ready');
    expect(s.calls).toHaveLength(1);
  });

  it('relative moves and waits: targets add up from the robot\'s position; a wait holds its target for its time', async () => {
    const s = await server((_c, i) => (i === 0 ? plan(sub('move', 'raise', { deltas: [0, 0.5, 0] }), sub('wait', 'settle', { waitMs: 500 }), sub('move', 'turn', { deltas: [0.3, 0, 0] })) : { json: { done: true, subtasks: [] } }));
    const clock = new ManualClock();
    const b = backend(s, { clock });
    await step(b, 1, [0, 0, 0]);
    await b.settled('s1');
    expect((await step(b, 2, [0, 0, 0])).goal).toEqual([0, 0.5, 0]);
    expect((await step(b, 3, [0, 0.5, 0])).goal).toEqual([0, 0.5, 0]); // raised: the wait starts
    clock.advanceMs(400);
    expect((await step(b, 4, [0, 0.5, 0])).goal).toEqual([0, 0.5, 0]);
    clock.advanceMs(150);
    expect((await step(b, 5, [0, 0.5, 0])).goal).toEqual([0.3, 0.5, 0]);
    expect(b.status('s1')).toMatch(/^subtask 3\/3: turn/);
  });

  it('refuses bad model output with the reason named, and the robot holds its current pose', async () => {
    const cases: [ScriptedAnswer, RegExp, string][] = [
      [{ content: JSON.stringify(plan(sub('pose', 'go to the kitchen', { pose: 'kitchen' })).json) }, /^vlm-planner: holding: model output refused: subtask 1 \(pose "go to the kitchen"\): pose "kitchen" is not one of this robot's poses \(home, ready\)$/, 'BACKEND_FAILED'],
      [{ content: JSON.stringify(plan(sub('joints', 'reach', { joints: [0, 5, 0] })).json) }, /subtask 1 \(joints "reach"\): joint 1 \(lift\) target 5\.0000 rad is outside its limits \[-2, 2\]/, 'BACKEND_FAILED'],
      [{ content: JSON.stringify(plan(sub('move', 'far', { deltas: [0, 1, 0] }), sub('move', 'further', { deltas: [0, 0.7, 0] })).json) }, /subtask 2 \(move "further"\): joint 1 \(lift\) target 2\.1000 rad is outside its limits/, 'BACKEND_FAILED'],
      [{ content: '{"done": false, "subtasks": [{"kind": "joints", "text": "x", "pose": null, "joints": [0, NaN, 0], "deltas": null, "waitMs": null}]}' }, /the plan holds a non-finite number \(NaN\), which JSON cannot carry/, 'BACKEND_FAILED'],
      [{ content: '{"done": false, "subtasks": [{"kind": "joints", "text": "x", "pose": null, "joints": [0, 1e999, 0], "deltas": null, "waitMs": null}]}' }, /joint 1 \(lift\) is Infinity|reply\.subtasks\[0\]\.joints\[1\]/, 'BACKEND_FAILED'],
      [{ content: JSON.stringify(plan(sub('joints', 'two', { joints: [0, 0] })).json) }, /subtask 1 \(joints "two"\): "joints" has 2 values; this robot has 3 joints \(pan, lift, elbow\)/, 'BACKEND_FAILED'],
      [{ content: 'Sure! First I will move to the home pose.' }, /the reply is not JSON \(.*\); it begins "Sure! First/, 'BACKEND_FAILED'],
      [{ content: '{"done": false}' }, /the reply does not match the plan schema at reply\.subtasks/, 'BACKEND_FAILED'],
      [{ content: '{"done": false, "subtasks": [{"kind": "fly", "text": "", "pose": null, "joints": null, "deltas": null, "waitMs": null}]}' }, /reply\.subtasks\[0\]\.kind/, 'BACKEND_FAILED'],
      [{ refusal: 'I cannot help with that.' }, /model output refused: the model refused: I cannot help with that\./, 'BAD_INSTRUCTION'],
      [{ content: '{"done": false, "subt', finishReason: 'length' }, /cut off at the token limit \(vlm-planner maxTokens\)/, 'BACKEND_FAILED'],
      [{ content: JSON.stringify(plan(...Array.from({ length: 9 }, (_, i) => sub('wait', `w${i}`, { waitMs: 10 }))).json) }, /the plan has 9 subtasks; vlm-planner maxSubtasks is 8/, 'BACKEND_FAILED'],
    ];
    for (const [answer, reason, code] of cases) {
      // First a good plan is in force, then the bad one arrives on the timer: the robot stops where it is.
      const s = await server((_c, i) => (i === 0 ? plan(sub('pose', 'go to ready', { pose: 'ready' })) : answer));
      const clock = new ManualClock();
      const b = backend(s, { clock, replanIntervalMs: 1000 });
      await step(b, 1, [0, 0, 0]);
      await b.settled('s1');
      expect((await step(b, 2, [0, 0, 0])).goal).toEqual([1, 1, 1]);
      clock.advanceMs(1000);
      await step(b, 3, [0.4, 0.4, 0.4]);
      await b.settled('s1');
      const { goal, result } = await step(b, 4, [0.5, 0.5, 0.5]);
      expect(goal).toEqual([0.4, 0.4, 0.4]); // where the robot was when the reply was refused
      expect(result.ok && result.notice?.code).toBe(code);
      expect(result.ok ? result.notice?.message : '').toMatch(reason);
      expect(b.status('s1')).toMatch(/^holding: model output refused: /);
      const later = await step(b, 5, [0.52, 0.5, 0.5]);
      expect(later.goal).toEqual([0.4, 0.4, 0.4]); // held, no drift; the notice went out once
      expect(later.result.ok && later.result.notice).toBeFalsy();
      expect(b.counters()['refused']).toBe(1);
    }
  });

  it('a reply past timeoutMs: the robot keeps its plan, then holds once the plan is older than maxPlanAgeMs; asked again after the back-off', async () => {
    const s = await server((_c, i) => (i === 0 ? plan(sub('pose', 'go to ready', { pose: 'ready' })) : i === 1 ? { hang: true } : plan(sub('pose', 'go home', { pose: 'home' }))));
    const clock = new ManualClock();
    const b = backend(s, { clock, replanIntervalMs: 1000, timeoutMs: 200, maxPlanAgeMs: 5000 });
    await step(b, 1, [0, 0, 0]);
    await b.settled('s1');
    clock.advanceMs(1000);
    await step(b, 2, [0.3, 0.3, 0.3]); // the timer asks again; the server never answers
    await b.settled('s1');
    const kept = await step(b, 3, [0.4, 0.4, 0.4]);
    expect(kept.goal).toEqual([1, 1, 1]);
    expect(kept.result.ok && kept.result.notice).toEqual({ code: 'BACKEND_TIMEOUT', message: `vlm-planner: the model server at ${s.baseUrl} did not answer within 200 ms (vlm-planner timeoutMs); the robot keeps its current plan` });
    clock.advanceMs(4100); // the plan is now 5100 ms old
    const held = await step(b, 4, [0.6, 0.6, 0.6]);
    expect(held.goal).toEqual([0.6, 0.6, 0.6]);
    expect(held.result.ok && held.result.notice).toEqual({ code: 'BACKEND_TIMEOUT', message: 'vlm-planner: holding: no new plan from the model for 5100 ms (vlm-planner maxPlanAgeMs 5000)' });
    expect(b.counters()).toMatchObject({ timeouts: 1, stale: 1 });
    await b.settled('s1'); // the retry (its back-off passed) brings a plan again
    expect((await step(b, 5, [0.6, 0.6, 0.6])).goal).toEqual([0, 0.5, -0.5]);
    expect(s.calls).toHaveLength(3);
    expect((s.calls[2]?.body['messages'] as { content: { text: string }[] }[])[1]?.content[0]?.text).toMatch(/Why a plan is asked for now: retry after: the model server at .* did not answer within 200 ms/);
  });

  it('a disconnect mid-request is named; the next call waits out the back-off', async () => {
    const s = await server((_c, i) => (i === 0 ? { disconnect: true } : plan(sub('pose', 'go to ready', { pose: 'ready' }))));
    const clock = new ManualClock();
    const b = backend(s, { clock });
    await step(b, 1, [0, 0, 0]);
    await b.settled('s1');
    const r = await step(b, 2, [0, 0, 0]);
    expect(r.goal).toEqual([0, 0, 0]);
    expect(r.result.ok && r.result.notice?.code).toBe('BACKEND_FAILED');
    expect(r.result.ok ? r.result.notice?.message : '').toMatch(new RegExp(`^vlm-planner: the model server at ${s.baseUrl} dropped the connection mid-request: .*; the robot holds$`));
    expect(b.status('s1')).toMatch(/^holding: the model server at .* dropped the connection/);
    await step(b, 3, [0, 0, 0]);
    expect(s.calls).toHaveLength(1); // within the 250 ms back-off
    clock.advanceMs(250);
    await step(b, 4, [0, 0, 0]);
    await b.settled('s1');
    expect((await step(b, 5, [0, 0, 0])).goal).toEqual([1, 1, 1]);
    expect(b.counters()).toMatchObject({ failed: 1, 'in-backoff': 2 });
  });

  it('replans on the timer, telling the model how far the plan got; a plan that continues the current goal keeps its motion', async () => {
    const s = await server(() => plan(sub('pose', 'go to ready', { pose: 'ready' }), sub('pose', 'go home', { pose: 'home' })));
    const clock = new ManualClock();
    const b = backend(s, { clock, replanIntervalMs: 2000 });
    await step(b, 1, [0, 0, 0]);
    await b.settled('s1');
    await step(b, 2, [0, 0, 0]);
    clock.advanceMs(1999);
    await step(b, 3, [0.5, 0.5, 0.5]);
    expect(s.calls).toHaveLength(1);
    clock.advanceMs(1);
    const [before] = await b.infer([request(4, [0.6, 0.6, 0.6])], ctx);
    await b.settled('s1');
    expect(s.calls).toHaveLength(2);
    const text = (s.calls[1]?.body['messages'] as { content: { text: string }[] }[])[1]?.content[0]?.text ?? '';
    expect(text).toMatch(/Why a plan is asked for now: timer: 2000 ms since the last call/);
    expect(text).toMatch(/Previous plan: 1\. go to ready; 2\. go home\nCompleted so far: nothing/);
    const [after] = await b.infer([request(5, [0.6, 0.6, 0.6])], ctx);
    if (before?.ok !== true || after?.ok !== true) throw new Error('no plans');
    const g0 = decodeGoal(before.latent, range), g1 = decodeGoal(after.latent, range);
    g0.from.forEach((q, j) => expect(g1.from[j]).toBeCloseTo(q, 5)); // same path: the motion continues
    expect(g1.stepsToGoal).toBeCloseTo(g0.stepsToGoal, 3);
  });

  it('a model that keeps answering with a plan the robot has already done is asked again only after a growing back-off', async () => {
    const s = await server(() => plan(sub('pose', 'go to ready', { pose: 'ready' })));
    const clock = new ManualClock();
    const b = backend(s, { clock });
    // The robot is at "ready" already: every plan is done as soon as it arrives.
    for (let k = 1; k <= 200; k++) {
      await step(b, k, [1, 1, 1]);
      await b.settled('s1');
      clock.advanceMs(50);
    }
    // 10 s: without a back-off the model is asked at every observation (200 calls); with one doubling from
    // 250 ms (0.25, 0.5, 1, 2, 4 s), the first call and about six more.
    expect(s.calls.length).toBeGreaterThanOrEqual(4);
    expect(s.calls.length).toBeLessThanOrEqual(8);
    expect(b.counters()['in-backoff']).toBeGreaterThan(100);
  });

  it('a server that only takes json_object: the client falls back, with the schema in the request and the prompt', async () => {
    const s = await server(() => plan(sub('pose', 'go to ready', { pose: 'ready' })), { jsonObjectOnly: true });
    const b = backend(s);
    await step(b, 1, [0, 0, 0]);
    await b.settled('s1');
    expect((await step(b, 2, [0, 0, 0])).goal).toEqual([1, 1, 1]);
    expect(b.responseFormat).toBe('json_object');
    expect(s.calls).toHaveLength(1); // the 400 is not a call the script answered
    const body = s.calls[0]?.body as { response_format: { type: string; schema: unknown }; messages: { content: unknown }[] };
    expect(body.response_format.type).toBe('json_object');
    expect(body.response_format.schema).toMatchObject({ required: ['done', 'subtasks'] });
    expect(body.messages[0]?.content).toMatch(/Its JSON Schema: \{"type":"object"/);
  });
});

describe('vlm-planner behind the brain server', () => {
  const harness = brainServerHarness({ robots: ['r1'], planValidityMs: 1000, backendTimeoutMs: 1000 });

  it('a two-subtask instruction: a simulated robot does both in order; the plan\'s progress reaches ListSessions', async () => {
    const s = await server((call) => {
      const text = (call.body['messages'] as { content: { text: string }[] }[])[1]?.content[0]?.text ?? '';
      if (/Why a plan is asked for now: new task/.test(text)) return plan(sub('pose', 'go to ready', { pose: 'ready' }), sub('pose', 'go home', { pose: 'home' }));
      if (/subtask 1\/2 done/.test(text)) return plan(sub('pose', 'go home', { pose: 'home' }));
      return { json: { done: true, subtasks: [] } };
    });
    const b = backend(s);
    const { server: brain, address } = await harness.start({ backend: b });
    const op = harness.track(operatorClient(address));
    const t = await harness.opened(address, 'r1');
    await setTask(op, 'r1', 'touch ready, then go home');
    await t.next('task');
    // The robot reaches each goal it is given by the next observation.
    let state = [0, 0, 0];
    const visited: string[] = [];
    let seq = 0;
    const statuses = new Set<string>();
    for (let i = 0; i < 5000 && !(statuses.has('done: touch ready, then go home')); i++) {
      const taskId = brain.sessions()[0]?.taskId ?? '';
      t.observe(testObservation(++seq, state, { taskId }));
      const p = await t.next('plan');
      state = Array.from(decodeGoal(p.plan.latent, range).position, (v) => Number(v.toFixed(6)));
      const at = state.join(',') === '1,1,1' ? 'ready' : state.join(',') === '0,0.5,-0.5' ? 'home' : null;
      if (at !== null && visited[visited.length - 1] !== at) visited.push(at);
      statuses.add(b.status(t.received.find((m) => m.msg === 'welcome')?.welcome.sessionId ?? '') ?? '');
      await b.settled(brain.sessions()[0]?.sessionId ?? '');
    }
    expect(visited).toEqual(['ready', 'home']);
    expect(statuses).toContain('subtask 1/2: go to ready');
    expect([...statuses].some((x) => /^subtask 1\/1: go home/.test(x))).toBe(true);
    expect(statuses).toContain('done: touch ready, then go home');
    const listed = await listSessions(op) as { robotId: string; backendStatus?: string }[];
    expect(listed[0]).toMatchObject({ robotId: 'r1', backendStatus: 'done: touch ready, then go home' });
    expect(t.received.filter((m) => m.msg === 'error')).toEqual([]);
  });
});
