// Where outbound webhooks may go (docs/webhooks.md, "Where Relais will not send"): the URL's shape
// at registration, and each address a host resolves to at connection.
import { addressProblem, endpointUrlProblem } from '../../src/domain/endpoint-url';

test.each([
  // address, allowed by default, allowed with WEBHOOK_ALLOW_PRIVATE_NETWORKS
  ['93.184.215.14', true, true],
  ['2606:4700::6810:85e5', true, true],
  ['127.0.0.1', false, true],
  ['127.255.0.9', false, true],
  ['10.1.2.3', false, true],
  ['172.16.0.1', false, true],
  ['172.31.255.255', false, true],
  ['172.32.0.1', true, true],
  ['192.168.1.10', false, true],
  ['100.64.0.1', false, true],
  ['169.254.169.254', false, false], // cloud metadata: never
  ['0.0.0.0', false, false],
  ['224.0.0.1', false, false],
  ['255.255.255.255', false, false],
  ['198.18.0.1', false, false],
  ['192.0.2.1', false, false],
  ['::1', false, true],
  ['::', false, false],
  ['fd00::1', false, true],
  ['fe80::1', false, false],
  ['ff02::1', false, false],
  ['::ffff:127.0.0.1', false, true], // IPv4-mapped: judged as the IPv4 address it carries
  ['::ffff:a9fe:a9fe', false, false], // ::ffff:169.254.169.254
  ['::ffff:93.184.215.14', true, true],
  ['64:ff9b::a9fe:a9fe', false, false], // NAT64 of the metadata address
  ['2002:7f00:1::1', false, true], // 6to4 of 127.0.0.1
  ['2001:db8::1', false, false],
])('%s: allowed %s by default, %s with private networks allowed', (address, byDefault, withPrivate) => {
  expect({ address, allowed: addressProblem(address, false) === null }).toEqual({ address, allowed: byDefault });
  expect({ address, allowed: addressProblem(address, true) === null }).toEqual({ address, allowed: withPrivate });
});

test.each([
  ['https://hooks.example.com/relais', null],
  ['http://hooks.example.com:8080/in?x=1', null],
  ['ftp://hooks.example.com/', /http or https/],
  ['javascript:alert(1)', /http or https/],
  ['hooks.example.com/relais', /absolute URL/],
  ['https://user:pass@hooks.example.com/', /user name or password/],
  ['https://hooks.example.com/#frag', /fragment/],
  ['http://127.0.0.1:9000/', /loopback/],
  ['http://2130706433/', /loopback/], // 127.0.0.1 written as a number: the URL parser reads it as the address
  ['http://0x7f.1/', /loopback/],
  ['http://[::1]/', /loopback/],
  ['http://[::ffff:169.254.169.254]/latest', /link-local/],
  ['http://169.254.169.254/latest/meta-data', /link-local/],
  ['http://localhost:3000/', /loopback name/],
  ['http://api.localhost./', /loopback name/],
  ['http://10.0.0.5/hook', /private/],
  [`https://example.com/${'a'.repeat(2048)}`, /at most 2048/],
])('%s → %s', (url, problem) => {
  const found = endpointUrlProblem(url, false);
  if (problem === null) expect(found).toBeNull();
  else expect(found).toMatch(problem);
});

test('with private networks allowed, loopback URLs pass and the metadata service still does not', () => {
  expect(endpointUrlProblem('http://127.0.0.1:9000/', true)).toBeNull();
  expect(endpointUrlProblem('http://localhost:9000/', true)).toBeNull();
  expect(endpointUrlProblem('http://169.254.169.254/', true)).toMatch(/link-local/);
});
