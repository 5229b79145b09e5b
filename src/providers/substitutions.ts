// Per-recipient substitutions (issue 20) for senders that build one message per recipient (SMTP):
// what SendGrid does with a personalization's `substitutions`, every occurrence replaced as written.

export function substitute(text: string, substitutions: Record<string, string> | undefined): string;
export function substitute(text: string | null, substitutions: Record<string, string> | undefined): string | null;
export function substitute(text: string | null, substitutions: Record<string, string> | undefined): string | null {
  if (text === null || !substitutions) return text;
  return Object.entries(substitutions).reduce((t, [tag, value]) => t.split(tag).join(value), text);
}
