/** A protobuf timestamp from a Temporal describe or history, in epoch milliseconds (null when unset). */
export function timestampMs(
  t: { seconds?: { toString(): string } | null; nanos?: number | null } | null | undefined,
): number | null {
  if (!t?.seconds) return null;
  return Number(t.seconds.toString()) * 1000 + Math.round((t.nanos ?? 0) / 1e6);
}
