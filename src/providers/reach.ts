// Issue 20: whether an HTTP request reached the provider, to tell a send that cannot have been
// taken (nothing connected: another provider may send it) from one that may have been (the
// request went out: sending it elsewhere could deliver it twice).
//
// "Reached" is the moment the request can leave: the TCP connection is up (plain HTTP, the
// sandbox) or the TLS handshake is done (HTTPS, the real API), or a kept-alive connection is
// reused. Each send runs in its own async context (AsyncLocalStorage), so the agents shared by all
// sends know which send a connection belongs to.
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';

/** One send's connections and whether one of them reached the provider. */
export interface Reach {
  reached: boolean;
  readonly connections: Set<Duplex>;
}

const current = new AsyncLocalStorage<Reach>();

function watch(connection: Duplex | null | undefined, event: 'connect' | 'secureConnect') {
  const reach = current.getStore();
  if (!connection || !reach) return connection;
  reach.connections.add(connection);
  connection.once(event, () => {
    reach.reached = true;
  });
  connection.once('close', () => reach.connections.delete(connection));
  return connection;
}

/** The agent, its new connections watched until `event` (connected) and its reused ones counted as reached. */
function watched<A extends http.Agent>(agent: A, event: 'connect' | 'secureConnect'): A {
  const create = agent.createConnection.bind(agent);
  const reuse = agent.reuseSocket.bind(agent);
  agent.createConnection = (options, callback) => watch(create(options, callback), event);
  agent.reuseSocket = (socket, request) => {
    const reach = current.getStore();
    if (reach) reach.reached = true;
    reuse(socket, request);
  };
  return agent;
}

/** Keep-alive agents for a provider's client that note, per send, when a request reached it. */
export function watchedAgents() {
  return {
    httpAgent: watched(new http.Agent({ keepAlive: true }), 'connect'),
    httpsAgent: watched(new https.Agent({ keepAlive: true }), 'secureConnect'),
  };
}

/** What `withinReach` hands `onFailure` when the provider was not reached in time: nothing left this machine for it. */
export class NotReached extends Error {
  override name = 'NotReached';
}

/**
 * Runs `send` (which must make its request through the watched agents) and, when `reachWithinMs`
 * is given and the provider has not been reached by then, cuts its connections and throws
 * `onFailure(NotReached)`. A provider reached in time is waited for as long as its own timeout allows.
 * `onFailure` maps what the send throws, knowing whether it had reached the provider.
 */
export async function withinReach<T>(
  send: () => Promise<T>,
  reachWithinMs: number | undefined,
  onFailure: (err: unknown, reached: boolean) => Error,
): Promise<T> {
  const reach: Reach = { reached: false, connections: new Set() };
  const sending = current.run(reach, send);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    if (reachWithinMs !== undefined) timer = setTimeout(() => resolve('late'), reachWithinMs);
  });
  let outcome: { value: T } | 'late' | { error: unknown };
  try {
    outcome = await Promise.race([sending.then((value) => ({ value })), late]);
  } catch (error) {
    outcome = { error };
  } finally {
    clearTimeout(timer);
  }
  if (outcome === 'late') {
    if (!reach.reached) {
      sending.catch(() => undefined); // cut here: its failure is this one
      for (const connection of reach.connections) connection.destroy();
      throw onFailure(new NotReached(`not reached within ${reachWithinMs} ms`), false);
    }
    try {
      return await sending;
    } catch (error) {
      outcome = { error };
    }
  }
  if ('value' in outcome) return outcome.value;
  throw onFailure(outcome.error, reach.reached);
}
