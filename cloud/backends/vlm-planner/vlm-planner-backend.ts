/**
 * The vlm-planner brain: a vision-language model behind an OpenAI-compatible chat-completions
 * server (vLLM, Ollama, llama-server) turns the task's instruction, the camera image and the
 * robot's joints and poses into a list of subtasks (plan-schema.ts); the reference goal runner
 * executes them into "spinal.reference-goal/2", so the edge's reference decoder moves the robot.
 *
 * Serving and planning are apart: infer() answers every observation at once from the plan in
 * force (the goal runner's current goal), and never waits on the model. A model call (0.8-7 s on
 * real models) runs beside it, at most one per robot, and its plan replaces the one in force when
 * it arrives. A call is made when the task changes, when a subtask completes, when the plan is
 * over, every replanIntervalMs, and after a failure once its back-off has passed.
 *
 * Safety rules:
 *   - before the first plan of a task, and with no task, the robot holds where it is;
 *   - a reply that is not a valid plan (not JSON, schema mismatch, unknown pose, a target beyond
 *     the joint limits, a NaN, the wrong joint count, too many subtasks, a refusal) is refused:
 *     the robot holds its current pose and the reason goes out once as an Error beside the plan;
 *   - a call that fails (unreachable, disconnect, past timeoutMs, 5xx) leaves the plan in force
 *     running, but only up to maxPlanAgeMs after it arrived: past that, with no newer plan, the
 *     robot holds where it is, and says why.
 */
import { encodeGoal, goalRangeFromLimits, type GoalRange } from '../../../proto/latent/reference-goal.js';
import type { CameraFrame, Hello } from '../../../proto/brain/index.js';
import { systemClock, type Clock } from '../../clock.js';
import type { BrainBackend, InferContext, InferRequest, InferResult, Notice } from '../backend.js';
import type { ImageDecodingOptions } from '../images/image-preparer.js';
import { DEFAULT_GOAL_RUNNER, GoalRunner, type CurrentGoal, type ResumedMotion } from '../reference/goal-runner.js';
import type { Program } from '../reference/instruction-parser.js';
import { DEFAULT_CONTROL_HZ, referenceGoalAccepts } from '../reference/reference-backend.js';
import { robotJointsFromHello, type RobotJoints } from '../reference/robot-kinematics.js';
import { ChatClient, ChatError, type ResponseFormatKind } from './chat-client.js';
import { FrameImager, type ImageSize } from './frame-image.js';
import { parsePlanReply, planJsonSchema, programFromReply } from './plan-schema.js';
import { planMessages } from './plan-prompt.js';

export interface VlmPlannerOptions {
  baseUrl: string;
  model: string;
  /** The key itself (read from the environment variable the configuration names). */
  apiKey?: string;
  responseFormat?: ResponseFormatKind;
  timeoutMs?: number;
  /** Ask again this often while a plan runs; 0: only on completion and failure. */
  replanIntervalMs?: number;
  maxPlanAgeMs?: number;
  maxSubtasks?: number;
  imageSize?: ImageSize;
  jpegQuality?: number;
  cameraId?: string;
  maxTokens?: number;
  temperature?: number;
  defaultControlHz?: number;
  imageDecoding?: ImageDecodingOptions;
  clock?: Clock;
}

export const VLM_DEFAULTS = {
  timeoutMs: 15_000, replanIntervalMs: 10_000, maxPlanAgeMs: 30_000, maxSubtasks: 8,
  imageSize: { width: 448, height: 448 }, jpegQuality: 85, maxTokens: 1024, temperature: 0,
} as const;

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 10_000;
/**
 * A plan done this soon after it arrived did not move the robot on (a model that answers with what
 * is already done): the next call for it waits out a back-off that doubles while this repeats.
 */
const QUICK_DONE_MS = 1000;

interface ModelPlan {
  texts: string[];
  arrivedMs: number;
  done: boolean;
}

