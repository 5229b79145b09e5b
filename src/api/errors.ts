// Every error the API returns has one shape: { error: { code, message, details } }.
import type { FastifyReply } from 'fastify';
import mongoose from 'mongoose';
import { z } from 'zod';
import { policyProblems, type AcknowledgementPolicies, type Policies } from '../domain/durations';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, field: string, value?: unknown) =>
  new ApiError(400, 'invalid_request', message, [{ field, message, value: value ?? null }]);

/**
 * 422: the body matches the schema but is refused by a rule the schema can't express: it names
 * something this tenant or template doesn't have (an outlet, a template, a template variable),
 * or repeats a recipient. Kept apart from 400 so that a 400 always means "not
 * what the contract (/openapi.json) says": the fuzzer treats any 400 on schema-valid data as a bug.
 */
export const unprocessable = (message: string, field: string, value?: unknown) =>
  new ApiError(422, 'invalid_request', message, [{ field, message, value: value ?? null }]);

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);

/** 422 naming each policy below its minimum (domain/durations.ts): valid durations, but too short to work. */
type PolicySettings = Partial<Policies> & AcknowledgementPolicies;

export function refusePolicyProblems(sent: PolicySettings | undefined, current: PolicySettings = {}): void {
  const problems = policyProblems(sent ?? {}, current);
  if (problems.length) throw new ApiError(422, 'invalid_request', problems[0].message, problems);
}

/** zod issues → 400 naming each field (with the offending value when it is short enough to echo). */
export function fromZod(error: z.ZodError, input: unknown): ApiError {
  // An unknown key is named itself (the issue is on the object holding it).
  const issues = error.issues.flatMap((issue): Array<Pick<z.core.$ZodIssue, 'code' | 'path' | 'message'>> =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ code: issue.code, path: [...issue.path, key], message: 'unknown field' }))
      : [issue],
  );
  const details = issues.slice(0, 20).map((issue) => {
    const field = issue.path.join('.') || '(body)';
    const value = issue.path.reduce<unknown>(
      (node, key) =>
        node && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key as PropertyKey] : undefined,
      input,
    );
    // A list too long or too short is shown by its length (the count is what the caller must fix).
    const counted = Array.isArray(value) && (issue.code === 'too_big' || issue.code === 'too_small');
    const shown =
      typeof value === 'string'
        ? value.slice(0, 200)
        : typeof value === 'number' || typeof value === 'boolean'
          ? value
          : counted
            ? value.length
            : null;
    return { field, message: issue.message, value: shown };
  });
  const first = details[0];
  const message =
    first.value !== null && first.value !== undefined
      ? `${first.field}: ${first.message} (got ${JSON.stringify(first.value)})`
      : `${first.field}: ${first.message}`;
  return new ApiError(400, 'invalid_request', message, details);
}

/**
 * The path of the first string holding a NUL character (U+0000), if any. MongoDB stores one, but
 * PostgreSQL (under FerretDB, the embedded store) cannot, so it is refused at the edge everywhere.
 */
export function nulCharacterAt(value: unknown, path: Array<string | number> = []): Array<string | number> | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (!value || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\u0000')) return [...path, key];
    const found = nulCharacterAt(item, [...path, Array.isArray(value) ? Number(key) : key]);
    if (found) return found;
  }
  return undefined;
}

export const NUL_MESSAGE = 'must not contain a NUL character (U+0000)';

/**
 * Reached only for free-form values (a dispatch's `data`): every string the contract describes
 * refuses a NUL by its own pattern (400). In free-form JSON the contract allows it, the store
 * cannot hold it: a 422, like every rule the schema cannot express.
 */
export function nulError(path: Array<string | number>): ApiError {
  const field = path.join('.') || '(body)';
  return unprocessable(`${field}: ${NUL_MESSAGE}`, field);
}

export function parse<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (!result.success) throw fromZod(result.error, input);
  const nul = nulCharacterAt(result.data);
  if (nul) throw nulError(nul);
  return result.data;
}

export function sendError(reply: FastifyReply, error: ApiError) {
  return reply
    .status(error.status)
    .send({ error: { code: error.code, message: error.message, details: error.details } });
}

const {
  MongoNetworkError,
  MongoServerSelectionError,
  MongoNotConnectedError,
  MongoTopologyClosedError,
  MongoServerClosedError,
  MongoServerError,
} = mongoose.mongo;
/**
 * Server answers that mean "not now" (shutting down, stepping down, a host unreachable behind
 * it): the codes the MongoDB driver itself treats as retryable.
 */
const MONGO_TRANSIENT_CODES = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);
const SOCKET_CODES = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT']);
/** gRPC UNAVAILABLE and DEADLINE_EXCEEDED: the Temporal frontend did not answer. */
const GRPC_DOWN = new Set([14, 4]);

/** By class, not by name: subclasses count (a pool cleared after a network error is a MongoNetworkError named otherwise). */
const mongoDown = (e: unknown): boolean =>
  e instanceof MongoNetworkError ||
  e instanceof MongoServerSelectionError ||
  e instanceof MongoNotConnectedError ||
  e instanceof MongoTopologyClosedError ||
  e instanceof MongoServerClosedError ||
  (e instanceof MongoServerError && typeof e.code === 'number' && MONGO_TRANSIENT_CODES.has(e.code)) ||
  // FerretDB stopping: the requests it was serving are cancelled (InternalError, "… context canceled")
  (e instanceof MongoServerError && e.code === 1 && /context canceled/.test(e.message)) ||
  // a socket the server closed, raised by the driver before it could wrap it (EPIPE on write)
  (e instanceof Error &&
    SOCKET_CODES.has((e as { code?: unknown }).code as string) &&
    /node_modules[\\/]mongodb[\\/]/.test(e.stack ?? '')) ||
  // mongoose's own: no server to select, or an operation buffered while disconnected for too long
  (e instanceof Error &&
    (e.name === 'MongooseServerSelectionError' ||
      (e.name === 'MongooseError' && /buffering timed out/.test(e.message))));

/**
 * Which dependency an error says is unreachable — MongoDB (no connection, a connection lost, the
 * server shutting down) or Temporal (gRPC unavailable / deadline) — or undefined for any other
 * error. Walks the `cause` chain: the SDKs wrap these.
 */
export function unavailableDependency(error: unknown): 'mongodb' | 'temporal' | undefined {
  // `cause`, or for a bulk write (insertMany) the driver error it carries in `errorResponse`
  for (
    let e = error as { code?: unknown; metadata?: unknown; cause?: unknown; errorResponse?: unknown } | undefined,
      depth = 0;
    e && depth < 5;
    e = (e.cause ?? (e.errorResponse instanceof Error ? e.errorResponse : undefined)) as typeof e, depth += 1
  ) {
    if (mongoDown(e)) return 'mongodb';
    if (typeof e.code === 'number' && GRPC_DOWN.has(e.code) && e.metadata !== undefined) return 'temporal';
  }
  return undefined;
}

/** 503 for a dependency that is down: the caller retries later (dispatch and order creation are idempotent on their ids). */
export const unavailable = (dependency: 'mongodb' | 'temporal') =>
  new ApiError(
    503,
    'unavailable',
    `${dependency === 'mongodb' ? 'the database' : 'the workflow service'} is unreachable; the request may not have been applied: retry it later`,
    { dependency },
  );
