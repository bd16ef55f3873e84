/**
 * The edge daemon, composed: serial link → state estimator → control loop (tick worker + action
 * decoder) → safety supervisor → back onto the wire; optionally the cloud link (plans in,
 * observations out), MQTT (telemetry out, e-stop, reset, resume and episode marks in), systemd
 * (READY, WATCHDOG), and the RecordingBus (STATE, COMMAND and safety transitions out to the flight
 * recorder and the Foxglove live view, built only while a sink is attached).
 *
 * Start-up order matters: the decoder is loaded and the tick worker started before the serial
 * link opens, because both block this thread for a while, and a host that is silent beyond the
 * MCU's watchdog (rightly) gets an MCU e-stop. The supervisor and the loop reach the link through
 * a forwarding object until it exists.
 *
 * Wire ownership: the tick worker writes COMMAND and HEARTBEAT frames itself (gate included), and
 * this thread writes the link's own frames (handshake, time sync, ESTOP, RESET); both go through
 * one SharedWire (a lock and a sequence counter in shared memory), made here and given to both. The
 * e-stop fast path (MQTT) calls the link directly; from that moment no COMMAND reaches the wire.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import { Status, type AckMsg, type CommandMsg } from '../proto/wire/index.js';
import type { CameraSource } from './camera/camera-source.js';
import { SimulatedCamera } from './camera/simulated-camera.js';
import { ResizedCamera } from './camera/resized-camera.js';
import { V4l2Camera } from './camera/v4l2-camera.js';
import { systemClock } from './clock.js';
import { CloudLink } from './cloud-link/cloud-link.js';
import type { EdgeConfig } from './config.js';
import { ControlLoop } from './control/control-loop.js';
import { installStallHook } from './control/stall-hook.js';
import { PlanExecution } from './control/plan-execution.js';
import { WorkerDecoder } from './decoder/worker-decoder.js';
import { robotDimsFromProfile } from './decoder/robot-dims.js';
import { modelCatalog } from './decoder/models/catalog.js';
import { samplerMismatch } from './decoder/sampler-types.js';
import { newObservation } from './estimation/observation.js';
import { StateEstimator } from './estimation/state-estimator.js';
import { EmbeddedBroker } from './mqtt/broker/embedded-broker.js';
import type { FleetAccounts } from './mqtt/broker/broker-users.js';
import { RobotMqtt } from './mqtt/robot-mqtt.js';
import { LiveViewServer } from './live-view/live-view-server.js';
import { clipTask, imuOf, measuredOf, motionOf, msOrNull, safetyOf, sentOf } from './mqtt/summary-fields.js';
import { MotionStats } from './mqtt/motion-stats.js';
import { publishSupervisorEvents } from './mqtt/supervisor-events.js';
import type { SummaryBody } from './mqtt/ports.js';
import { SafetySupervisor } from './safety/safety-supervisor.js';
import type { RefusalEvent } from './safety/safety-types.js';
import { bindSupervisor } from './safety/supervisor-bindings.js';
import { lineFitOf } from './line-fit.js';
import { SerialLink } from './serial/serial-link.js';
import { SharedWire } from './serial/shared-wire.js';
import { createNotifier, type Notifier } from './systemd/sd-notifier.js';
import { SystemdWatchdog, watchdogPeriodUs } from './systemd/watchdog.js';
import { parseFleetAccounts } from '../proto/mqtt/index.js';
import type { EpisodeMarkRequest, RecorderPort, RecorderStatus } from '../proto/recording/channels.js';
import { composeRecording, startRecorder, type DaemonRecording } from './recording/daemon-recording.js';
import type { RecordingBus } from './recording/recording-bus.js';

export const EDGE_SOFTWARE_VERSION = { major: 0, minor: 2, patch: 0 } as const;
const VERSION_STRING = `${EDGE_SOFTWARE_VERSION.major}.${EDGE_SOFTWARE_VERSION.minor}.${EDGE_SOFTWARE_VERSION.patch}`;

export class DaemonConfigError extends Error {
  override readonly name = 'DaemonConfigError';
}

export interface EdgeDaemon {
  readonly link: SerialLink;
  readonly estimator: StateEstimator;
  readonly supervisor: SafetySupervisor;
  readonly loop: ControlLoop;
  readonly cloud: CloudLink | null;
  readonly mqtt: RobotMqtt | null;
  /** The in-process broker when `mqtt.embedded` is configured. */
  readonly broker: EmbeddedBroker | null;
  /** The Foxglove live view when `liveView` is configured. */
  readonly liveView: LiveViewServer | null;
  readonly notifier: Notifier;
  /** Where recorded channels are published: the flight recorder and the live view attach here. */
  readonly recordingBus: RecordingBus;
  /** The recorder's status (null without a `recording` section) and operators' episode marks. */
  readonly recorder: RecorderPort;
  /** The recording side in full (taps, episodes, the FlightRecorder): for tests and tools. */
  readonly recording: DaemonRecording;
  /** Puts a category-1 stop on the wire and waits (bounded) for the MCU to report the latch. */
  stopOnWire(): Promise<boolean>;
  /** Releases everything; the MCU watchdog covers whatever the wire stop did not. */
  close(): Promise<void>;
}


