/**
 * The API's rows as the page reads them: the store's own row types (src/store/query.ts), imported as types only
 * (esbuild erases them: nothing of the store is bundled into the page), in their JSON form where it differs.
 */
import type {
  AlertRow,
  Bucket as StoreBucket,
  FlowDetail as StoreFlowDetail,
  FlowRow,
  HostRow,
  ProcessDetail as StoreProcessDetail,
  ProcessRow,
  SocketRow,
} from '../../store/query.js';
import type { PacketSummary } from '../routes/flows.js';

/** A page of rows as the API sends it: `next` is null on the last page (JSON has no undefined). */
export interface Paged<T> {
  rows: T[];
  next: string | null;
}

export type Flow = FlowRow;
export type Alert = AlertRow;
export type Process = ProcessRow;
export type Socket = SocketRow;
export type Host = HostRow;
export type Bucket = StoreBucket;
export type Keystroke = StoreProcessDetail['keystrokes'][number];

/** GET /api/flows/:id: the store's detail and the first packets summarized (or why they could not be read). */
export type FlowDetail = StoreFlowDetail & { packets: { packets: PacketSummary[]; more: boolean } | { error: string } };

/** GET /api/sebek/processes/:client/:pid: the store's detail and the parent's pid and command. */
export type ProcessDetail = StoreProcessDetail & { parent: { pid: number; com: string } | null };
