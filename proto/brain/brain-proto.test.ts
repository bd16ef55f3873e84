import { describe, expect, it } from 'vitest';
import type * as protoLoader from '@grpc/proto-loader';
import { brainProtoPath, brainServiceDefinitions, BRAIN_SERVICE } from './brain-proto.js';
import { checkActionChunk, checkHello, checkLatent, checkObservation, checkPlan, planExpiresAtUs } from './brain-checks.js';
import type { BrainMessage, EdgeMessage, Hello, Observation, Plan } from './brain-messages.js';

const hello = (over: Partial<Hello> = {}): Hello => ({
  robotId: 'r1', protocolMajor: 1, softwareVersion: '0.1.0', profileId: 'p', latentSpace: 's', latentDim: 3,
  stateDim: 2, actionDim: 2, horizon: 8, cameraIds: [], controlHz: 100,
  joints: [{ name: 'a', positionMin: -1, positionMax: 1, velocityMax: 2 }, { name: 'b', positionMin: 0, positionMax: 2, velocityMax: 2 }],
  poses: { home: { positions: [0, 1] } }, ...over,
});
const obs = (over: Partial<Observation> = {}): Observation => ({
  seq: 5, captureTimeUs: 1, sendTimeUs: 2, state: [0.1, 0.2], frames: [], taskId: '', ...over,
});

describe('brain.proto loader', () => {
  it('finds the proto and defines both services', () => {
    expect(brainProtoPath()).toMatch(/proto[/\\]brain[/\\]brain\.proto$/);
    const { brain, operator } = brainServiceDefinitions();
    expect(Object.keys(brain)).toEqual(['Session']);
    expect(Object.keys(operator).sort()).toEqual(['ListSessions', 'SetTask']);
    expect(brain['Session']?.path).toBe(`/${BRAIN_SERVICE}/Session`);
  });

  it('round-trips messages with the documented conventions (camelCase, numbers, enum names, oneof name)', () => {
    const { brain } = brainServiceDefinitions();
    const m = brain['Session'] as protoLoader.MethodDefinition<EdgeMessage, BrainMessage>;
    const edge = m.requestDeserialize(m.requestSerialize({ msg: 'hello', hello: hello() }));
    expect(edge.msg).toBe('hello');
    if (edge.msg !== 'hello') throw new Error('unreachable');
    expect(edge.hello.poses['home']?.positions).toEqual([0, 1]);
    expect(edge.hello.controlHz).toBe(100);
    expect('observation' in edge).toBe(false);
    const out = m.responseDeserialize(m.responseSerialize({ msg: 'error', error: { code: 'BAD_INSTRUCTION', message: 'x', observationSeq: 2 ** 40 } }));
    expect(out).toMatchObject({ msg: 'error', error: { code: 'BAD_INSTRUCTION', observationSeq: 2 ** 40 } });
  });
});

describe('shared checks', () => {
  it('accepts a consistent hello and names what is wrong in others', () => {
    expect(checkHello(hello())).toBeNull();
    expect(checkHello(hello({ protocolMajor: 2 }))?.code).toBe('INCOMPATIBLE');
    expect(checkHello(hello({ robotId: '' }))?.code).toBe('UNKNOWN_ROBOT');
    expect(checkHello(hello({ poses: { home: { positions: [0] } } }))?.message).toContain('hello.poses["home"]');
  });

  it('rejects duplicate, out-of-order, wrong-dims, non-finite and oversized observations', () => {
    const lim = { stateDim: 2, lastSeq: 4 };
    expect(checkObservation(obs(), lim)).toBeNull();
    expect(checkObservation(obs({ seq: 4 }), lim)?.reason).toBe('duplicate');
    expect(checkObservation(obs({ seq: 3 }), lim)?.reason).toBe('out-of-order');
    expect(checkObservation(obs({ state: [1] }), lim)?.reason).toBe('state-dims');
    expect(checkObservation(obs({ state: [1, NaN] }), lim)?.message).toContain('state[1] is NaN');
    const big = { cameraId: 'c', encoding: 'jpeg', data: Buffer.alloc(1024 * 1024 + 1), width: 1, height: 1, captureTimeUs: 0 };
    expect(checkObservation(obs({ frames: [big] }), lim)?.reason).toBe('image-too-large');
  });

  it('checks plans: ids increasing, latent dims, finite values, validity', () => {
    const p: Plan = { planId: 2, observationSeq: 1, latent: [0, 0, 0], createdTimeUs: 0, validForMs: 500, observationReceivedTimeUs: 0, taskId: '' };
    expect(checkPlan(p, { latentDim: 3, lastPlanId: 1 })).toBeNull();
    expect(checkPlan(p, { latentDim: 3, lastPlanId: 2 })?.reason).toBe('plan-id');
    expect(checkPlan({ ...p, latent: [0, Infinity, 0] }, { latentDim: 3, lastPlanId: null })?.reason).toBe('latent-not-finite');
    expect(checkLatent([0], 3)?.message).toBe('latent has 1 values, latent_dim is 3');
    expect(planExpiresAtUs(1_000_000, 250)).toBe(1_250_000);
  });
});