interface PlannerSession {
  sessionId: string;
  joints: RobotJoints;
  range: GoalRange;
  controlHz: number;
  schema: Record<string, unknown>;
  taskId: string | null;
  instruction: string;
  runner: GoalRunner;
  /** The model's plan in force; null while holding (no task, no plan yet, refused, stale). */
  plan: ModelPlan | null;
  lastGoal: CurrentGoal | null;
  step: number;
  /** Why the next call is wanted; null: none wanted. */
  want: string | null;
  inFlight: Promise<void> | null;
  abort: AbortController | null;
  lastCallMs: number;
  failures: number;
  /** Plans in a row done within QUICK_DONE_MS of arriving. */
  quickDone: number;
  retryAtMs: number;
  /** Bumped on every task change: replies to an older task are dropped. */
  generation: number;
  state: number[];
  frame: CameraFrame | undefined;
  notice: Notice | null;
  holding: string;
  calls: number;
}

export class VlmPlannerBackend implements BrainBackend {
  readonly name = 'vlm-planner';
  private readonly sessions = new Map<string, PlannerSession>();
  private readonly clock: Clock;
  private readonly client: ChatClient;
  private readonly imager: FrameImager;
  private readonly o: Required<Omit<VlmPlannerOptions, 'apiKey' | 'responseFormat' | 'cameraId' | 'imageDecoding' | 'clock'>> & Pick<VlmPlannerOptions, 'cameraId'>;
  /** Work dropped, by kind (exported as spinal_brain_backend_dropped_total{kind}). */
  private readonly dropped = { refused: 0, failed: 0, timeouts: 0, stale: 0, 'in-backoff': 0 };
  private readonly made = { calls: 0, plans: 0 };
  private closed = false;

  constructor(o: VlmPlannerOptions) {
    this.clock = o.clock ?? systemClock;
    this.o = {
      baseUrl: o.baseUrl, model: o.model,
      timeoutMs: o.timeoutMs ?? VLM_DEFAULTS.timeoutMs, replanIntervalMs: o.replanIntervalMs ?? VLM_DEFAULTS.replanIntervalMs,
      maxPlanAgeMs: o.maxPlanAgeMs ?? VLM_DEFAULTS.maxPlanAgeMs, maxSubtasks: o.maxSubtasks ?? VLM_DEFAULTS.maxSubtasks,
      imageSize: o.imageSize ?? VLM_DEFAULTS.imageSize, jpegQuality: o.jpegQuality ?? VLM_DEFAULTS.jpegQuality,
      maxTokens: o.maxTokens ?? VLM_DEFAULTS.maxTokens, temperature: o.temperature ?? VLM_DEFAULTS.temperature,
      defaultControlHz: o.defaultControlHz ?? DEFAULT_CONTROL_HZ,
      ...(o.cameraId !== undefined ? { cameraId: o.cameraId } : {}),
    };
    this.client = new ChatClient({
      baseUrl: o.baseUrl, model: o.model,
      ...(o.apiKey !== undefined ? { apiKey: o.apiKey } : {}), ...(o.responseFormat !== undefined ? { responseFormat: o.responseFormat } : {}),
    });
    this.imager = new FrameImager(this.o.imageSize, this.o.jpegQuality, o.imageDecoding ?? {});
  }

  /** Null when the server answers GET /v1/models and serves the model; else why not. */
  health(timeoutMs = this.o.timeoutMs): Promise<string | null> {
    return this.client.health(timeoutMs);
  }

  get responseFormat(): ResponseFormatKind {
    return this.client.responseFormat;
  }

  accepts(h: Hello): string | null {
    return referenceGoalAccepts(h);
  }

  async infer(batch: readonly InferRequest[], _ctx: InferContext): Promise<InferResult[]> {
    const now = this.clock.monoMs();
    return batch.map((r) => this.one(r, now));
  }

  counters(): Record<string, number> {
    return { ...this.dropped };
  }

  /** Model calls made and plans put in force, since the start. */
  stats(): { calls: number; plans: number } {
    return { ...this.made };
  }

