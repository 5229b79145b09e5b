// Signed links (D8 documents, O3 confirmations): any change to the token is refused.
import { signLink, verifyLink } from '../../src/links';

const SECRET = 'x'.repeat(40);
const claims = { kind: 'confirm', tenantId: 't1', target: 'o1:n1', exp: Date.parse('2026-11-24T10:00:00Z') };
const NOW = Date.parse('2026-11-22T10:00:00Z');

test('a signed link verifies until it expires', () => {
  const token = signLink(SECRET, claims);
  expect(verifyLink(SECRET, token, 'confirm', NOW)).toEqual({ ok: true, claims });
  expect(verifyLink(SECRET, token, 'confirm', claims.exp)).toEqual({ ok: false, reason: 'expired' });
});

test('every one-character change of the token, another kind or another secret is refused', () => {
  const token = signLink(SECRET, claims);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (let i = 0; i < token.length; i += 1) {
    if (token[i] === '.') continue;
    const other = alphabet[(alphabet.indexOf(token[i]) + 1) % alphabet.length];
    expect(verifyLink(SECRET, token.slice(0, i) + other + token.slice(i + 1), 'confirm', NOW).ok).toBe(false);
  }
  expect(verifyLink(SECRET, token, 'document', NOW)).toEqual({ ok: false, reason: 'forged' });
  expect(verifyLink('y'.repeat(40), token, 'confirm', NOW)).toEqual({ ok: false, reason: 'forged' });
  expect(verifyLink(SECRET, 'garbage', 'confirm', NOW)).toEqual({ ok: false, reason: 'malformed' });
});
