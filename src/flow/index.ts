export { Endpoint, Flow, type FlowKind, type TcpState } from './flow.js';
export { compareEndpoints, flowKey, flowPorts } from './key.js';
export { seqDiff, StreamBuffer, type StreamPolicy } from './reassembly.js';
export {
  FlowTable,
  SNORT_CONF_STREAM5_BOTH_PORTS,
  SNORT_CONF_STREAM5_CLIENT_PORTS,
  STREAM5_DEFAULT_CLIENT_PORTS,
  type FlowConfig,
  type FlowStats,
  type FlowUpdate,
  type FlushReason,
  type StreamSegment,
} from './table.js';
export { PacketPipeline, SNORT_HTTP_PORTS, type InspectionItem, type PipelineOptions } from './pipeline.js';
