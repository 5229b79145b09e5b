// One HTTP POST of an outbound webhook, with an overall timeout, no redirects followed (a 3xx is a
// failure, as Standard Webhooks advises), only the start of the answer read, and every address
// the connection would use checked against the SSRF policy (src/domain/endpoint-url.ts) at
// connection time: what a host name resolves to when Relais connects is what counts.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { addressProblem } from '../domain/endpoint-url';

/** How much of the receiver's answer is kept in the attempt log. */
export const RESPONSE_EXCERPT_CHARS = 300;
const READ_AT_MOST_BYTES = 4096;
const BLOCKED = 'ERELAIS_BLOCKED_ADDRESS';

export interface PostOutcome {
  statusCode: number | null;
  durationMs: number;
  /** No HTTP answer: why, in words. */
  error: string | null;
  /** The address is one Relais does not send to (not worth retrying). */
  blocked: boolean;
  response: string | null;
  retryAfter: string | null;
}

/** A resolver like dns.lookup with `all: true` (tests hand in one that answers for their own names). */
export type Resolve = (
  hostname: string,
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;
const systemResolve: Resolve = (hostname, callback) => dnsLookup(hostname, { all: true }, callback);

/** dns.lookup for the HTTP agent, refusing when any address of the name is one Relais does not send to. */
function guardedLookup(allowPrivateNetworks: boolean, resolve: Resolve): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const wanted = addresses.filter((a) => !options.family || a.family === options.family);
      const problem =
        wanted.length === 0
          ? `${hostname} has no address`
          : wanted.map((a) => addressProblem(a.address, allowPrivateNetworks)).find(Boolean);
      if (problem) return callback(Object.assign(new Error(problem), { code: BLOCKED }), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, wanted);
      return callback(null, wanted[0].address, wanted[0].family);
    });
  };
}

export function postWebhook(options: {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  allowPrivateNetworks: boolean;
  resolve?: Resolve;
}): Promise<PostOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const url = new URL(options.url);
  const failed = (error: string, blocked = false): PostOutcome => ({
    statusCode: null,
    durationMs: elapsed(),
    error,
    blocked,
    response: null,
    retryAfter: null,
  });
  const literal = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(literal)) {
    const problem = addressProblem(literal, options.allowPrivateNetworks);
    if (problem) return Promise.resolve(failed(problem, true));
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((done) => {
    let settled = false;
    const finish = (outcome: PostOutcome) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        done(outcome);
      }
    };
    const req = send(
      url,
      {
        method: 'POST',
        headers: {
          ...options.headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(options.body)),
          'user-agent': 'Relais-Webhooks/1',
        },
        lookup: guardedLookup(options.allowPrivateNetworks, options.resolve ?? systemResolve),
        agent: false,
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const answer = () => {
          const text = Buffer.concat(chunks).toString('utf8').replace(/\s+/g, ' ').trim();
          finish({
            statusCode: res.statusCode ?? null,
            durationMs: elapsed(),
            error: null,
            blocked: false,
            response: text ? text.slice(0, RESPONSE_EXCERPT_CHARS) : null,
            retryAfter: (res.headers['retry-after'] as string | undefined) ?? null,
          });
          res.destroy();
        };
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          if (size >= READ_AT_MOST_BYTES) answer();
        });
        res.on('end', answer);
        res.on('error', answer);
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish(failed(`no answer within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) =>
      finish(
        failed(err.code === BLOCKED ? err.message : `${err.code ?? 'error'}: ${err.message}`, err.code === BLOCKED),
      ),
    );
    req.end(options.body);
  });
}
