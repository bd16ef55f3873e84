// @ts-check
/**
 * The fleet table: one row per robot, created once; a cell is rewritten only when its text
 * changes, so 100 robots at 20 Hz cost a handful of DOM writes per frame, not a rebuild.
 */
import { age, num } from './format.js';

/** @typedef {import('./telemetry-worker.js').RowData} RowData */

const COLUMNS = ['robot', 'presence', 'safety', 'mode', 'task', 'brain', 'lateness', 'decoder', 'event'];
const EVENT = COLUMNS.indexOf('event');

export class OverviewView {
  /**
   * @param {HTMLTableSectionElement} body
   * @param {{ onSelect(id: string): void, onEstop(id: string): void, canCommand: boolean }} actions
   */
  constructor(body, actions) {
    this.body = body;
    this.actions = actions;
    /** @type {Map<string, { tr: HTMLTableRowElement, cells: HTMLTableCellElement[], text: string[], data: RowData | null }>} */
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
    // Rows stay in robot-id order as robots appear.
    const after = [...this.rows.keys()].filter((k) => k.localeCompare(id, undefined, { numeric: true }) > 0).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))[0];
    this.body.insertBefore(tr, after !== undefined ? (this.rows.get(after)?.tr ?? null) : null);
    row = { tr, cells, text: COLUMNS.map(() => ''), data: null };
    this.rows.set(id, row);
    this.write(row, 0, id);
    return row;
  }

  /** @param {{ cells: HTMLTableCellElement[], text: string[] }} row @param {number} i @param {string} text */
  write(row, i, text) {
    if (row.text[i] === text) return;
    row.text[i] = text;
    /** @type {HTMLTableCellElement} */ (row.cells[i]).textContent = text;
  }

  /** @param {RowData} d @param {number} nowMs */
  apply(d, nowMs) {
    const row = this.row(d.id);
    row.data = d;
    const safety = d.safety ?? '—';
    const text = [
      d.id, d.presence, d.latched && safety !== 'ESTOP' ? `${safety} (latched)` : safety, d.mode ?? '—', d.task ?? '—',
      num(d.brainMs, 1, ' ms'), num(d.latenessMs, 2, ' ms'), num(d.decoderMs, 1, ' ms'), this.eventText(d, nowMs),
    ];
    for (let i = 0; i < text.length; i++) this.write(row, i, /** @type {string} */ (text[i]));
    if (row.tr.dataset.presence !== d.presence) row.tr.dataset.presence = d.presence;
    if (row.tr.dataset.safety !== safety) row.tr.dataset.safety = safety;
  }

  /** @param {RowData} d @param {number} nowMs */
  eventText(d, nowMs) {
    return d.lastEvent ? `${d.lastEvent.text} · ${age(nowMs - d.lastEvent.at)}` : '—';
  }

  /** Ages in the last-event column move with time alone. @param {number} nowMs */
  tick(nowMs) {
    for (const row of this.rows.values()) if (row.data) this.write(row, EVENT, this.eventText(row.data, nowMs));
  }

  /** @param {string | null} id */
  select(id) {
    if (this.selected) this.rows.get(this.selected)?.tr.classList.remove('selected');
    this.selected = id;
    if (id) this.rows.get(id)?.tr.classList.add('selected');
  }
}
