// GET /v1/dispatches/:id/proof.json and …/proof.pdf — the proof of sending of one dispatch
// (src/proof/pack.ts), for whoever may read the log (L4). The operator page of a dispatch links
// the same two files (/ui/dispatches/:id/proof.pdf, …/proof.json).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ApiDeps } from '../deps';
import type { ZodRequestTypes } from '../openapi';
import { apiErrors, authenticated, requireRole } from '../auth';
import { sendProofJson, sendProofPdf } from '../downloads';
import { readProof } from '../../app/proof';
import { PROOF_FORMAT } from '../../proof/pack';

const params = z.object({ id: z.string().min(1).describe('the dispatchId given on creation') });
const time = z.object({
  utc: z.string(),
  local: z.string().describe("ISO 8601 with the offset of the tenant's zone then"),
});
const packSchema = z
  .object({
    format: z.literal(PROOF_FORMAT),
    generatedAt: time,
    tenant: z.object({ id: z.string(), name: z.string(), timeZone: z.string() }).loose(),
    dispatch: z.object({ dispatchId: z.string(), number: z.number(), result: z.string() }).loose(),
    content: z
      .object({
        algorithm: z.literal('SHA-256'),
        messageSha256: z.string(),
        attachments: z.array(z.object({ filename: z.string(), sha256: z.string() }).loose()),
      })
      .loose(),
    recipients: z.array(
      z
        .object({
          address: z.string(),
          status: z.string(),
          events: z.array(z.object({ at: time, event: z.string(), eventId: z.string().nullable() }).loose()),
        })
        .loose(),
    ),
    senderCopy: z
      .object({
        mode: z.string(),
        address: z.string(),
        status: z.string().nullable(),
        events: z.array(z.object({ at: time, event: z.string(), eventId: z.string().nullable() }).loose()),
      })
      .loose()
      .nullable()
      .describe("issue 17: the sender's copy (cc/bcc) and its events as received; null without one"),
    actions: z.array(
      z
        .object({
          action: z.enum(['resent', 'resent_via', 'marked_sent']),
          at: time,
          by: z.object({ keyId: z.string(), person: z.string().nullable() }).loose(),
        })
        .loose(),
    ),
  })
  .loose();

export async function proofRoutes(scope: FastifyInstance, deps: ApiDeps) {
  const app = scope.withTypeProvider<ZodRequestTypes>();
  const canRead = requireRole(deps, 'log:read');
  const tags = ['dispatches'];

  app.get(
    '/v1/dispatches/:id/proof.json',
    {
      onRequest: canRead,
      schema: {
        tags,
        ...authenticated,
        params,
        summary:
          "Proof of sending (JSON): the dispatch, SHA-256 of what was sent, each recipient's events as received, who resent or marked it sent",
        response: {
          200: packSchema.describe('the proof pack (docs/operators.md, "Proof of sending")'),
          ...apiErrors(404),
        },
      },
    },
    async (request, reply) =>
      sendProofJson(
        reply,
        await readProof(deps, request.principal!.tenantId!, request.params.id, request.principal!.keyId),
      ),
  );

  app.get(
    '/v1/dispatches/:id/proof.pdf',
    {
      onRequest: canRead,
      schema: {
        tags,
        ...authenticated,
        params,
        summary: "Proof of sending (PDF, the tenant's language): the same pack, printable, to hand to a customer",
        response: {
          200: {
            description: 'the proof pack as a PDF',
            content: { 'application/pdf': { schema: z.string().meta({ contentMediaType: 'application/pdf' }) } },
          },
          ...apiErrors(404),
        },
      },
    },
    async (request, reply) =>
      sendProofPdf(
        reply,
        await readProof(deps, request.principal!.tenantId!, request.params.id, request.principal!.keyId),
      ),
  );
}
