/** The benchmark scenarios, registered by name. */
import type { Scenario } from './harness.js';
import { scenario as codecDecode } from './codec-decode.bench.js';
import { scenario as serialRoundtrip } from './serial-roundtrip.bench.js';
import { scenario as timeSync } from './time-sync.bench.js';
import { scenario as estimation } from './estimation.bench.js';
import { scenario as decoderLatency } from './decoder-latency.bench.js';
import { scenario as decoderOverhead } from './decoder-overhead.bench.js';
import { scenario as brainSessions } from './brain-sessions.bench.js';
import { scenario as brainHostileImages } from './brain-hostile-images.bench.js';
import { scenario as controlLateness } from './control-lateness.bench.js';
import { scenario as controlSmoothness } from './control-smoothness.bench.js';
import { scenario as estopLatency } from './estop-latency.bench.js';
import { scenario as dashboardLoad } from './dashboard-load.bench.js';
import { scenario as stopAllLatency } from './stop-all-latency.bench.js';
import { scenario as mqttLoss } from './mqtt-loss.bench.js';
import { scenario as mcuCore } from './mcu-core.bench.js';
import { scenario as tickToWire } from './tick-to-wire.bench.js';
import { scenario as edgeCpu } from './edge-cpu.bench.js';
import { scenario as estopTls } from './estop-tls.bench.js';
import { scenario as tlsConnect } from './tls-connect.bench.js';
import { scenario as safetyModel } from './safety-model.bench.js';
import { scenario as motionQuality } from './motion-quality.bench.js';
import { scenario as qemuFirmware } from './qemu-firmware.bench.js';
import { scenario as chunkPolicyLatency } from './chunk-policy-latency.bench.js';
import { scenario as policyAdapterLatency } from './policy-adapter-latency.bench.js';
import { scenario as motionQualityRealtime } from './motion-quality-realtime.bench.js';
import { scenario as lineRate } from './line-rate.bench.js';
import { scenario as vlmPlannerLatency } from './vlm-planner-latency.bench.js';
import { scenario as brainFailover } from './brain-failover.bench.js';
import { scenario as liveView } from './live-view.bench.js';
import { scenario as brokerLoad } from './broker-load.bench.js';
import { scenario as datasetExport } from './dataset-export.bench.js';
import { scenario as recorderCost } from './recorder-cost.bench.js';

export const scenarios: Scenario[] = [
  codecDecode,
  serialRoundtrip,
  timeSync,
  estimation,
  decoderLatency,
  decoderOverhead,
  brainSessions,
  brainHostileImages,
  controlLateness,
  controlSmoothness,
  estopLatency,
  dashboardLoad,
  stopAllLatency,
  mqttLoss,
  mcuCore,
  tickToWire,
  edgeCpu,
  estopTls,
  tlsConnect,
  safetyModel,
  motionQuality,
  qemuFirmware,
  chunkPolicyLatency,
  policyAdapterLatency,
  motionQualityRealtime,
  lineRate,
  vlmPlannerLatency,
  brainFailover,
  liveView,
  brokerLoad,
  datasetExport,
  recorderCost,
];
