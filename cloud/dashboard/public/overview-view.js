// @ts-check
/**
 * The fleet table: one row per robot, created once; cells are rewritten only when their text
 * changes, so 100 robots at 20 Hz cost a handful of DOM writes per frame, not a rebuild.
 */
import { FleetModel } from './fleet-model.js';
import { age, num } from './format.js';

const COLUMNS = ['robot', 'presence', 'safety', 'mode', 'task', 'brain', 'lateness', 'decoder', 'event'];

export class OverviewView {
  /**
   * @param {HTMLTableSectionElement} body
   * @param {{ onSelect(id: string): void, onEstop(id: string): void, canCommand: boolean }} actions
   */
  constructor(body, actions) {
    this.body = body;
    this.actions = actions;
    /** @type {Map<string, { tr: HTMLTableRowElement, cells: HTMLTableCellElement[], text: string[], version: number, presence: string }>} */
    this.rows = new Map();
    /** @type {string | null} */
    this.selected = null;
  }

  /** @param {string} id */
  row(id) {
    let row = this.rows.get(id);
    if (row) return row;
    const tr = document.createElement('tr');
    tr.dataset.robot = id;
    const cells = COLUMNS.map((c) => {
      const td = document.createElement('td');
      if (c === 'brain' || c === 'lateness' || c === 'decoder') td.className = 'num';
      if (c === 'event') td.className = 'event';
      tr.appendChild(td);
      return td;
    });
    const act = document.createElement('td');
    const stop = document.createElement('button');
    stop.type = 'button';
    stop.className = 'estop op-only';
    stop.textContent = 'E-STOP';
    stop.title = `E-stop ${id}`;
    stop.disabled = !this.actions.canCommand;
    stop.addEventListener('click', (ev) => { ev.stopPropagation(); this.actions.onEstop(id); });
    act.appendChild(stop);
    tr.appendChild(act);
    tr.addEventListener('click', () => this.actions.onSelect(id));
    // Keep rows in robot-id order as robots appear.
    const after = [...this.rows.keys()].filter((k) => k.localeCompare(id, undefined, { numeric: true }) > 0).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))[0];
    this.body.insertBefore(tr, after !== undefined ? (this.rows.get(after)?.tr ?? null) : null);
    row = { tr, cells, text: COLUMNS.map(() => ''), version: -1, presence: '' };
    this.rows.set(id, row);
    return row;
  }

  /** @param {FleetModel} model @param {number} nowMs */
  update(model, nowMs) {
    for (const r of model.robots.values()) {
      const row = this.row(r.id);
      const presence = FleetModel.presence(r, nowMs);
      // Presence and event age change with time alone; everything else only with a new message.
      if (row.version === r.version && row.presence === presence && !r.lastEvent) continue;
      row.version = r.version;
      row.presence = presence;
      const s = r.summary;
      const m = s?.metrics;
      const safety = s?.safety?.state ?? '—';
      const text = [
        r.id,
        presence,
        s?.safety?.latched && safety !== 'ESTOP' ? `${safety} (latched)` : safety,
        s?.sent?.mode ?? '—',
        s?.task ?? '—',
        num(m?.cloudLatencyMs, 1, ' ms'),
        num(m?.loopLatenessP99Ms, 2, ' ms'),
        num(m?.decoderMs, 1, ' ms'),
        r.lastEvent ? `${r.lastEvent.text} · ${age(nowMs - r.lastEvent.at)}` : '—',
      ];
      for (let i = 0; i < text.length; i++) {
        if (row.text[i] !== text[i]) {
          row.text[i] = /** @type {string} */ (text[i]);
          /** @type {HTMLTableCellElement} */ (row.cells[i]).textContent = /** @type {string} */ (text[i]);
        }
      }
      if (row.tr.dataset.presence !== presence) row.tr.dataset.presence = presence;
      if (row.tr.dataset.safety !== safety) row.tr.dataset.safety = safety;
    }
  }

  /** @param {string | null} id */
  select(id) {
    if (this.selected) this.rows.get(this.selected)?.tr.classList.remove('selected');
    this.selected = id;
    if (id) this.rows.get(id)?.tr.classList.add('selected');
  }
}
