// @ts-check
/** The event log, newest first; redrawn only when the model's events moved, at most `shown` lines. */
import { clock } from './format.js';

export class EventLogView {
  /** @param {HTMLOListElement} list @param {number} [shown] */
  constructor(list, shown = 200) {
    this.list = list;
    this.shown = shown;
    this.version = -1;
  }

  /** @param {import('./fleet-model.js').FleetModel} model */
  update(model) {
    if (model.eventsVersion === this.version) return;
    this.version = model.eventsVersion;
    const frag = document.createDocumentFragment();
    const events = model.events;
    for (let i = events.length - 1; i >= 0 && events.length - i <= this.shown; i--) {
      const e = /** @type {import('./fleet-model.js').FleetEvent} */ (events[i]);
      const li = document.createElement('li');
      li.dataset.severity = e.severity;
      li.dataset.kind = e.kind;
      const t = document.createElement('time');
      t.textContent = clock(e.at);
      li.append(t, `${e.robot}: ${e.text}`);
      frag.appendChild(li);
    }
    if (events.length === 0) {
      const li = document.createElement('li');
      li.className = 'empty';
      li.textContent = 'No events yet: transitions, stops, resets and operators\' commands appear here.';
      frag.appendChild(li);
    }
    this.list.replaceChildren(frag);
  }
}
