/**
 * Offline replay: capture files through the packet pipeline (decode, defrag, flows, reassembly, HTTP) into a
 * matcher, one pipeline per capture (Snort run once per pcap), events handed to a callback.
 */
import { PacketPipeline, type InspectionItem, type PipelineOptions } from '../flow/pipeline.js';
import { SNORT_CONF_STREAM5_BOTH_PORTS, SNORT_CONF_STREAM5_CLIENT_PORTS } from '../flow/table.js';
import { CaptureFormatError, openCapture } from '../packet/pcap.js';
import type { MatchEvent } from './decide.js';

export interface Inspector {
  inspect(item: InspectionItem): MatchEvent[];
}

export interface ReplayOptions {
  checksumMode: 'all' | 'none';
  pipeline?: PipelineOptions;
}

export interface ReplayStats {
  packets: number;
  bytes: number;
  items: number;
  events: number;
}

/** stream5_tcp of the snort.conf shipped with Snort 2.9: `ports client` and `ports both` reassembled. */
export const SHIPPED_STREAM5 = {
  reassembleClientPorts: [...SNORT_CONF_STREAM5_CLIENT_PORTS, ...SNORT_CONF_STREAM5_BOTH_PORTS],
  reassembleServerPorts: [...SNORT_CONF_STREAM5_BOTH_PORTS],
};

export function pipelineFor(opts: ReplayOptions): PacketPipeline {
  const verify = opts.checksumMode === 'all';
  return new PacketPipeline({
    ...opts.pipeline,
    flow: { ...SHIPPED_STREAM5, ...opts.pipeline?.flow },
    decode: { ...opts.pipeline?.decode, verifyChecksums: verify },
  });
}

/**
 * Replays one capture; calls onEvent for every logged event, in order. A capture that cannot be read to its end
 * is inspected up to the damage and the error is returned (not thrown).
 */
export async function replayCapture(
  path: string, inspector: Inspector, opts: ReplayOptions, onEvent: (e: MatchEvent) => void, stats?: ReplayStats,
): Promise<CaptureFormatError | undefined> {
  const pipe = pipelineFor(opts);
  const handle = (items: InspectionItem[]) => {
    for (const item of items) {
      if (stats) stats.items++;
      for (const e of inspector.inspect(item)) {
        if (stats) stats.events++;
        onEvent(e);
      }
    }
  };
  let error: CaptureFormatError | undefined;
  try {
    for await (const rec of openCapture(path)) {
      if (stats) {
        stats.packets++;
        stats.bytes += rec.data.length;
      }
      handle(pipe.push(rec.linktype, rec.data, rec.tsSec, rec.tsUsec));
    }
  } catch (e) {
    if (!(e instanceof CaptureFormatError)) throw e;
    error = e;
  }
  handle(pipe.finish());
  return error;
}
