// CSV exports (issue 21): the delivery log (GET /v1/dispatches.csv, the log's filters) and the
// orders (GET /v1/orders.csv), streamed from a MongoDB cursor as they are read: no size cap, the
// first rows leave before the last are read. The operator pages serve the same files
// (/ui/log.csv, /ui/orders.csv) with the page's filters. Whoever may read the log may export it.
//
// Cells are written by csv-stringify with `escape_formulas`: a value starting with = + - @, a tab
// or a carriage return (or their full-width forms) gets a leading apostrophe, so a spreadsheet
// shows it as text and never runs it as a formula (CSV injection, docs/security.md).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ApiDeps } from '../deps';
import type { ZodRequestTypes } from '../openapi';
import { exportDispatchesQuery, exportOrdersQuery } from '../schemas';
import { sendCsv } from '../downloads';
import { DISPATCH_COLUMNS, dispatchRows, ORDER_COLUMNS, orderCsvRows, tenantWords } from '../../app/exports';
import { apiErrors, authenticated, requireRole } from '../auth';

/** How a CSV answer is documented in the contract. */
const csvFile = (description: string) => ({
  description,
  content: {
    'text/csv': { schema: z.string().describe('RFC 4180 CSV, UTF-8 with a byte-order mark, a header row first') },
  },
});

export async function exportRoutes(scope: FastifyInstance, deps: ApiDeps) {
  const app = scope.withTypeProvider<ZodRequestTypes>();
  const { db } = deps;

  app.get(
    '/v1/dispatches.csv',
    {
      onRequest: requireRole(deps, 'log:read'),
      schema: {
        tags: ['dispatches'],
        ...authenticated,
        summary:
          "The delivery log as CSV, with the log's filters (failed only unless result=all), streamed whole: one row per dispatch",
        querystring: exportDispatchesQuery,
        response: { 200: csvFile('the dispatches that match, one row each (columns in docs/api.md)'), ...apiErrors() },
      },
    },
    async (request, reply) => {
      const tenantId = request.principal!.tenantId!;
      const { locale, timeZone } = await tenantWords(db, tenantId);
      return sendCsv(
        reply,
        'relais-dispatches',
        DISPATCH_COLUMNS,
        dispatchRows(db, tenantId, request.query, locale, timeZone),
      );
    },
  );

  app.get(
    '/v1/orders.csv',
    {
      onRequest: requireRole(deps, 'orders:write', 'ops', 'log:read'),
      schema: {
        tags: ['orders'],
        ...authenticated,
        summary:
          'Orders as CSV (by state, open exception type, placing date), streamed whole: one row per order (per open exception with `exception`)',
        querystring: exportOrdersQuery,
        response: { 200: csvFile('the orders that match (columns in docs/api.md)'), ...apiErrors() },
      },
    },
    async (request, reply) => {
      const tenantId = request.principal!.tenantId!;
      const { locale, timeZone } = await tenantWords(db, tenantId);
      return sendCsv(
        reply,
        'relais-orders',
        ORDER_COLUMNS,
        orderCsvRows(db, tenantId, request.query, locale, timeZone),
      );
    },
  );
}
