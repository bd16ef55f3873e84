// @ts-check
/**
 * One robot in detail: its figures and three uPlot charts (joints measured; one joint commanded
 * against measured; IMU roll/pitch/yaw), from the columns the telemetry worker sends, already
 * decimated to the charts' width (pixels()). Charts are rebuilt only when the robot or its joint
 * count changes; otherwise setData.
 */
import { num } from './format.js';
import { recordingText } from './recording-view.js';

/**
 * Series lines are 1 CSS px wide. Chromium rasterises a canvas line of width 1 as a hairline, and a
 * wider one as a filled outline of the whole path: measured in headless Chromium (software
 * rendering), 3 charts of 12 lines × 700 points redrawn 10 times a second cost the renderer
 * 26 ms per redraw at width 1.2 and 3 ms at width 1 (LayerTreeHost::DoUpdateLayers, where the
 * canvas is drawn), and the dashboard's robot detail spent most of its main thread there.
 */
const LINE_PX = 1;
const COLORS = ['#0969da', '#cf222e', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#0a7f8c', '#6e7781', '#fb8500', '#3a86ff', '#2a9d8f', '#e63946'];

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
    this.joint = 0;
    /** Called when the operator picks another joint for the commanded-vs-measured chart. @type {(joint: number) => void} */
    this.onJoint = () => undefined;
    els.jointSelect.addEventListener('change', () => { this.joint = Number(els.jointSelect.value); this.onJoint(this.joint); });
  }

  /** @param {string | null} id */
  show(id) {
    this.robot = id;
    this.els.root.hidden = id === null;
    this.destroy();
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
      base(this.els.joints, Array.from({ length: n }, (_, j) => ({ label: `j${j + 1}`, stroke: COLORS[j % COLORS.length], width: LINE_PX }))),
      base(this.els.cmd, [{ label: 'commanded', stroke: '#cf222e', width: LINE_PX, dash: [6, 4] }, { label: 'measured', stroke: '#0969da', width: LINE_PX }]),
      base(this.els.imu, [{ label: 'roll', stroke: '#0969da', width: LINE_PX }, { label: 'pitch', stroke: '#1a7f37', width: LINE_PX }, { label: 'yaw', stroke: '#9a6700', width: LINE_PX }]),
    ];
  }

  /**
   * Draws the charts from what the telemetry worker sent for the selected robot (the figures come
   * with its row, through stats()).
   * @param {ReturnType<typeof import('./telemetry-worker.js').detailOf>} d
   */
  apply(d) {
    if (this.robot === null || d.robot !== this.robot) return;
    if (d.joints === 0 || !d.positions || !d.commanded || !d.imu) return;
    if (d.joints !== this.joints) this.build(d.joints);
    const [joints, cmd, imu] = this.charts;
    joints.setData(d.positions);
    cmd.setData(d.commanded);
    imu.setData(d.imu);
    this.els.root.dataset.samples = String(d.samples);
    this.els.root.dataset.lastT = String(d.lastT);
  }

  /** @param {import('./telemetry-worker.js').RowData} r */
  stats(r) {
    const safety = r.safety ?? '—';
    this.els.safety.textContent = safety;
    this.els.safety.dataset.safety = safety;
    this.els.cause.textContent = r.cause ? `cause: ${r.cause}` : '';
    const rec = recordingText(r.recording);
    this.els.root.dataset.recording = rec.state;
    const rows = [
      ['software', r.software ?? '—'],
      ['link', r.link ?? '—'],
      ['frames received', r.rxFrames ?? '—'],
      ['line errors', r.lineErrors ?? '—'],
      ['command mode', r.mode ?? '—'],
      ['task', r.task ?? '—'],
      ['brain latency', num(r.brainMs, 1, ' ms')],
      ['plan age', num(r.planAgeMs, 0, ' ms')],
      ['plan kind', r.planKind ?? '—'],
      ['loop lateness p99', num(r.latenessMs, 3, ' ms')],
      ['decoder', num(r.decoderMs, 1, ' ms')],
      ['tracking error', num(r.trackingRad === null ? null : r.trackingRad * 180 / Math.PI, 3, '°')],
      ['jitter (commanded velocity std)', num(r.jitterRadS, 4, ' rad/s')],
      ['fleet latch', r.fleetLatch ? 'asserted' : 'clear'],
      ['recording', rec.status],
      ['recording disk', rec.disk],
      ['summary seq', r.seq ?? '—'],
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

  /** The plotting width the worker decimates to: the widest chart, less its y axis. */
  pixels() {
    return Math.max(100, ...[this.els.joints, this.els.cmd, this.els.imu].map((el) => width(el) - 50));
  }

  resize() {
    const els = [this.els.joints, this.els.cmd, this.els.imu];
    this.charts.forEach((c, i) => c.setSize({ width: width(/** @type {HTMLElement} */ (els[i])), height: 170 }));
  }
}
