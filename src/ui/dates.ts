// Days as the operator pages' date fields send them (YYYY-MM-DD): refused by name when they are not real days.
import { ApiError } from '../api/errors';
import { isCalendarDay } from '../domain/days';

/** A 400 naming the first of `from`/`to` that is not a real day, by its label in the tenant's words. */
export function checkDays(
  f: { from?: string; to?: string },
  labels: { from: string; to: string },
  invalid: string,
): void {
  for (const field of ['from', 'to'] as const) {
    const value = f[field];
    if (value && !isCalendarDay(value)) {
      const message = `${labels[field]}: "${value}" ${invalid}`;
      throw new ApiError(400, 'invalid_request', message, [{ field, message, value }]);
    }
  }
}
