// mapWorkflowError (issue 19): every Temporal error the use cases meet, as the API answers it
// ({ error: { code, message, details } } with its status), told apart by class and by the refusal's
// failure type, never by its words. The errors are the SDK's own classes, built as the client
// builds them from a server's answer.
import {
  QueryNotRegisteredError,
  ServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ApiError } from '../../src/api/errors';
import { mapWorkflowError, updateRefusal, workflowGone } from '../../src/app/workflow-errors';
import {
  CONFIRMATION_EXPIRED,
  CONFIRMATION_NOT_WAITING,
  CONFIRMATION_USED,
  FINISHED,
  invalidField,
  REFUSED,
  refuseUpdate,
} from '../../src/workflows/failure-types';

const refused = (failure: Error) => new WorkflowUpdateFailedError('Workflow Update failed', failure);
const notFound = new WorkflowNotFoundError('workflow not found for ID: dispatch/t1/d-1', 'dispatch/t1/d-1', undefined);
const grpcNotFound = 5;

type Expected = { status: number; code: string; message: string | RegExp; details: unknown } | 'unchanged';
const cases: Array<[string, unknown, Expected]> = [
  [
    "no such workflow (never started, another tenant's id)",
    notFound,
    { status: 404, code: 'not_found', message: 'dispatch d-1 not found', details: null },
  ],
  [
    'a run of a version without the query',
    new QueryNotRegisteredError('no query handler for state', grpcNotFound),
    { status: 404, code: 'not_found', message: 'dispatch d-1 not found', details: null },
  ],
  // rule D8: a recipient that cannot be resent now
  [
    'a refusal of the state (REFUSED)',
    refused(refuseUpdate(REFUSED, 'recipient r1 is delivered; only a failed … can be resent')),
    {
      status: 409,
      code: 'conflict',
      message: 'recipient r1 is delivered; only a failed … can be resent',
      details: null,
    },
  ],
  [
    'a refusal with details (an order on hold, rule O4)',
    refused(refuseUpdate(REFUSED, 'cannot release: the order is placed, not on hold', { state: 'placed' })),
    {
      status: 409,
      code: 'conflict',
      message: 'cannot release: the order is placed, not on hold',
      details: { state: 'placed' },
    },
  ],
  [
    'a dispatch that finished listening (FINISHED, rule D7)',
    refused(refuseUpdate(FINISHED, 'this dispatch has finished listening; start a new dispatch')),
    { status: 409, code: 'conflict', message: /finished listening/, details: null },
  ],
  [
    'a confirmation link used (rule O3)',
    refused(refuseUpdate(CONFIRMATION_USED, 'this confirmation link was already used')),
    { status: 409, code: 'conflict', message: /already used/, details: null },
  ],
  [
    'a confirmation link expired',
    refused(refuseUpdate(CONFIRMATION_EXPIRED, 'this confirmation link has expired')),
    { status: 409, code: 'conflict', message: /expired/, details: null },
  ],
  [
    'no confirmation awaited',
    refused(refuseUpdate(CONFIRMATION_NOT_WAITING, 'this order is not waiting for an address confirmation')),
    { status: 409, code: 'conflict', message: /not waiting/, details: null },
  ],
  [
    'a field refused (INVALID_FIELD): 422 naming it',
    refused(invalidField('phone', 'must be an E.164 phone number such as +33612345678 (got 0612)', '0612')),
    {
      status: 422,
      code: 'invalid_request',
      message: 'phone: must be an E.164 phone number such as +33612345678 (got 0612)',
      details: [
        {
          field: 'phone',
          message: 'phone: must be an E.164 phone number such as +33612345678 (got 0612)',
          value: '0612',
        },
      ],
    },
  ],
  [
    'a run of an earlier version refusing with a plain Error',
    refused(ApplicationFailure.create({ message: 'recipient r1 is being resent already', type: 'Error' })),
    { status: 409, code: 'conflict', message: 'recipient r1 is being resent already', details: null },
  ],
  [
    "an Update the run has no handler for (the SDK's refusal)",
    refused(ApplicationFailure.nonRetryable('No registered handler for update: sellerAction')),
    { status: 409, code: 'conflict', message: /No registered handler/, details: null },
  ],
  [
    "Temporal unreachable: left to the server's error handler (503)",
    new ServiceError('Failed to start Workflow', {
      cause: Object.assign(new Error('14 UNAVAILABLE'), { code: 14, metadata: {} }),
    }),
    'unchanged',
  ],
  ['anything else', new TypeError('x is undefined'), 'unchanged'],
  ['an ApiError already', new ApiError(409, 'conflict', 'no recipient r9 in this dispatch'), 'unchanged'],
];

test.each(cases)('%s', (_name, err, expected) => {
  const mapped = mapWorkflowError(err, 'dispatch d-1');
  if (expected === 'unchanged') {
    expect(mapped).toBe(err);
    return;
  }
  expect(mapped).toBeInstanceOf(ApiError);
  const { status, code, message, details } = mapped as ApiError;
  expect({ status, code, details }).toEqual({
    status: expected.status,
    code: expected.code,
    details: expected.details,
  });
  expect(message).toMatch(expected.message);
});

test('a refusal keeps its type for the callers that switch on it (the confirmation page: used 409, expired 410)', () => {
  expect(updateRefusal(refused(refuseUpdate(CONFIRMATION_EXPIRED, 'this confirmation link has expired')))).toEqual({
    type: CONFIRMATION_EXPIRED,
    message: 'this confirmation link has expired',
    details: null,
  });
  expect(updateRefusal(refused(refuseUpdate(CONFIRMATION_USED, 'this confirmation link was already used')))?.type).toBe(
    CONFIRMATION_USED,
  );
  expect(updateRefusal(notFound)).toBeUndefined();
});

test.each([
  ['not found', notFound, true],
  [
    'closed while the Update was on its way',
    new ServiceError('Workflow Update failed', {
      cause: Object.assign(new Error('5 NOT_FOUND: workflow execution already completed'), {
        details: 'workflow execution already completed',
      }),
    }),
    true,
  ],
  ['a refused Update', refused(refuseUpdate(REFUSED, 'no')), false],
  [
    'Temporal unreachable',
    new ServiceError('Workflow Update failed', {
      cause: Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 }),
    }),
    false,
  ],
])('workflowGone: %s', (_name, err, gone) => {
  expect(workflowGone(err)).toBe(gone);
});
