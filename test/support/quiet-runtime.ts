// Temporal's worker logs state changes at INFO; tests keep WARN and above.
import { DefaultLogger, Runtime } from '@temporalio/worker';

try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed in this jest worker process by an earlier test file
}
