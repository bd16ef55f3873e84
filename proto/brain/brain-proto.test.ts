import { describe, expect, it } from 'vitest';
import type * as protoLoader from '@grpc/proto-loader';
import { brainProtoPath, brainServiceDefinitions, BRAIN_SERVICE } from './brain-proto.js';
import { checkHello, checkLatent, checkObservation, checkPlan, planExpiresAtUs } from './brain-checks.js';
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
