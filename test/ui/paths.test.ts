// Where sign-in may send a browser back to (rule L4's pages; issue 16 item 1): an operator page
// of this site, never another site (no open redirect), never outside /ui/.
import { dispatchPagePath, orderPagePath, pageUrl, returnPath } from '../../src/ui/paths';

test.each<[unknown, string | null]>([
  ['/ui/dispatches/po-1042', '/ui/dispatches/po-1042'],
  ['/ui/orders/CMD%2F7?done=released', '/ui/orders/CMD%2F7?done=released'],
  ['/ui/log?show=all&recipient=a%40b.test', '/ui/log?show=all&recipient=a%40b.test'],
  ['/ui/', '/ui/'],
  ['/ui/dispatches/x#recipient-r2', '/ui/dispatches/x'], // the fragment is the browser's, not ours
  // Normalised before the check, and the normalised path is what is returned.
  ['/ui/../v1/dispatches/x', null],
  ['/ui/%2e%2e/v1/orders/x', null],
  ['/ui/./log', '/ui/log'],
  // Other sites, however written.
  ['https://evil.example/ui/log', null],
  ['//evil.example/ui/log', null],
  ['/\\evil.example/ui/log', null],
  ['\\\\evil.example/ui/log', null],
  ['/\t/evil.example/ui/', null],
  ['javascript:alert(1)', null],
  ['http:/ui/log', null],
  // Outside the operator pages, sign-in itself, and what is not a path at all.
  ['/v1/dispatches/x', null],
  ['/uix/log', null],
  ['/ui', null],
  ['/ui/sign-in?next=/ui/log', null],
  ['/ui/sign-out', null],
  ['', null],
  [undefined, null],
  [['/ui/log'], null],
])('next=%j → %j', (next, expected) => {
  expect(returnPath(next)).toBe(expected);
});

test("a path longer than any page's is refused", () => {
  expect(returnPath(`/ui/log?recipient=${'a'.repeat(2048)}`)).toBeNull();
});

test('page paths encode the id, and stay within /ui/ whatever it holds', () => {
  for (const id of ['po-1', 'a/../../v1/x', '?next=//evil', '#frag', 'é ü']) {
    expect(returnPath(dispatchPagePath(id))).toBe(dispatchPagePath(id));
    expect(returnPath(orderPagePath(id))).toBe(orderPagePath(id));
  }
  expect(dispatchPagePath('a/b?c')).toBe('/ui/dispatches/a%2Fb%3Fc');
  expect(pageUrl('https://relais.example.com/', orderPagePath('CMD 1'))).toBe(
    'https://relais.example.com/ui/orders/CMD%201',
  );
});
