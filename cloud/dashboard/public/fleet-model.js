// @ts-check
/**
 * The dashboard's picture of the fleet, built only from MQTT messages (no DOM here, so it runs in
 * tests under Node). Memory is bounded whatever the traffic: each robot keeps its last brief and
 * summary and one last event, the robot shown in detail a fixed ring of samples for its plots
 * (dropRing frees it when another is shown); the fleet keeps at most `eventCapacity` events.
 *
 * Stale samples are dropped, never queued: a summary not newer (by its `at`) than the last one
 * plotted for its robot changes nothing and is only counted (`stale`).
 */

export const TOPIC_ROOT = 'spinal/v1';
export const FLEET_TARGET = 'all';
/** A robot that said it is online but sent no state for this long is shown as stale. */
export const STALE_AFTER_MS = 3000;
/** The `reason` of a robot's deliberate {online:false} (RobotMqtt.stop); any other is a lost connection. */
export const CLEAN_STOP_REASON = 'shutdown';

/**
 * The last `capacity` samples of `width` values each: times in seconds (uPlot's time unit) as
 * Float64, values as Float32 (plots need no more), written in place; no allocation per sample.
 */
export class SampleRing {
  /** @param {number} capacity @param {number} width */
  constructor(capacity, width) {
    this.capacity = capacity;
    this.width = width;
    this.times = new Float64Array(capacity);
    this.values = new Float32Array(capacity * width);
    this.count = 0;
    this.next = 0;
  }