  /** The plan's progress for operators: "subtask 2/3: <text>", or why the robot holds. */
  status(sessionId: string): string | null {
    const s = this.sessions.get(sessionId);
    if (s === undefined) return null;
    const busy = s.inFlight !== null ? ' (planning)' : '';
    if (s.plan === null) return `${s.holding}${busy}`;
    if (s.plan.done) return `done: ${s.instruction}${busy}`;
    const n = s.plan.texts.length;
    const i = Math.min(s.step, n - 1);
    const finished = s.lastGoal?.done === true && s.step >= n - 1;
    return `subtask ${i + 1}/${n}${finished ? ' reached' : ''}: ${s.plan.texts[i] ?? ''}${busy}`;
  }

  /** Resolves once the session's model call in flight (if any) has been answered and applied. */
  async settled(sessionId: string): Promise<void> {
    for (;;) {
      const p = this.sessions.get(sessionId)?.inFlight;
      if (p == null) return;
      await p;
    }
  }

  endSession(sessionId: string): void {
    const s = this.sessions.get(sessionId);
    s?.abort?.abort();
    this.sessions.delete(sessionId);
  }

  async close(): Promise<void> {
    this.closed = true;
    const pending = [...this.sessions.values()].map((s) => { s.abort?.abort(); return s.inFlight; });
    this.sessions.clear();
    await Promise.all(pending);
    await this.imager.close();
  }

  private session(r: InferRequest, now: number): PlannerSession {
    let s = this.sessions.get(r.session.sessionId);
    if (s === undefined) {
      const joints = robotJointsFromHello(r.session.hello);
      const state = Array.from({ length: joints.names.length }, (_, j) => r.observation.state[j] as number);
      s = {
        sessionId: r.session.sessionId, joints, range: goalRangeFromLimits(joints.lower, joints.upper),
        controlHz: r.session.hello.controlHz > 0 ? r.session.hello.controlHz : this.o.defaultControlHz,
        schema: planJsonSchema(joints, this.o.maxSubtasks),
        taskId: null, instruction: '', runner: this.holdRunner(joints, state, now), plan: null, lastGoal: null, step: 0,
        want: null, inFlight: null, abort: null, lastCallMs: -Infinity, failures: 0, quickDone: 0, retryAtMs: -Infinity, generation: 0,
        state, frame: undefined, notice: null, holding: 'holding: no task', calls: 0,
      };
      this.sessions.set(r.session.sessionId, s);
    }
    return s;
  }

