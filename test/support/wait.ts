// Waiting for an observable condition instead of a fixed sleep: `probe` is asked every 50 ms
// until it answers something truthy, which is returned.
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | null | false | 0 | Promise<T | undefined | null | false | 0>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(value)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
