import type { SimSeedInput } from './seed.js';

/**
 * A large cluster for benchmarks: `nodes` nodes with a mix of sizes, local-lvm + ceph, three templates on the
 * first node and `vms` ordinary VMs spread round-robin (about a third running).
 */
export function bigSeed({ nodes, vms }: { nodes: number; vms: number }): SimSeedInput {
  const names = Array.from({ length: nodes }, (_, i) => `pve${i + 1}`);
  const sizes = [
    { cores: 32, memoryGiB: 256 },
    { cores: 24, memoryGiB: 192 },
    { cores: 16, memoryGiB: 128 },
  ];
  const seed: SimSeedInput = {
    clusterName: 'big',
    nodes: names.map((name, i) => ({ name, ...sizes[i % sizes.length]!, load: 0.05 + (i % 5) * 0.02 })),
    storages: [
      { id: 'local-lvm', type: 'lvmthin', shared: false, capacityGiB: 4000 },
      { id: 'ceph', type: 'rbd', shared: true, capacityGiB: 100_000 },
    ],
    vms: [
      { vmid: 9000, name: 'debian-12-tpl', node: names[0]!, template: true, storage: 'ceph', diskGiB: 8, nets: [{ bridge: 'vmbr0' }] },
      { vmid: 9001, name: 'ecorouter-tpl', node: names[0]!, template: true, storage: 'ceph', diskGiB: 4, cores: 2, nets: [{ bridge: 'vmbr0' }] },
      { vmid: 9002, name: 'alt-server-tpl', node: names[0]!, template: true, storage: 'ceph', diskGiB: 16, cores: 2, nets: [{ bridge: 'vmbr0' }] },
    ],
    pools: [{ poolid: 'prod' }],
    network: [
      { node: '*', iface: 'eno1', type: 'eth' },
      { node: '*', iface: 'vmbr0', type: 'bridge', bridge_ports: 'eno1', autostart: true },
    ],
  };
  for (let i = 0; i < vms; i++) {
    const vmid = 1000 + i;
    seed.vms!.push({
      vmid,
      name: `vm-${vmid}`,
      node: names[i % nodes]!,
      status: i % 3 === 0 ? 'running' : 'stopped',
      storage: i % 2 ? 'ceph' : 'local-lvm',
      diskGiB: 8,
      cores: 1 + (i % 4),
      memory: 1024 * (1 + (i % 4)),
      nets: [{ bridge: 'vmbr0' }],
      ...(i % 10 === 0 ? { pool: 'prod' } : {}),
      tags: i % 7 === 0 ? ['lab'] : [],
    });
  }
  return seed;
}
