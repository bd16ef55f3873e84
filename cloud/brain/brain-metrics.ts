/**
 * The brain's Prometheus metrics, on a registry of its own (not prom-client's global one), so
 * several servers in one process (tests) never share counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class BrainMetrics {
  readonly registry = new Registry();
  readonly sessions: Gauge;
  readonly sessionsRefused: Counter<'code'>;
  readonly observationsReceived: Counter;
  readonly observationsSuperseded: Counter;
  readonly observationsRejected: Counter<'reason'>;
  readonly plansSent: Counter;
  readonly errorsSent: Counter<'code'>;
  readonly errorsDropped: Counter<'code'>;
  readonly planLatency: Histogram;
  readonly batchSize: Histogram;
  readonly backendErrors: Counter<'kind'>;
  readonly tasksSet: Counter;
  readonly taskStoreUp: Gauge;
  readonly taskStoreRefused: Counter<'reason'>;
  readonly taskRecordsRejected: Counter<'reason'>;
  readonly taskStorePending: Gauge;
  readonly backendDropped: Gauge<'kind'>;

  /** `backendCounters`: the backend's own drop counts (BrainBackend.counters), read at each scrape. */
  constructor(opts: { processMetrics?: boolean; backendCounters?: () => Record<string, number> } = {}) {
    const r = [this.registry];
    this.sessions = new Gauge({ name: 'spinal_brain_sessions', help: 'Open robot sessions', registers: r });
    this.sessionsRefused = new Counter({ name: 'spinal_brain_sessions_refused_total', help: 'Sessions refused at hello, by error code', labelNames: ['code'], registers: r });
    this.observationsReceived = new Counter({ name: 'spinal_brain_observations_received_total', help: 'Observations received', registers: r });
    this.observationsSuperseded = new Counter({ name: 'spinal_brain_observations_superseded_total', help: 'Observations replaced by a newer one before the backend saw them', registers: r });
    this.observationsRejected = new Counter({ name: 'spinal_brain_observations_rejected_total', help: 'Observations refused, by reason', labelNames: ['reason'], registers: r });
    this.plansSent = new Counter({ name: 'spinal_brain_plans_sent_total', help: 'Plans sent', registers: r });
    this.errorsSent = new Counter({ name: 'spinal_brain_errors_sent_total', help: 'Error messages sent to robots, by code', labelNames: ['code'], registers: r });
    this.errorsDropped = new Counter({ name: 'spinal_brain_errors_dropped_total', help: 'Error messages not sent because the robot was not reading (backpressure), by code', labelNames: ['code'], registers: r });
    this.planLatency = new Histogram({
      name: 'spinal_brain_plan_latency_seconds', help: 'Observation received to plan written', registers: r,
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2],
    });
    this.batchSize = new Histogram({
      name: 'spinal_brain_batch_size', help: 'Requests per backend call', registers: r,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    });
    this.backendErrors = new Counter({ name: 'spinal_brain_backend_errors_total', help: 'Backend calls or results that failed, by kind', labelNames: ['kind'], registers: r });
    this.tasksSet = new Counter({ name: 'spinal_brain_tasks_set_total', help: 'Operator SetTask calls accepted', registers: r });
    this.taskStoreUp = new Gauge({ name: 'spinal_brain_task_store_up', help: 'Whether the task store takes writes (1) or not (0)', registers: r });
    this.taskStoreRefused = new Counter({ name: 'spinal_brain_task_store_refused_total', help: 'Task writes answered UNAVAILABLE, by reason', labelNames: ['reason'], registers: r });
    this.taskRecordsRejected = new Counter({ name: 'spinal_brain_task_records_rejected_total', help: 'Task records from the store ignored: invalid payloads and stale writes', labelNames: ['reason'], registers: r });
    this.taskStorePending = new Gauge({ name: 'spinal_brain_task_store_pending', help: 'Task writes sent and not yet acknowledged by the store', registers: r });
    const read = opts.backendCounters;
    this.backendDropped = new Gauge({
      name: 'spinal_brain_backend_dropped_total', help: 'Work the backend dropped (expired before running, queue full, late answers, decoders stopped), by kind', labelNames: ['kind'], registers: r,
      collect() {
        if (read === undefined) return;
        for (const [kind, n] of Object.entries(read())) this.set({ kind }, n);
      },
    });
    if (opts.processMetrics === true) collectDefaultMetrics({ register: this.registry, prefix: 'spinal_brain_' });
  }

  /** The sum of a metric's values matching `labels`; for a histogram name `series`
   * (e.g. "spinal_brain_batch_size_count"). For tests and summaries. */
  async value(name: string, labels: Record<string, string> = {}, series?: string): Promise<number> {
    const m = await this.registry.getSingleMetric(name)?.get();
    if (m === undefined) throw new Error(`no metric ${name}`);
    let sum = 0;
    for (const v of m.values) {
      const vs = (v as { metricName?: string }).metricName;
      if (series === undefined ? vs !== undefined && vs !== name : vs !== series) continue;
      if (Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)) sum += v.value;
    }
    return sum;
  }
}
