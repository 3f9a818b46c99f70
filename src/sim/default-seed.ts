import type { SimSeedInput } from './seed.js';

/**
 * The default cluster (team brief): 3 unequal nodes, local-lvm (node-local) and ceph (shared), three templates,
 * and objects that belong to someone else and must never be touched by the deployer: VMs 100–102, pool `prod`,
 * user `alice@pve`, and on pve3 a pending (not applied) bridge vmbr99 that alice is preparing.
 */
export const DEFAULT_SEED: SimSeedInput = {
  clusterName: 'sim',
  version: '9.1.2',
  nodes: [
    { name: 'pve1', cores: 16, memoryGiB: 64, diskGiB: 100, load: 0.08 },
    { name: 'pve2', cores: 12, memoryGiB: 48, diskGiB: 100, load: 0.1 },
    { name: 'pve3', cores: 8, memoryGiB: 32, diskGiB: 100, load: 0.05 },
  ],
  storages: [
    { id: 'local-lvm', type: 'lvmthin', shared: false, capacityGiB: { pve1: 1000, pve2: 1000, pve3: 500 } },
    { id: 'ceph', type: 'rbd', shared: true, capacityGiB: 4000 },
  ],
  vms: [
    {
      vmid: 9000, name: 'debian-12-tpl', node: 'pve1', template: true, storage: 'local-lvm', diskGiB: 8,
      cores: 1, memory: 1024, nets: [{ bridge: 'vmbr0', model: 'virtio', mac: 'BC:24:11:5A:90:00' }],
    },
    {
      vmid: 9001, name: 'ecorouter-tpl', node: 'pve1', template: true, storage: 'local-lvm', diskGiB: 4,
      cores: 2, memory: 2048, nets: [{ bridge: 'vmbr0', model: 'virtio', mac: 'BC:24:11:5A:90:01' }],
    },
    {
      vmid: 9002, name: 'alt-server-tpl', node: 'pve2', template: true, storage: 'ceph', diskGiB: 16,
      cores: 2, memory: 2048, nets: [{ bridge: 'vmbr0', model: 'virtio', mac: 'BC:24:11:5A:90:02' }],
    },
    {
      vmid: 100, name: 'web-prod', node: 'pve1', status: 'running', storage: 'local-lvm', diskGiB: 32,
      cores: 2, memory: 4096, pool: 'prod', nets: [{ bridge: 'vmbr0', mac: 'BC:24:11:00:01:00' }],
    },
    {
      vmid: 101, name: 'db-prod', node: 'pve2', status: 'running', storage: 'ceph', diskGiB: 64,
      cores: 4, memory: 8192, pool: 'prod', nets: [{ bridge: 'vmbr0', mac: 'BC:24:11:00:01:01' }],
    },
    {
      vmid: 102, name: 'backup', node: 'pve3', status: 'stopped', storage: 'local-lvm', diskGiB: 100,
      cores: 2, memory: 2048, nets: [{ bridge: 'vmbr0', mac: 'BC:24:11:00:01:02' }],
    },
  ],
  pools: [{ poolid: 'prod', comment: 'production (ops team)' }],
  users: [{ userid: 'alice@pve', password: 'alice-secret', comment: 'Alice (ops)', email: 'alice@example.org' }],
  network: [
    { node: '*', iface: 'eno1', type: 'eth', autostart: true },
    // each node's management address on vmbr0 (the `ip` /cluster/status reports for it)
    { node: 'pve1', iface: 'vmbr0', type: 'bridge', bridge_ports: 'eno1', autostart: true, cidr: '10.0.0.11/24', gateway: '10.0.0.1' },
    { node: 'pve2', iface: 'vmbr0', type: 'bridge', bridge_ports: 'eno1', autostart: true, cidr: '10.0.0.12/24', gateway: '10.0.0.1' },
    { node: 'pve3', iface: 'vmbr0', type: 'bridge', bridge_ports: 'eno1', autostart: true, cidr: '10.0.0.13/24', gateway: '10.0.0.1' },
    { node: 'pve3', iface: 'vmbr99', type: 'bridge', autostart: true, comments: 'lab uplink (alice)', pending: true },
  ],
};
