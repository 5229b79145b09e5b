// Where test/cluster/global-setup.ts started the run's real Temporal cluster.
export function clusterTarget(): { address: string; namespace: string } {
  const value = process.env.RELAIS_TEST_CLUSTER;
  if (!value) throw new Error('RELAIS_TEST_CLUSTER is unset: test/cluster/ files run in the jest project `cluster`');
  return JSON.parse(value);
}