function readFileNamed(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new DaemonConfigError(`${key}: cannot read ${JSON.stringify(path)}: ${(e as Error).message}`);
  }
}

/** The decoder model's bytes: the profile's reference decoder, built in memory, or a file. */
function decoderBytes(config: EdgeConfig): Uint8Array {
  if (config.decoder.model !== 'reference') return readFileNamed(config.decoder.model, 'decoder.model');
  const name = `reference-${config.profileData.id}-velocity`;
  const entry = modelCatalog().find((e) => e.name === name);
  if (!entry) throw new DaemonConfigError(`decoder.model: no reference decoder for profile ${JSON.stringify(config.profileData.id)}`);
  return entry.build();
}

function cameras(config: EdgeConfig, estimator: StateEstimator, logger: Logger): CameraSource[] {
  const image = config.cloud?.image;
  return (config.cloud?.cameras ?? []).map((spec) => {
    let cam: CameraSource;
    if (spec === 'sim') cam = new SimulatedCamera({ state: estimator.buffer, profile: config.profileData });
    else {
      const v = new V4l2Camera({ id: basename(spec), device: spec });
      const probe = v.start();
      logger.info({ camera: spec, probe }, 'V4L2 camera');
      cam = v;
    }
    return image !== undefined ? new ResizedCamera(cam, image) : cam;
  });
}

/** Resume over MQTT with the supervisor's own reason in the refusal it publishes. The supervisor
 * emits 'refused' synchronously inside resume(), so the listener sees exactly this call's reason. */
function resumeWithReason(sup: SafetySupervisor): { resume(op: { id: string; role: string }): { accepted: true } | { accepted: false; reason: string } } {
  return {
    resume(op) {
      let why: string | null = null;
      const onRefused = (e: RefusalEvent): void => { why = `${e.reason}: ${e.detail}`; };
      sup.on('refused', onRefused);
      try {
        return sup.resume(op) ? { accepted: true } : { accepted: false, reason: why ?? 'refused by the safety supervisor' };
      } finally {
        sup.off('refused', onRefused);
      }
    },
  };
}

/** The recorder's status as the state summary carries it (the error clipped to its schema's length). */
function recorderSummary(s: RecorderStatus | null): SummaryBody['recording'] {
  return s === null ? null : { ...s, error: s.error === null ? null : s.error.slice(0, 500) };
}