describe('plan kinds (protocol 1.1)', () => {
  const { brain } = brainServiceDefinitions();
  const m = brain['Session'] as protoLoader.MethodDefinition<EdgeMessage, BrainMessage>;
  const chunk = { rows: 2, actionDim: 2, stepUs: 20_000, actions: [0, 1, 0.5, 1.5], source: 'openpi', policyMs: 12 };
  const plan: Plan = { planId: 1, observationSeq: 1, latent: [], createdTimeUs: 0, validForMs: 500, observationReceivedTimeUs: 0, taskId: '' };

  it('carries an action chunk and the kind in Welcome; a latent plan decodes with no chunk', () => {
    const out = m.responseDeserialize(m.responseSerialize({ msg: 'plan', plan: { ...plan, actionChunk: chunk } }));
    if (out.msg !== 'plan') throw new Error('not a plan');
    expect(out.plan.actionChunk).toEqual(chunk);
    expect(out.plan.latent).toEqual([]);
    const latent = m.responseDeserialize(m.responseSerialize({ msg: 'plan', plan: { ...plan, latent: [1, 2] } }));
    if (latent.msg !== 'plan') throw new Error('not a plan');
    expect(latent.plan.actionChunk ?? null).toBeNull();
    const w = m.responseDeserialize(m.responseSerialize({ msg: 'welcome', welcome: { sessionId: 's', backend: 'openpi', protocolMajor: 1, taskId: '', instruction: '', protocolMinor: 1, planKind: 'PLAN_KIND_ACTION_CHUNK' } }));
    expect(w).toMatchObject({ msg: 'welcome', welcome: { protocolMinor: 1, planKind: 'PLAN_KIND_ACTION_CHUNK' } });
  });

  it('an edge before 1.1 (its Hello without the new fields) reads as one that takes no action chunks', () => {
    const old = hello();
    const edge = m.requestDeserialize(m.requestSerialize({ msg: 'hello', hello: old }));
    if (edge.msg !== 'hello') throw new Error('not a hello');
    expect(edge.hello.acceptsActionChunks).toBe(false);
    expect(edge.hello.protocolMinor).toBe(0);
  });

  it('checks a chunk against the robot: rows, joints, step, size, finite, inside the limits; messages name the field', () => {
    const joints = hello().joints;
    expect(checkActionChunk(chunk, joints)).toBeNull();
    expect(checkActionChunk({ ...chunk, rows: 0, actions: [] }, joints)?.reason).toBe('chunk-rows');
    expect(checkActionChunk({ ...chunk, actionDim: 3 }, joints)?.message).toBe('action_chunk.action_dim 3 does not fit the robot\'s 2 joints (a, b)');
    expect(checkActionChunk({ ...chunk, stepUs: 0 }, joints)?.reason).toBe('chunk-step');
    expect(checkActionChunk({ ...chunk, actions: [0, 1, 0.5] }, joints)?.reason).toBe('chunk-size');
    expect(checkActionChunk({ ...chunk, actions: [0, 1, NaN, 1] }, joints)?.message).toBe('action_chunk row 1 joint 0 ("a") is NaN');
    expect(checkActionChunk({ ...chunk, actions: [0, 1, 0.5, 2.5] }, joints)?.message).toMatch(/^action_chunk row 1 joint 1 \("b"\) is 2\.5000 rad, outside the joint's range \[0, 2\]$/);
  });
});
