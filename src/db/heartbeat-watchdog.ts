// A watchdog over the MongoDB driver's server monitor.
//
// Why: the driver (mongodb 7.8/7.9) can leave its monitor waiting for ever. When the server shuts
// down, Node destroys the monitor's socket one turn of the event loop before it emits 'close'; a
// heartbeat written in that turn is swallowed (`write` returns false, and neither 'drain' nor
// 'error' follows), and the driver waits for 'drain'. The server then stays "Unknown": every
// operation fails server selection until the process restarts, though the server is back.
// A script restarting FerretDB under the fault suite's load met it twice in 24 restarts
// (docs/reliability.md, "The stuck server monitor").
//
// What: every heartbeat the driver starts must end (succeed or fail) within the longest a
// heartbeat can legitimately take. One that does not is stuck; the watchdog then closes the
// client and connects it again, which gives it a new monitor and a new pool. Operations under way
// fail with a network error (a 503 at the API, a retried activity in the worker); models keep
// working, since they hold the client, not its topology.
import type {
  MongoClient,
  ServerHeartbeatFailedEvent,
  ServerHeartbeatStartedEvent,
  ServerHeartbeatSucceededEvent,
} from 'mongodb';

export interface HeartbeatWatchdogOptions {
  /** A heartbeat under way longer than this is stuck. */
  stuckAfterMs: number;
  /** How often to look (default: every second, or a fifth of stuckAfterMs when that is shorter). */
  checkEveryMs?: number;
  /** Told before each reconnection, with the server and how long its heartbeat had been under way. */
  onStuck?: (info: { address: string; stuckForMs: number }) => void;
  /** Told when a reconnection failed (the next look tries again). */
  onReconnectFailed?: (err: unknown) => void;
}

/**
 * The longest a heartbeat can take: with the streaming protocol the server holds a heartbeat for
 * up to `heartbeatFrequencyMS`; a new monitor connection takes up to `connectTimeoutMS` to open
 * and as long again for its handshake. A margin on top keeps a slow but live heartbeat safe.
 */
export function heartbeatBoundMs(options: { heartbeatFrequencyMS: number; connectTimeoutMS: number }): number {
  return options.heartbeatFrequencyMS + 2 * options.connectTimeoutMS + 5_000;
}

/** Starts watching; returns the function that stops. */
export function watchHeartbeats(client: MongoClient, options: HeartbeatWatchdogOptions): () => void {
  const underWay = new Map<string, number>();
  const started = (e: ServerHeartbeatStartedEvent) => {
    underWay.set(e.connectionId, Date.now());
  };
  const ended = (e: ServerHeartbeatSucceededEvent | ServerHeartbeatFailedEvent) => {
    underWay.delete(e.connectionId);
  };
  client.on('serverHeartbeatStarted', started);
  client.on('serverHeartbeatSucceeded', ended);
  client.on('serverHeartbeatFailed', ended);

  // Closed and not yet connected again: the next looks retry until the server answers (a client
  // whose connect failed refuses every operation; it does not connect by itself).
  let closed = false;
  let busy = false;
  const check = async () => {
    if (busy) return;
    busy = true;
    try {
      if (!closed) {
        const now = Date.now();
        const stuck = [...underWay].find(([, since]) => now - since > options.stuckAfterMs);
        if (!stuck) return;
        options.onStuck?.({ address: stuck[0], stuckForMs: now - stuck[1] });
        // The old monitor goes with its topology; its heartbeat will never end.
        underWay.clear();
        closed = true;
        await client.close();
      }
      await client.connect();
      closed = false;
    } catch (err) {
      options.onReconnectFailed?.(err);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(
    () => {
      void check();
    },
    options.checkEveryMs ?? Math.max(100, Math.min(1000, Math.floor(options.stuckAfterMs / 5))),
  );
  timer.unref();

  return () => {
    clearInterval(timer);
    client.off('serverHeartbeatStarted', started);
    client.off('serverHeartbeatSucceeded', ended);
    client.off('serverHeartbeatFailed', ended);
  };
}