export async function startEdgeDaemon(config: EdgeConfig, logger: Logger): Promise<EdgeDaemon> {
  const profile = config.profileData;
  const clock = systemClock;
  // The line must carry what the configuration asks of it: refused here, with the numbers.
  const line = lineFitOf(config);
  if (line.refusal !== null) throw new DaemonConfigError(`serial line: ${line.refusal}`);
  for (const w of line.warnings) logger.warn({ up: line.check.load.up, down: line.check.load.down, capacity: line.check.load.capacity }, w);

  const decoder = await WorkerDecoder.load({ bytes: decoderBytes(config) }, { providers: config.decoder.providers, robot: robotDimsFromProfile(profile) });
  const spec = decoder.info.spec;
  const samplerProblem = config.decoder.sampler === undefined ? null : samplerMismatch(config.decoder.sampler, spec);
  if (samplerProblem !== null) {
    await decoder.close();
    throw new DaemonConfigError(`decoder.sampler: ${samplerProblem}`);
  }
  logger.info({ model: config.decoder.model, name: spec.name, provider: decoder.info.provider, fallbacks: decoder.info.fallbacks, loadMs: decoder.info.loadMs }, 'decoder loaded');

  let liveView: LiveViewServer | null = null;
  if (config.liveView) {
    const lv = config.liveView;
    try {
      liveView = await LiveViewServer.start({
        host: lv.host, port: lv.port, maxClients: lv.maxClients, maxBufferedBytes: lv.maxBufferedBytes, allowNonLoopback: lv.allowNonLoopback,
        name: `spinal ${config.robot.id}`, metadata: { robot: config.robot.id, profile: profile.id, edgeVersion: VERSION_STRING },
      });
    } catch (e) {
      await decoder.close();
      throw new DaemonConfigError((e as Error).message);
    }
    logger.info({ url: liveView.url, maxClients: lv.maxClients }, 'live view (Foxglove WebSocket) listening');
  }

  let link: SerialLink | null = null;
  const wire = {
    sendCommand: (c: CommandMsg): boolean => link?.sendCommand(c) ?? false,
    sendEstop: (cat: number, src: number, reason: number): boolean => link?.sendEstop(cat, src, reason) ?? false,
    sendReset: (what: number, token: number): Promise<AckMsg> => link?.sendReset(what, token) ?? Promise.reject(new Error('serial link not open')),
  };
  const estimator = new StateEstimator(profile);
  const supervisor = new SafetySupervisor(wire, clock, {
    logger,
    ...(config.safety.deadmanTimeoutMs > 0 ? { deadmanTimeoutMs: config.safety.deadmanTimeoutMs } : {}),
    ...(config.mqtt ? { categories: { mqttLink: config.mqtt.linkLossCategory } } : {}),
  });
  supervisor.on('transition', (e) => logger.info({ from: e.from, to: e.to, cause: e.cause, source: e.source, detail: e.detail }, 'safety transition'));
  supervisor.on('refused', (e) => logger.warn({ refusal: e }, 'safety request refused'));
  supervisor.on('stop-while-latched', (e) => logger.warn({ cause: e.cause, source: e.source }, 'stop requested while latched'));
  supervisor.on('hold-cause', (e) => logger.warn({ cause: e.cause, source: e.source, detail: e.detail }, 'safety hold now needs a resume'));
  supervisor.on('mcu-latch', (e) => logger.info({ latch: e.latch, detail: e.detail }, 'MCU latch as seen by the host'));
  supervisor.on('link', (e) => logger.info({ from: e.from, to: e.to, detail: e.detail }, 'serial link event'));

  const stepUs = config.control.stepMs * 1000;
  // At least the decoder's horizon: a decoded chunk must fit the schedule too.
  const chunkRows = Math.max(spec.horizon, config.control.chunkRows ?? spec.horizon);
  // Latent plans feed the decoder; action-chunk plans go straight to the schedule (same gate).
  const plans = new PlanExecution({ jointCount: profile.joints.length, stepUs, maxRows: chunkRows });
  const sharedWire = SharedWire.create();
  // The recorder's thread starts here, before the serial link opens (as the tick thread does).
  const recorder = await startRecorder(config.recording, profile, {
    robotId: config.robot.id, stateRateHz: config.serial.stateRateHz ?? profile.serial.stateRateHz, controlRateHz: line.commandRateHz,
    cameraIds: (config.cloud?.cameras ?? []).map((c) => (c === 'sim' ? 'sim' : basename(c))), edgeVersion: VERSION_STRING,
  }).catch(async (e: Error) => {
    await liveView?.close();
    await decoder.close();
    throw new DaemonConfigError(`recording: ${e.message}`);
  });
  const loop = new ControlLoop({
    profile, rateHz: line.commandRateHz, decoder, observation: estimator.buffer, link: wire, supervisor,
    wire: sharedWire, mainStallBoundMs: config.control.mainStallBoundMs, tickSpinUs: config.control.tickSpinUs,
    latent: () => plans.latent, chunkSource: () => plans.source,
    scheduler: { horizon: chunkRows, stepUs, policy: config.control.policy, initialLatencyUs: config.control.initialLatencyMs * 1000 },
    feeder: {
      ...(config.decoder.steps !== undefined ? { steps: config.decoder.steps } : {}),
      ...(config.decoder.sampler !== undefined ? { sampler: config.decoder.sampler } : {}),
    },
  });
  loop.gate.on('clamped', (e) => logger.debug({ clamp: e }, 'command clamped to the profile limits'));
  loop.gate.on('bad-numbers', (e) => logger.warn({ event: e }, 'bad numbers kept off the wire'));
  loop.on('worker-failed', (e) => logger.error(e, 'control tick worker failed'));
  loop.on('main-stalled', (e) => logger.warn(e, 'main event loop stalled: the tick thread held the robot; HOLD until resumed'));
  installStallHook(process.env, (msg) => logger.warn(msg));
  plans.bind(loop, supervisor);
  await loop.start();

  link = new SerialLink({
    path: config.serial.path, profile, software: EDGE_SOFTWARE_VERSION, logger, wire: sharedWire,
    line: { bytesPerSecond: line.bytesPerSecond },
    ...(config.serial.baudRate !== undefined ? { baudRate: config.serial.baudRate } : {}),
    ...(config.serial.watchdogMs !== undefined ? { watchdogMs: config.serial.watchdogMs } : {}),
    ...(config.serial.stateRateHz !== undefined ? { stateRateHz: config.serial.stateRateHz } : {}),
    ...(config.serial.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: config.serial.handshakeTimeoutMs } : {}),
  });
  const serial = link;
  serial.on('state', (ev) => estimator.update(ev));
  // mqtt is made further down; the events come once the line is in use.
  let mqtt: RobotMqtt | null = null;
  serial.on('commands-shed', (e) => {
    logger.warn({ shed: e.shed, total: e.total, windowMs: Math.round(e.windowMs) }, 'COMMANDs shed: the serial line is full');
    mqtt?.publishEvent({ kind: 'commands-shed', shed: e.shed, total: e.total, windowMs: Math.round(e.windowMs) });
  });
  const unbind = bindSupervisor(supervisor, serial, estimator);
  // Before serial.start(): every STATE the estimator sees is on the bus too.
  const recording = composeRecording(recorder, config.recording, clock, {
    profile, serial, loop, estimator, supervisor, plans, sampleHz: config.recording?.sampleHz ?? 50,
  }, logger);
  // The live view takes the same channels as the recorder: one bus, one set of taps.
  // Without a subscriber the view is idle: with no recorder either, no record is built at all.
  const view = liveView;
  const detachLiveView = view !== null ? recording.bus.attach(view, () => view.idle) : () => undefined;

  const notifier = createNotifier(config.systemd.notifyHelper !== undefined ? { path: config.systemd.notifyHelper } : {});
  if (notifier.disabled !== null) logger.warn({ socket: notifier.socket }, `sd_notify disabled: ${notifier.disabled}`);
  serial.once('ready', () => void notifier.notify({ READY: 1, STATUS: `serial link READY on ${config.serial.path}` }).catch((e: Error) => logger.warn({ err: e.message }, 'READY not sent')));
  let watchdog: SystemdWatchdog | null = null;
  const periodUs = watchdogPeriodUs();
  if (periodUs !== null) {
    // Healthy while the control loop keeps ticking and the event loop runs this check.
    let lastTicks = -1;
    watchdog = new SystemdWatchdog({
      notifier, periodUs, clock, logger,
      healthy: () => {
        const t = loop.ticks;
        const ok = t !== lastTicks;
        lastTicks = t;
        return ok;
      },
    });
    watchdog.start();
  }
  serial.start();

  let cloud: CloudLink | null = null;
  /** The brain's latest instruction for this robot, for the state summary; null when none. */
  let task: string | null = null;
  if (config.cloud) {
    const tls = config.cloud.tls;
    cloud = new CloudLink({
      target: config.cloud.target, robotId: config.robot.id, profile, softwareVersion: VERSION_STRING,
      decoder: { latentSpace: spec.latentSpace, latentDim: spec.latentDim, stateDim: spec.stateDim, actionDim: spec.actionDim, horizon: spec.horizon, controlHz: 1000 / config.control.stepMs },
      maxChunkRows: chunkRows,
      state: estimator.buffer, cameras: cameras(config, estimator, logger), observationRateHz: config.cloud.observationRateHz, clock, logger,
      ...(tls ? { tls: { ca: readFileNamed(tls.ca, 'cloud.tls.ca'), cert: readFileNamed(tls.cert, 'cloud.tls.cert'), key: readFileNamed(tls.key, 'cloud.tls.key'), ...(tls.serverName !== undefined ? { serverName: tls.serverName } : {}) } } : {}),
    });
    cloud.on('plan', (p) => {
      const kind = plans.kind;
      if (!plans.onPlan(p)) logger.warn({ detail: plans.lastRefusal }, 'action chunk not used');
      else if (plans.kind !== kind) logger.info({ kind: plans.kind, source: p.chunk?.source ?? null }, 'plans now drive the robot with this kind');
    });
    cloud.on('welcome', (w) => logger.info({ backend: w.backend, planKind: w.planKind }, 'brain session open'));
    cloud.on('task', (t) => {
      task = t.instruction === '' ? null : clipTask(t.instruction);
      logger.info(t, 'task from the brain');
    });
    cloud.on('error', (e) => logger.warn(e, 'brain error'));
    recording.attachCloud(cloud);
    cloud.start();
  }

  /** STATE.status of the latest sample: the MCU's own view of its latch. */
  let status = 0;
  serial.on('state', (ev) => { status = ev.msg.status; });

  let broker: EmbeddedBroker | null = null;
  const m = config.mqtt;
  if (m) {
    let url = m.url;
    if (m.embedded) {
      let accounts: FleetAccounts;
      try {
        const text = readFileNamed(m.embedded.accountsFile, 'mqtt.embedded.accountsFile').toString('utf8');
        accounts = parseFleetAccounts(JSON.parse(text), m.embedded.accountsFile);
      } catch (e) {
        if (e instanceof DaemonConfigError) throw e;
        throw new DaemonConfigError(`mqtt.embedded.accountsFile: ${(e as Error).message}`);
      }
      const e = m.embedded;
      broker = await EmbeddedBroker.start({
        ...accounts, host: e.host, port: e.port, logger, allowPlaintext: e.allowPlaintext,
        ...(e.tls ? {
          tls: {
            cert: readFileNamed(e.tls.certFile, 'mqtt.embedded.tls.certFile'), key: readFileNamed(e.tls.keyFile, 'mqtt.embedded.tls.keyFile'),
            requireCertificate: e.tls.requireCertificate, useIdentityAsUsername: e.tls.useIdentityAsUsername,
            ...(e.tls.caFile !== undefined ? { ca: readFileNamed(e.tls.caFile, 'mqtt.embedded.tls.caFile') } : {}),
          },
        } : {}),
        ...(e.tokenKeyFile !== undefined ? { tokenKey: readFileNamed(e.tokenKeyFile, 'mqtt.embedded.tokenKeyFile') } : {}),
      });
      // This robot reaches its own broker on loopback; with TLS it checks it like any other.
      url = `${e.tls ? 'mqtts' : 'mqtt'}://${e.host}:${broker.port}`;
    }
    const password = m.passwordFile !== undefined ? readFileNamed(m.passwordFile, 'mqtt.passwordFile').toString('utf8').trim() : undefined;
    // Built at the telemetry rate on this thread, from what the producers already keep: the
    // estimator's snapshot (copied into one reused Observation), the loop's lateness ring (a
    // windowed selection, nothing added to the tick), the latest chunk's decode time, the cloud
    // link's latest round trip and current plan.
    const snap = newObservation(estimator.jointCount);
    const accel = new Float64Array(3);
    let decoderMs: number | null = null;
    loop.on('chunk', (c) => { decoderMs = c.decodeMs; });
    // Tracking error and jitter over the last 20 summaries (1-2 s at 10-20 Hz).
    const motion = new MotionStats(estimator.jointCount, 20);
    let lastSentCount = -1;
    const summary = (): SummaryBody => {
      const now = clock.nowUs();
      const s = loop.gate.lastSent;
      const h = serial.health();
      const observed = estimator.read(snap);
      const plan = cloud?.currentPlan() ?? null;
      const lateUs = loop.recentLatenessUs(0.99);
      if (s.count === lastSentCount || !observed) motion.clear(); // nothing sent since: no motion to judge
      else motion.add(s.position, s.velocity, snap.position);
      lastSentCount = s.count;
      return {
        safety: safetyOf(supervisor),
        sent: sentOf(s, now),
        link: { state: h.state, rxFrames: h.decoder.frames, errors: h.decoder.crcErrors + h.decoder.cobsErrors + h.bodyErrors, lastFrameAgeMs: msOrNull(h.lastFrameAgeMs) },
        measured: observed ? measuredOf(snap) : null,
        imu: observed ? imuOf(snap, estimator.baseAccel(accel)) : null,
        metrics: {
          loopLatenessP99Ms: msOrNull(lateUs === null ? null : lateUs / 1000),
          decoderMs: msOrNull(decoderMs),
          cloudLatencyMs: msOrNull(cloud?.roundTripMs ?? null),
          // The plan in use: the latest accepted one until it lapses (the supervisor holds then).
          planAgeMs: msOrNull(plan !== null && now < plan.expiresAtUs ? (now - plan.captureUs) / 1000 : null),
          planKind: plan !== null && now < plan.expiresAtUs ? plan.kind : null,
          ...motionOf(motion.trackingRad(), motion.jitterRadS()),
        },
        task,
        recording: recorderSummary(recording.status()),
      };
    };
    mqtt = new RobotMqtt({
      url, fleet: m.fleet, robot: config.robot.id, username: config.robot.id, wire: serial, estop: supervisor, reset: supervisor, resume: resumeWithReason(supervisor),
      // Without a recorder a mark would be kept nowhere: RobotMqtt answers "recording is off".
      ...(recording.recorder !== null ? { episodes: { mark: (req: EpisodeMarkRequest) => { const r = recording.mark(req); return r.accepted ? undefined : r.reason; } } } : {}),
      safety: supervisor, heartbeat: supervisor, linkLoss: { timeoutMs: m.linkLossTimeoutMs, category: m.linkLossCategory, sink: supervisor }, telemetry: { source: { summary }, rateHz: m.telemetryHz },
      operators: m.operators, resetMaxAgeMs: m.resetMaxAgeMs, keepaliveS: m.keepaliveS, reconnectPeriodMs: m.reconnectMs,
      software: VERSION_STRING, logger, allowPlaintext: m.allowPlaintext,
      ...(password !== undefined ? { password } : {}),
      ...(m.tls ? {
        tls: {
          ca: readFileNamed(m.tls.caFile, 'mqtt.tls.caFile'),
          ...(m.tls.certFile !== undefined ? { cert: readFileNamed(m.tls.certFile, 'mqtt.tls.certFile') } : {}),
          ...(m.tls.keyFile !== undefined ? { key: readFileNamed(m.tls.keyFile, 'mqtt.tls.keyFile') } : {}),
        },
      } : {}),
    });
    mqtt.start();
    const robotMqtt = mqtt;
    publishSupervisorEvents(supervisor, (e) => robotMqtt.publishEvent(e));
  }

  return {
    link: serial, estimator, supervisor, loop, cloud, mqtt, broker, notifier, liveView,
    recordingBus: recording.bus, recorder: { status: () => recording.status(), mark: (req) => recording.mark(req) }, recording,
    async stopOnWire(): Promise<boolean> {
      watchdog?.stop();
      if (serial.state !== 'READY') return false;
      // Through the supervisor: the stop latches there too (a reset in flight cannot clear it).
      if (!supervisor.shutdown('daemon stopping')) return false;
      const deadline = Date.now() + 300;
      while ((status & Status.ESTOP_LATCHED) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      return (status & Status.ESTOP_LATCHED) !== 0;
    },
    async close(): Promise<void> {
      watchdog?.stop();
      detachLiveView();
      await liveView?.close();
      await mqtt?.stop('shutdown');
      cloud?.close();
      await loop.stop();
      await decoder.close();
      unbind();
      supervisor.dispose();
      await serial.stop();
      // Last: the loop and the link are stopped, so every COMMAND and STATE is on the bus; the
      // file is closed with its summary.
      await recording.close().catch((e: Error) => logger.error({ err: e.message }, 'recorder did not close cleanly'));
      await broker?.close();
      await notifier.close();
    },
  };
}
