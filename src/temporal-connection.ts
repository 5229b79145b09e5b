// How every Relais process reaches Temporal: the same options for the dev server, a self-hosted
// cluster (TLS or mTLS with a private CA) and Temporal Cloud (mTLS or an API key).
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import type { Config } from './config';

type TemporalSettings = Pick<
  Config,
  | 'TEMPORAL_ADDRESS'
  | 'TEMPORAL_TLS'
  | 'TEMPORAL_TLS_CERT'
  | 'TEMPORAL_TLS_KEY'
  | 'TEMPORAL_TLS_CA'
  | 'TEMPORAL_TLS_SERVER_NAME'
  | 'TEMPORAL_API_KEY'
>;

/** Options for `Connection.connect` (API) and `NativeConnection.connect` (worker): both accept these. */
export function temporalConnectionOptions(config: TemporalSettings): {
  address: string;
  tls: TLSConfig | false;
  apiKey?: string;
} {
  const tlsWanted =
    config.TEMPORAL_TLS ?? Boolean(config.TEMPORAL_TLS_CERT || config.TEMPORAL_API_KEY || config.TEMPORAL_TLS_CA);
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`${what} ${path} cannot be read: ${(err as Error).message}`);
    }
  };
  return {
    address: config.TEMPORAL_ADDRESS,
    tls: tlsWanted
      ? {
          serverNameOverride: config.TEMPORAL_TLS_SERVER_NAME,
          serverRootCACertificate: config.TEMPORAL_TLS_CA ? read(config.TEMPORAL_TLS_CA, 'TEMPORAL_TLS_CA') : undefined,
          clientCertPair:
            config.TEMPORAL_TLS_CERT && config.TEMPORAL_TLS_KEY
              ? {
                  crt: read(config.TEMPORAL_TLS_CERT, 'TEMPORAL_TLS_CERT'),
                  key: read(config.TEMPORAL_TLS_KEY, 'TEMPORAL_TLS_KEY'),
                }
              : undefined,
        }
      : false,
    ...(config.TEMPORAL_API_KEY ? { apiKey: config.TEMPORAL_API_KEY } : {}),
  };
}