  private one(r: InferRequest, now: number): InferResult {
    const s = this.session(r, now);
    const J = s.joints.names.length;
    s.state = Array.from({ length: J }, (_, j) => r.observation.state[j] as number);
    s.frame = this.frameOf(r.observation.frames);
    if (s.taskId !== r.task.taskId) this.newTask(s, r.task.taskId, r.task.instruction, now);
    if (s.plan !== null && !s.plan.done && now - s.plan.arrivedMs > this.o.maxPlanAgeMs) {
      this.dropped.stale++;
      this.hold(s, now, `holding: no new plan from the model for ${Math.round(now - s.plan.arrivedMs)} ms (vlm-planner maxPlanAgeMs ${this.o.maxPlanAgeMs})`, 'BACKEND_TIMEOUT');
    }
    const goal = s.runner.next(s.state, now);
    if (s.plan !== null && !s.plan.done) {
      if (goal.step > s.step && goal.step < s.plan.texts.length) s.want ??= `subtask ${s.step + 1}/${s.plan.texts.length} done`;
      const finished = goal.done && goal.step >= s.plan.texts.length - 1;
      if (finished && s.lastGoal?.done !== true) {
        if (now - s.plan.arrivedMs < QUICK_DONE_MS) {
          s.quickDone++;
          s.retryAtMs = Math.max(s.retryAtMs, now + Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (s.quickDone - 1)));
        } else {
          s.quickDone = 0;
        }
        s.want ??= `the plan is done (${s.plan.texts.length}/${s.plan.texts.length} subtasks)`;
      }
      if (this.o.replanIntervalMs > 0 && now - s.lastCallMs >= this.o.replanIntervalMs) s.want ??= `timer: ${this.o.replanIntervalMs} ms since the last call`;
    }
    s.step = goal.step;
    s.lastGoal = goal;
    this.maybeCall(s, now);
    const latent = encodeGoal({ position: goal.position, from: goal.from, stepsToGoal: Math.max(1, goal.timeS * s.controlHz) }, s.range);
    const notice = s.notice;
    s.notice = null;
    return notice === null ? { ok: true, latent } : { ok: true, latent, notice };
  }

  private frameOf(frames: readonly CameraFrame[]): CameraFrame | undefined {
    return this.o.cameraId !== undefined ? frames.find((f) => f.cameraId === this.o.cameraId) : frames[0];
  }

  private newTask(s: PlannerSession, taskId: string, instruction: string, now: number): void {
    s.abort?.abort();
    s.generation++;
    s.taskId = taskId;
    s.instruction = instruction.trim();
    s.failures = 0;
    s.quickDone = 0;
    s.retryAtMs = -Infinity;
    s.lastCallMs = -Infinity;
    this.hold(s, now, s.instruction === '' ? 'holding: no task' : 'holding: waiting for the first plan');
    s.want = s.instruction === '' ? null : 'new task';
  }

  private holdRunner(joints: RobotJoints, state: readonly number[], now: number): GoalRunner {
    const program: Program = { label: 'hold', steps: [{ target: { kind: 'positions', positions: [...state] }, label: 'hold', dwellMs: 0 }] };
    return new GoalRunner(program, joints, state, now, DEFAULT_GOAL_RUNNER);
  }

  /** The robot holds where it is now; `code` sends `why` once as an Error beside the next plan. */
  private hold(s: PlannerSession, now: number, why: string, code?: Notice['code']): void {
    s.runner = this.holdRunner(s.joints, s.state, now);
    s.plan = null;
    s.step = 0;
    s.lastGoal = null;
    s.holding = why;
    if (code !== undefined) s.notice = { code, message: `vlm-planner: ${why}` };
  }

  private maybeCall(s: PlannerSession, now: number): void {
    if (s.want === null || s.inFlight !== null || this.closed || s.instruction === '') return;
    if (now < s.retryAtMs) { this.dropped['in-backoff']++; return; }
    const reason = s.want;
    s.want = null;
    s.lastCallMs = now;
    const abort = new AbortController();
    s.abort = abort;
    s.calls++;
    this.made.calls++;
    const generation = s.generation;
    const previous = s.plan !== null && !s.plan.done ? { texts: s.plan.texts, current: s.step } : null;
    const p = this.call(s, reason, previous, abort.signal).then(
      (outcome) => { if (s.generation === generation && !this.closed) this.apply(s, outcome); },
      () => undefined,
    ).finally(() => {
      if (s.inFlight === p) { s.inFlight = null; s.abort = null; }
    });
    s.inFlight = p;
  }

  private async call(s: PlannerSession, reason: string, previous: { texts: readonly string[]; current: number } | null, signal: AbortSignal): Promise<CallOutcome> {
    const stateAtCall = [...s.state];
    let imageUrl: string | null = null, imageNote: string | null = null;
    if (s.frame !== undefined) {
      try {
        const img = await this.imager.dataUrl(s.frame);
        if (img.ok) imageUrl = img.dataUrl; else imageNote = img.message;
      } catch (e) {
        imageNote = `the frame could not be prepared: ${(e as Error).message}`;
      }
    }
    const messages = planMessages(s.joints, this.o.maxSubtasks, { instruction: s.instruction, state: stateAtCall, reason, previous, imageUrl, imageNote });
    try {
      const reply = await this.client.complete({ messages, schemaName: 'robot_plan', schema: s.schema, maxTokens: this.o.maxTokens, temperature: this.o.temperature }, this.o.timeoutMs, signal);
      return { kind: 'reply', content: reply.content };
    } catch (e) {
      const ce = e instanceof ChatError ? e : new ChatError((e as Error).message, 'bad-reply');
      return { kind: 'error', error: ce };
    }
  }

  private apply(s: PlannerSession, outcome: CallOutcome): void {
    const now = this.clock.monoMs();
    if (outcome.kind === 'error') {
      const e = outcome.error;
      if (e.kind === 'refused' || e.kind === 'bad-reply') { this.refuse(s, now, e.message, e.kind === 'refused' ? 'BAD_INSTRUCTION' : 'BACKEND_FAILED'); return; }
      // The server's fault: the plan in force keeps running (up to maxPlanAgeMs); try again later.
      if (e.kind === 'timeout') this.dropped.timeouts++; else this.dropped.failed++;
      this.backoff(s, now, `retry after: ${e.message}`);
      const message = `vlm-planner: ${e.message}; ${s.plan !== null ? 'the robot keeps its current plan' : 'the robot holds'}`;
      s.notice = { code: e.kind === 'timeout' ? 'BACKEND_TIMEOUT' : 'BACKEND_FAILED', message };
      if (s.plan === null) s.holding = `holding: ${e.message}`;
      return;
    }
    const parsed = parsePlanReply(outcome.content);
    if (!parsed.ok) { this.refuse(s, now, parsed.reason, 'BACKEND_FAILED'); return; }
    const built = programFromReply(parsed.reply, s.joints, s.state, this.o.maxSubtasks);
    if (!built.ok) { this.refuse(s, now, built.reason, 'BACKEND_FAILED'); return; }
    s.failures = 0;
    s.retryAtMs = -Infinity;
    this.made.plans++;
    if (built.texts.length === 0) {
      this.hold(s, now, `done: ${s.instruction}`);
      s.plan = { texts: [], arrivedMs: now, done: true };
      return;
    }
    // A plan whose first goal is the goal the robot is moving to continues that motion.
    const first = built.program.steps[0]?.target;
    const g = s.lastGoal;
    const same = g !== null && first?.kind === 'positions' && first.positions.every((q, j) => Math.abs(q - (g.position[j] as number)) < 1e-9);
    const resume: ResumedMotion | undefined = same && g !== null ? { from: g.from, timeS: g.timeS, startMs: s.runner.stepStartedMs } : undefined;
    s.runner = new GoalRunner(built.program, s.joints, s.state, now, DEFAULT_GOAL_RUNNER, resume);
    s.plan = { texts: built.texts, arrivedMs: now, done: false };
    s.step = 0;
    s.lastGoal = null;
  }

  /** A reply that is no valid plan: the robot holds where it is; asked again after the back-off. */
  private refuse(s: PlannerSession, now: number, reason: string, code: Notice['code']): void {
    this.dropped.refused++;
    this.hold(s, now, `holding: model output refused: ${reason}`, code);
    this.backoff(s, now, `retry after the last reply was refused: ${reason}`);
  }

  private backoff(s: PlannerSession, now: number, want: string): void {
    s.failures++;
    s.retryAtMs = now + Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (s.failures - 1));
    s.want ??= want;
  }
}

type CallOutcome = { kind: 'reply'; content: string } | { kind: 'error'; error: ChatError };

export async function createVlmPlannerBackend(o: VlmPlannerOptions): Promise<VlmPlannerBackend> {
  const b = new VlmPlannerBackend(o);
  const problem = await b.health(Math.min(o.timeoutMs ?? VLM_DEFAULTS.timeoutMs, 5000));
  // A server still loading its model is retried per call; a model it does not serve is a
  // configuration error.
  if (problem !== null && /is not served by/.test(problem)) {
    await b.close();
    throw new Error(`backend.model: ${problem}`);
  }
  return b;
}