  /** @param {number} tSeconds @param {ArrayLike<number>} row exactly `width` values (NaN for unknown) */
  push(tSeconds, row) {
    const i = this.next;
    this.times[i] = tSeconds;
    const base = i * this.width;
    for (let k = 0; k < this.width; k++) this.values[base + k] = row[k] ?? NaN;
    this.next = (i + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /**
   * Oldest-first columns for uPlot: [times, column 0, column 1, ...] (NaN shown as gaps as null).
   * @param {readonly number[]} columns which value columns, in order
   * @returns {(number | null)[][]}
   */
  columns(columns) {
    const start = (this.next - this.count + this.capacity) % this.capacity;
    /** @type {(number | null)[][]} */
    const out = [new Array(this.count)];
    for (let c = 0; c < columns.length; c++) out.push(new Array(this.count));
    for (let j = 0; j < this.count; j++) {
      const i = (start + j) % this.capacity;
      /** @type {(number | null)[]} */ (out[0])[j] = /** @type {number} */ (this.times[i]);
      for (let c = 0; c < columns.length; c++) {
        const v = /** @type {number} */ (this.values[i * this.width + /** @type {number} */ (columns[c])]);
        /** @type {(number | null)[]} */ (out[c + 1])[j] = Number.isNaN(v) ? null : v;
      }
    }
    return out;
  }
}

/**
 * @typedef {{ at: number, robot: string, kind: string, text: string, severity: 'info' | 'warn' | 'alarm' }} FleetEvent
 * @typedef {{
 *   id: string, online: boolean | null, statusAt: number | null, statusReason: string | null, software: string | null,
 *   summary: any, brief: any, receivedAt: number | null, joints: number, ring: SampleRing | null,
 *   lastAt: number, lastEvent: FleetEvent | null, version: number, hasImu: boolean
 * }} RobotRecord
 */

/** @param {any} e @returns {{ text: string, severity: FleetEvent['severity'] }} */
export function describeEvent(e) {
  switch (e.kind) {
    case 'transition':
      return { text: `${e.from} → ${e.to}: ${e.cause}${e.detail ? ` (${e.detail})` : ''}`, severity: e.to === 'ESTOP' || e.to === 'FAULT' ? 'alarm' : e.to === 'HOLD' ? 'warn' : 'info' };
    case 'estop-received':
      return {
        text: `e-stop received (${e.scope}, category ${e.category}${e.operator ? `, by ${e.operator}` : ''})${e.malformed ? ` — malformed: ${e.problem ?? '?'}` : ''}${e.wireSent ? '' : ' — NOT on the wire (serial port closed)'}`,
        severity: 'alarm',
      };
    case 'fleet-latch':
      return { text: e.asserted ? `fleet e-stop latch asserted${e.operator ? ` by ${e.operator}` : ''}` : `fleet e-stop latch released${e.operator ? ` by ${e.operator}` : ''}`, severity: e.asserted ? 'alarm' : 'info' };
    case 'reset-refused':
      return { text: `reset refused: ${e.reason}`, severity: 'warn' };
    case 'reset-accepted':
      return { text: `reset by ${e.operator}`, severity: 'info' };
    case 'events-dropped':
      return { text: `${e.dropped} safety event(s) lost while the broker was away${e.droppedStop > 0 ? `, ${e.droppedStop} of them about stops` : ''}`, severity: e.droppedStop > 0 ? 'alarm' : 'warn' };
    case 'resume-refused':
      return { text: `resume refused: ${e.reason}`, severity: 'warn' };
    case 'resume-accepted':
      return { text: `resumed by ${e.operator}`, severity: 'info' };
    case 'episode-marked':
      return { text: `episode ${e.end ? 'ended' : 'marked'} ${e.outcome} by ${e.operator}`, severity: 'info' };
    case 'episode-refused':
      return { text: `episode mark refused: ${e.reason}`, severity: 'warn' };
    case 'deadman-expired':
      return { text: `operator heartbeat lost for ${e.timeoutMs} ms`, severity: 'alarm' };
    case 'mqtt-link-lost':
      return { text: `broker unreachable for ${e.downForMs} ms (limit ${e.timeoutMs} ms): remote e-stops could not arrive, stopped with category ${e.category}`, severity: 'alarm' };
    case 'stop-while-latched':
      return { text: `stop requested while latched: ${e.cause} (${e.source})`, severity: 'alarm' };
    case 'hold-cause':
      return { text: `hold now needs a resume: ${e.cause} (${e.detail})`, severity: 'warn' };
    case 'mcu-latch':
      return { text: `MCU latch ${e.latch}: ${e.detail}`, severity: e.latch === 'latched' ? 'alarm' : 'info' };
    case 'serial-link':
      return { text: `serial link ${e.from} → ${e.to}${e.detail ? `: ${e.detail}` : ''}`, severity: e.to === 'READY' ? 'info' : 'warn' };
    case 'commands-shed':
      return { text: `${e.shed} command(s) shed: the serial line is full (${e.total} since start)`, severity: 'warn' };
    default:
      return { text: `${String(e.kind)}`, severity: 'info' };
  }
}

export class FleetModel {
  /**
   * @param {string} fleet
   * @param {{ ringCapacity?: number, eventCapacity?: number }} [opts]
   */
  constructor(fleet, opts = {}) {
    this.fleet = fleet;
    this.prefix = `${TOPIC_ROOT}/${fleet}/`;
    // 60 s at 20 Hz: the charts decimate to their pixels, so a longer window costs no drawing.
    this.ringCapacity = opts.ringCapacity ?? 1200;
    this.eventCapacity = opts.eventCapacity ?? 500;
    /** @type {Map<string, RobotRecord>} */
    this.robots = new Map();
    /** Newest last. @type {FleetEvent[]} */
    this.events = [];
    /** Bumped on every event (views redraw the log only when it moved). */
    this.eventsVersion = 0;
    /** @type {{ latched: boolean, operator: string | null, at: number | null }} */
    this.fleetLatch = { latched: false, operator: null, at: null };
    this.fleetVersion = 0;
    this.messages = 0;
    this.rejected = 0;
    /** Summaries dropped because a newer one of their robot was already taken. */
    this.stale = 0;
    /** Scratch row reused for every sample. @type {number[]} */
    this.row = [];
  }

  /** @param {string} id @returns {RobotRecord} */
  robot(id) {
    let r = this.robots.get(id);
    if (!r) {
      r = { id, online: null, statusAt: null, statusReason: null, software: null, summary: null, brief: null, receivedAt: null, joints: 0, ring: null, lastAt: Number.NEGATIVE_INFINITY, lastEvent: null, version: 0, hasImu: false };
      this.robots.set(id, r);
    }
    return r;
  }

  /**
   * Applies one MQTT message; returns false (and counts it) when it is not understood.
   * @param {string} topic @param {string} text the payload as UTF-8 @param {number} nowMs
   */
  handle(topic, text, nowMs) {
    this.messages++;
    if (!topic.startsWith(this.prefix)) return this.reject();
    const parts = topic.slice(this.prefix.length).split('/');
    const target = parts[0] ?? '';
    /** @type {any} */
    let msg;
    try {
      msg = text.length === 0 ? null : JSON.parse(text);
    } catch {
      msg = undefined;
    }
    if (target === FLEET_TARGET) {
      if (parts[1] === 'cmd' && parts[2] === 'estop') return this.onFleetEstop(msg, nowMs);
      return true; // fleet heartbeats: nothing to show
    }
    if (parts.length === 2 && msg && typeof msg === 'object') {
      if (parts[1] === 'state') return this.onState(target, msg, nowMs);
      if (parts[1] === 'brief') return this.onBrief(target, msg, nowMs);
      if (parts[1] === 'status') return this.onStatus(target, msg);
      if (parts[1] === 'event') return this.onEvent(target, msg);
    }
    if (parts[1] === 'cmd' && parts.length === 3) return this.onCommand(target, /** @type {string} */ (parts[2]), msg);
    // A reset or resume names its sender in the topic (the broker only lets that user write there).
    if (parts[1] === 'cmd' && parts.length === 4 && (parts[2] === 'reset' || parts[2] === 'resume')) return this.onCommand(target, parts[2], msg, parts[3]);
    return this.reject();
  }

  reject() {
    this.rejected++;
    return false;
  }

  /** @param {any} msg @param {number} nowMs */
  onFleetEstop(msg, nowMs) {
    // As the robots read it: anything on this topic but a well-formed release is a stop.
    const released = msg && msg.kind === 'release';
    const latched = msg !== null && !released; // an empty retained message clears the topic
    const operator = msg && typeof msg.operator === 'string' ? msg.operator : null;
    if (latched !== this.fleetLatch.latched) {
      const at = typeof msg?.at === 'number' ? msg.at : nowMs;
      this.fleetLatch = { latched, operator, at };
      this.fleetVersion++;
      const who = operator ?? 'someone';
      this.pushEvent(latched
        ? { at, robot: 'fleet', kind: 'fleet-stop', text: msg && msg.kind === 'estop' ? `${who} sent STOP ALL (category ${msg.category})` : 'a malformed message on the fleet e-stop topic: every robot stops', severity: 'alarm' }
        : { at, robot: 'fleet', kind: 'fleet-release', text: msg === null ? 'the fleet e-stop latch was cleared' : `${who} released the fleet e-stop latch`, severity: 'info' });
    }
    return true;
  }

  /** @param {string} id @param {any} s @param {number} nowMs */
  onState(id, s, nowMs) {
    if (typeof s.seq !== 'number' || !s.safety || typeof s.safety.state !== 'string') return this.reject();
    const r = this.robot(id);
    const at = typeof s.at === 'number' ? s.at : nowMs;
    if (at <= r.lastAt) {
      this.stale++;
      return true;
    }
    r.lastAt = at;
    r.summary = s;
    r.receivedAt = nowMs;
    if (r.online === null) r.online = true;
    const measured = s.measured && Array.isArray(s.measured.position) ? s.measured.position : null;
    const sent = s.sent && Array.isArray(s.sent.position) ? s.sent.position : null;
    const joints = Math.max(measured?.length ?? 0, sent?.length ?? 0);
    if (joints > 0) {
      if (joints !== r.joints || !r.ring) {
        r.joints = joints;
        r.ring = new SampleRing(this.ringCapacity, 2 * joints + 3);
      }
      const row = this.row.length === r.ring.width ? this.row : (this.row = new Array(r.ring.width));
      for (let j = 0; j < joints; j++) {
        row[j] = measured?.[j] ?? NaN;
        row[joints + j] = sent?.[j] ?? NaN;
      }
      const imu = s.imu;
      r.hasImu = !!imu;
      row[2 * joints] = imu ? imu.roll : NaN;
      row[2 * joints + 1] = imu ? imu.pitch : NaN;
      row[2 * joints + 2] = imu ? imu.yaw : NaN;
      r.ring.push(at / 1000, row);
    }
    r.version++;
    return true;
  }

  /**
   * The brief (the overview's fields, about 1 Hz): kept as it is; an older one than held is stale.
   * @param {string} id @param {any} b @param {number} nowMs
   */
  onBrief(id, b, nowMs) {
    if (typeof b.seq !== 'number' || !b.safety || typeof b.safety.state !== 'string') return this.reject();
    const r = this.robot(id);
    if (r.brief && typeof b.at === 'number' && b.at < r.brief.at) {
      this.stale++;
      return true;
    }
    r.brief = b;
    r.receivedAt = nowMs;
    if (r.online === null) r.online = true;
    r.version++;
    return true;
  }

  /**
   * What the overview shows of a robot, from whichever of its brief and summary is newer (the
   * robot shown in detail gets both).
   * @param {RobotRecord} r
   * @returns {{ safety: string | null, latched: boolean, mcuLatched: boolean, cause: string | null, link: string | null, mode: string | null, task: string | null, fleetLatch: boolean, metrics: any }}
   */
  static overview(r) {
    const b = r.brief, s = r.summary;
    if (b && !(s && typeof s.at === 'number' && s.at > b.at)) {
      return { safety: b.safety.state, latched: !!b.safety.latched, mcuLatched: !!b.safety.mcuLatched, cause: b.safety.cause ?? null, link: b.link ?? null, mode: b.mode ?? null, task: b.task ?? null, fleetLatch: !!b.fleetLatch, metrics: b.metrics ?? null };
    }
    return {
      safety: s?.safety?.state ?? null, latched: !!s?.safety?.latched, mcuLatched: !!s?.safety?.mcuLatched, cause: s?.safety?.cause ?? null, link: s?.link?.state ?? null,
      mode: s?.sent?.mode ?? null, task: s?.task ?? null, fleetLatch: !!s?.fleetLatch, metrics: s?.metrics ?? null,
    };
  }

  /** Frees a robot's plot samples (it is no longer shown in detail; its state is no longer subscribed). @param {string} id */
  dropRing(id) {
    const r = this.robots.get(id);
    if (!r) return;
    r.ring = null;
    r.joints = 0;
    r.summary = null;
    r.lastAt = Number.NEGATIVE_INFINITY;
    r.version++;
  }

  /** @param {string} id @param {any} s */
  onStatus(id, s) {
    if (typeof s.online !== 'boolean') return this.reject();
    const r = this.robot(id);
    r.online = s.online;
    r.statusAt = typeof s.at === 'number' ? s.at : null;
    r.statusReason = typeof s.reason === 'string' ? s.reason : null;
    r.software = typeof s.software === 'string' ? s.software : r.software;
    r.version++;
    return true;
  }

  /**
   * A robot's safety event. Its time for people is `wallMs` (the robot's wall clock, epoch ms);
   * `monoUs` orders one robot's events but is not a date, so it is never shown as one. An event with only
   * `at` comes from an older edge, which meant the wall time by it.
   * @param {string} id @param {any} e
   */
  onEvent(id, e) {
    if (typeof e.kind !== 'string') return this.reject();
    const d = describeEvent(e);
    const wall = typeof e.wallMs === 'number' ? e.wallMs : typeof e.at === 'number' ? e.at : Date.now();
    const ev = { at: wall, robot: id, kind: e.kind, ...d };
    this.pushEvent(ev);
    const r = this.robot(id);
    r.lastEvent = ev;
    r.version++;
    return true;
  }

  /**
   * Operators' commands are on the fleet's topics too: the log shows who asked for what.
   * @param {string} id @param {string} command @param {any} msg @param {string} [sender] the topic's sender level, when it has one
   */
  onCommand(id, command, msg, sender) {
    if (command === 'heartbeat') return true;
    const who = sender ?? (msg && typeof msg.operator === 'string' ? msg.operator : 'someone');
    const cat = command === 'estop' && msg && typeof msg.category === 'number' ? ` (category ${msg.category})` : '';
    this.pushEvent({ at: msg && typeof msg.at === 'number' ? msg.at : Date.now(), robot: id, kind: `cmd-${command}`, text: `${who} sent ${command}${cat}`, severity: command === 'estop' ? 'alarm' : 'info' });
    return true;
  }

  /** @param {FleetEvent} ev */
  pushEvent(ev) {
    this.events.push(ev);
    if (this.events.length > this.eventCapacity) this.events.splice(0, this.events.length - this.eventCapacity);
    this.eventsVersion++;
  }

  /**
   * What the overview shows for a robot's connection: `unreachable` when its broker connection is
   * gone without a goodbye (the broker published its will, or any {online:false} that is not a
   * clean stop), so remote e-stops cannot reach it now; `offline` after a deliberate shutdown.
   * @param {RobotRecord} r @param {number} nowMs @returns {'online' | 'offline' | 'unreachable' | 'stale' | 'unknown'}
   */
  static presence(r, nowMs) {
    if (r.online === false) return r.statusReason === CLEAN_STOP_REASON ? 'offline' : 'unreachable';
    if (r.online === null && r.receivedAt === null) return 'unknown';
    if (r.receivedAt === null || nowMs - r.receivedAt > STALE_AFTER_MS) return 'stale';
    return 'online';
  }
}
