/**
 * Routes accepted plans to the control loop by kind. A latent plan becomes the latent the decoder
 * reads on its next request; an action-chunk plan is resampled onto the schedule's grid and pushed
 * to the schedule at once, aligned to the capture of the observation it answers. Either way the
 * safety supervisor learns the plan's validity, so a lapse holds the robot the same way for both.
 *
 * Invariant: `source` is 'plans' exactly while the newest usable plan is an action chunk, so the
 * decoder never runs on a latent left over from an older latent plan while chunks drive the robot.
 */
import { resampleChunk } from './action-chunk.js';

/** The fields of an accepted plan this needs (edge/cloud-link AcceptedPlan fits). */
export interface RoutedPlan {
  planId: number;
  kind: 'latent' | 'action-chunk';
  latent: Float32Array;
  chunk: { rows: number; stepUs: number; actions: Float32Array } | null;
  captureUs: number;
  expiresAtUs: number;
}

export interface PlanSink {
  pushChunk(actions: Float32Array, originUs: number): void;
  chunkSourceChanged(): void;
}

export interface PlanValidity {
  planReceived(expiresAtUs: number): void;
}

export interface PlanExecutionOptions {
  jointCount: number;
  /** The schedule's row period, µs (control.stepMs). */
  stepUs: number;
  /** The schedule's rows per chunk. */
  maxRows: number;
}

export class PlanExecution {
  /** The present latent plan's latent; null while chunks drive the robot or before any plan. */
  latent: Float32Array | null = null;
  source: 'decoder' | 'plans' = 'decoder';
  /** Kind of the last plan used; null before the first. */
  kind: 'latent' | 'action-chunk' | null = null;
  /** Action-chunk plans that cover less than one schedule step (not used; named in `lastRefusal`). */
  refused = 0;
  lastRefusal = '';
  private sink: PlanSink | null = null;
  private validity: PlanValidity | null = null;

  constructor(private readonly o: PlanExecutionOptions) {}

  bind(sink: PlanSink, validity: PlanValidity): void {
    this.sink = sink;
    this.validity = validity;
  }

  /** Returns false when the plan could not be used (the robot then holds when the last one lapses). */
  onPlan(p: RoutedPlan): boolean {
    if (p.chunk !== null) {
      const actions = resampleChunk(p.chunk, this.o.jointCount, this.o.stepUs, this.o.maxRows);
      if (actions === null) {
        this.refused++;
        this.lastRefusal = `plan ${p.planId}: the action chunk covers ${p.chunk.rows} x ${p.chunk.stepUs} µs, less than one control step of ${this.o.stepUs} µs`;
        return false;
      }
      this.latent = null;
      this.setSource('plans');
      this.kind = 'action-chunk';
      this.sink?.pushChunk(actions, p.captureUs);
    } else {
      this.latent = p.latent;
      this.setSource('decoder');
      this.kind = 'latent';
    }
    this.validity?.planReceived(p.expiresAtUs);
    return true;
  }

  private setSource(s: 'decoder' | 'plans'): void {
    if (this.source === s) return;
    this.source = s;
    this.sink?.chunkSourceChanged();
  }
}
