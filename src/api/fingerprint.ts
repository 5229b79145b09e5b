// What a create request said, field by field, as short hashes (issue 14, finding 11): kept with
// what it created, so that a retry with the same body is recognised (200) and another body under
// the same id is refused naming the fields that differ (409), never silently dropped.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonical-json';

export type Fingerprint = Record<string, string>;

/** One hash per top-level field (key order and spelling aside: canonical JSON), the id field left out. */
export function fingerprint(body: Record<string, unknown>, idField: string): Fingerprint {
  return Object.fromEntries(
    Object.entries(body)
      .filter(([k]) => k !== idField)
      .map(([k, v]) => [
        k,
        createHash('sha256')
          .update(canonicalJson(v ?? null))
          .digest('base64url')
          .slice(0, 22),
      ]),
  );
}

/** The fields whose hashes differ (or that only one of the two has). */
export function differingFields(stored: Fingerprint, sent: Fingerprint): string[] {
  return [...new Set([...Object.keys(stored), ...Object.keys(sent)])].filter((k) => stored[k] !== sent[k]).sort();
}
