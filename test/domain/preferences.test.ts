// Rule O9 and issue 20: a page's ticked channels (no order of their own) go in the tenant's order
// for the notice; a ticked channel the tenant's order leaves out comes after, as ticked.
import { byPreference, type NoticeChannel } from '../../src/domain/preferences';

test.each<[NoticeChannel[], NoticeChannel[], NoticeChannel[]]>([
  [
    ['email', 'sms', 'whatsapp'],
    ['sms', 'email'],
    ['sms', 'email', 'whatsapp'],
  ],
  [
    ['email', 'sms'],
    ['whatsapp', 'sms', 'email'],
    ['sms', 'email'],
  ],
  [['email'], ['sms', 'email'], ['email']],
  [['whatsapp', 'email'], ['sms'], ['whatsapp', 'email']],
  [[], ['sms', 'email'], []],
])('byPreference(%p, %p) → %p', (ticked, preferred, told) => {
  expect(byPreference(ticked, preferred)).toEqual(told);
});
