/**
 * The range of capture times honeywall prints: 1970-01-01 to 9999-12-31T23:59:59Z (four-digit years in every output;
 * a JavaScript Date ends in 275760 and `new Date(NaN)` has no ISO form at all). The capture reader clamps times to it
 * and counts them (CaptureNotes); the formatters clamp again, so no time value can end an output with an exception.
 */
export const MAX_TIMESTAMP_SEC = 253402300799;

/** `sec` in [0, MAX_TIMESTAMP_SEC] (NaN gives 0). */
export function clampTimestampSec(sec: number): number {
  return sec >= 0 ? Math.min(sec, MAX_TIMESTAMP_SEC) : 0;
}

/** Microseconds in [0, 999999] (NaN gives 0). */
export function clampUsec(usec: number): number {
  return usec >= 0 ? Math.min(Math.floor(usec), 999_999) : 0;
}
