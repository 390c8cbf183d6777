/**
 * Where a reader is in its stream: the sequence number of the next byte it wants. Retransmitted bytes are left out;
 * bytes after a gap cannot be placed (the reader needs every byte), which ends the reader. Used by the DNS-over-TCP and
 * ClientHello readers (src/app).
 */
export class StreamOrder {
  private next: number | undefined;

  /** The new bytes of `data` (from `seq`), or undefined after a gap. Without `seq`, `data` is taken as it is. */
  take(data: Uint8Array, seq: number | undefined): Uint8Array | undefined {
    if (seq === undefined) return data;
    if (this.next === undefined) {
      this.next = (seq + data.length) >>> 0;
      return data;
    }
    const d = (seq - this.next) | 0;
    if (d > 0) return undefined;
    const skip = -d;
    if (skip >= data.length) return data.subarray(0, 0);
    this.next = (seq + data.length) >>> 0;
    return data.subarray(skip);
  }
}
