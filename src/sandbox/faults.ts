// Injected failures: the next N API requests to a provider answer 400, 429, 500, 502 or 503, or
// answer late (`delayMs`: slow, then as the status says or as usual) (POST /sandbox/faults).
import { z } from 'zod';

export const faultSchema = z
  .object({
    provider: z.enum(['sendgrid', 'twilio', 'any']),
    status: z.union([z.literal(400), z.literal(429), z.literal(500), z.literal(502), z.literal(503)]).optional(),
    count: z.number().int().min(1).max(1_000_000),
    /** 429 only: how long the caller should wait (Retry-After; SendGrid's X-RateLimit-Reset = now + this). */
    retryAfterSeconds: z.number().int().min(0).max(86_400).default(1),
    /** Issue 20: a slow provider: the request is read, then answered this much later. */
    delayMs: z.number().int().min(1).max(120_000).optional(),
  })
  .refine((f) => f.status !== undefined || f.delayMs !== undefined, {
    message: 'a fault needs a status, a delayMs, or both',
    path: ['status'],
  });

export type FaultInput = z.input<typeof faultSchema>;
export type Fault = z.output<typeof faultSchema>;

/** Waits out a slow fault's delay (nothing when it has none). */
export const answerLate = (fault: Fault | undefined) =>
  fault?.delayMs ? new Promise<void>((resolve) => setTimeout(resolve, fault.delayMs)) : Promise.resolve();

export class Faults {
  private faults: Fault[] = [];

  add(input: FaultInput): Fault {
    const fault = faultSchema.parse(input);
    this.faults.push(fault);
    return fault;
  }

  /** Uses up one failure for this provider's next request, if any is armed (oldest first). */
  take(provider: 'sendgrid' | 'twilio'): Fault | undefined {
    const fault = this.faults.find((f) => f.count > 0 && (f.provider === provider || f.provider === 'any'));
    if (!fault) return undefined;
    fault.count -= 1;
    this.faults = this.faults.filter((f) => f.count > 0);
    return { ...fault };
  }

  list(): Fault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  clear(): void {
    this.faults = [];
  }
}
