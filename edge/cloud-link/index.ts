/** Public API of edge/cloud-link: the brain session client, its states, options and events. */
export { CloudLink } from './cloud-link.js';
export { CloudLinkState, CloudLinkStateMachine, IllegalCloudTransitionError, hasStream } from './cloud-link-state.js';
export type {
  AcceptedPlan, CloudLinkCounters, CloudLinkErrorEvent, CloudLinkEvents, CloudLinkHealth, CloudLinkOptions,
  PlanExpiredEvent, PlanRejectedEvent, StateChangeEvent, StateSource, TaskEvent, WelcomeEvent,
} from './cloud-link-types.js';
export { buildHello, type DecoderContract, type HelloInputs } from './hello-message.js';
export { PLAN_REJECT_REASONS, validatePlan, type PlanRejectReason, type PlanVerdict } from './plan-validation.js';
export { ClockOffsetEstimator, type ClockOffsetEstimate } from './clock-offset.js';
export { LatencyWindow, type LatencySummary } from './latency-window.js';
export { CloudLinkConfigError, channelCredentials, isLoopbackHost, parseTarget, type CloudTls } from './transport-security.js';
