// Temporal's SDK gives a server it launches (the dev server, the Java test server) a fixed 5 s to
// answer. A cold 250 MB binary, or a JVM starting while both cores are busy, can miss that. The
// SDK kills the late process, so a new attempt starts clean; a server that never starts still
// fails after the last attempt.
export async function withSlowStartRetry<T>(what: string, start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= attempts || !/did not start within/.test(String(err))) throw err;
      console.warn(`[test set-up] ${what} slow to start (attempt ${attempt} of ${attempts}); starting it again`);
    }
  }
}
