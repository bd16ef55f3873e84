// @ts-check
/**
 * One robot in detail: its figures and three uPlot charts fed from the robot's sample ring (joints
 * measured; one joint commanded against measured; IMU roll/pitch/yaw). Charts are rebuilt only
 * when the robot or its joint count changes; otherwise setData on the ring's columns.
 */
import { num } from './format.js';

const COLORS = ['#0969da', '#cf222e', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#0a7f8c', '#6e7781', '#fb8500', '#3a86ff', '#2a9d8f', '#e63946'];
const DEG = 180 / Math.PI;

/** @param {HTMLElement} el */
function width(el) {
  return Math.max(300, Math.floor(el.clientWidth || 380));
}

export class DetailView {
  /** @param {{ root: HTMLElement, stats: HTMLElement, joints: HTMLElement, cmd: HTMLElement, imu: HTMLElement, jointSelect: HTMLSelectElement, title: HTMLElement, safety: HTMLElement, cause: HTMLElement }} els */
  constructor(els) {
    this.els = els;
    /** @type {string | null} */
    this.robot = null;
    this.joints = -1;
    /** @type {any[]} */
    this.charts = [];
    this.version = -1;
    this.joint = 0;
    els.jointSelect.addEventListener('change', () => { this.joint = Number(els.jointSelect.value); this.version = -1; });
  }

  /** @param {string | null} id */
  show(id) {
    this.robot = id;
    this.els.root.hidden = id === null;
    this.destroy();
    this.version = -1;
  }

  destroy() {
    for (const c of this.charts) c.destroy();
    this.charts = [];
    this.joints = -1;
  }

  /** @param {number} n */
  build(n) {
    this.destroy();
    this.joints = n;
    const U = /** @type {any} */ (globalThis).uPlot;
    const sel = this.els.jointSelect;
    sel.replaceChildren(...Array.from({ length: n }, (_, j) => new Option(String(j + 1), String(j))));
    if (this.joint >= n) this.joint = 0;
    sel.value = String(this.joint);
    const base = (/** @type {HTMLElement} */ el, /** @type {any[]} */ series) => new U({
      width: width(el), height: 170, series: [{}, ...series], legend: { show: true, live: false },
      scales: { x: { time: true } }, axes: [{ space: 60 }, { size: 50 }], cursor: { show: false },
    }, [[]].concat(series.map(() => [])), el);
    this.charts = [
      base(this.els.joints, Array.from({ length: n }, (_, j) => ({ label: `j${j + 1}`, stroke: COLORS[j % COLORS.length], width: 1.2 }))),
      base(this.els.cmd, [{ label: 'commanded', stroke: '#cf222e', width: 1.5, dash: [6, 4] }, { label: 'measured', stroke: '#0969da', width: 1.5 }]),
      base(this.els.imu, [{ label: 'roll', stroke: '#0969da', width: 1.2 }, { label: 'pitch', stroke: '#1a7f37', width: 1.2 }, { label: 'yaw', stroke: '#9a6700', width: 1.2 }]),
    ];
  }

  /** Redraws from the model when the robot changed since the last call. @param {import('./fleet-model.js').FleetModel} model */
  update(model) {
    if (this.robot === null) return;
    const r = model.robots.get(this.robot);
    if (!r || r.version === this.version) return;
    this.version = r.version;
    const s = r.summary;
    this.els.title.textContent = r.id;
    const safety = s?.safety?.state ?? '—';
    this.els.safety.textContent = safety;
    this.els.safety.dataset.safety = safety;
    this.els.cause.textContent = s?.safety?.cause ? `cause: ${s.safety.cause}` : '';
    this.stats(r);
    const ring = r.ring;
    if (!ring || r.joints === 0) return;
    if (r.joints !== this.joints) this.build(r.joints);
    const n = r.joints;
    const [joints, cmd, imu] = this.charts;
    joints.setData(ring.columns(Array.from({ length: n }, (_, j) => j)));
    cmd.setData(ring.columns([n + this.joint, this.joint]));
    const o = ring.columns([2 * n, 2 * n + 1, 2 * n + 2]);
    for (let c = 1; c < o.length; c++) {
      const col = /** @type {(number | null)[]} */ (o[c]);
      for (let i = 0; i < col.length; i++) { const v = col[i]; if (v !== null && v !== undefined) col[i] = v * DEG; }
    }
    imu.setData(o);
    this.els.root.dataset.samples = String(ring.count);
    this.els.root.dataset.lastT = String(ring.times[(ring.next - 1 + ring.capacity) % ring.capacity]);
  }

  /** @param {import('./fleet-model.js').RobotRecord} r */
  stats(r) {
    const s = r.summary;
    const m = s?.metrics;
    const rows = [
      ['software', r.software ?? '—'],
      ['link', s?.link?.state ?? '—'],
      ['frames received', s?.link?.rxFrames ?? '—'],
      ['line errors', s?.link?.errors ?? '—'],
      ['command mode', s?.sent?.mode ?? '—'],
      ['task', s?.task ?? '—'],
      ['brain latency', num(m?.cloudLatencyMs, 1, ' ms')],
      ['plan age', num(m?.planAgeMs, 0, ' ms')],
      ['loop lateness p99', num(m?.loopLatenessP99Ms, 3, ' ms')],
      ['decoder', num(m?.decoderMs, 1, ' ms')],
      ['fleet latch', s?.fleetLatch ? 'asserted' : 'clear'],
      ['summary seq', s?.seq ?? '—'],
    ];
    const dl = this.els.stats;
    if (dl.childElementCount !== rows.length) {
      dl.replaceChildren(...rows.map(([k]) => {
        const div = document.createElement('div');
        const dt = document.createElement('dt');
        dt.textContent = String(k);
        div.append(dt, document.createElement('dd'));
        return div;
      }));
    }
    rows.forEach(([, v], i) => {
      const dd = /** @type {HTMLElement} */ (dl.children[i]?.lastElementChild);
      const t = String(v);
      if (dd.textContent !== t) dd.textContent = t;
    });
  }

  resize() {
    const els = [this.els.joints, this.els.cmd, this.els.imu];
    this.charts.forEach((c, i) => c.setSize({ width: width(/** @type {HTMLElement} */ (els[i])), height: 170 }));
  }
}
