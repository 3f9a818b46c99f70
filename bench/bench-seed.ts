import { DEFAULT_SEED, type SimSeedInput } from '../src/sim/index.js';

/**
 * The default seed without alice's pending bridge on pve3: bridges mode (rightly) leaves such a node out, and
 * benchmarks 1–3 are about three unequal nodes. Everything else (nodes, storages, templates, other VMs) is the
 * default seed.
 */
export const BENCH_SEED: SimSeedInput = {
  ...DEFAULT_SEED,
  network: (DEFAULT_SEED.network ?? []).filter((n) => !('pending' in n && n.pending)),
};

/**
 * BENCH_SEED with every template on the shared ceph storage: linked clones can then target any node directly,
 * so no per-node template replica is needed. Separates the cost of replicas from the rest of the deploy.
 */
export const BENCH_SEED_SHARED_TEMPLATES: SimSeedInput = {
  ...BENCH_SEED,
  vms: (BENCH_SEED.vms ?? []).map((vm) => (vm.template ? { ...vm, storage: 'ceph' } : vm)),
};

/**
 * Issue 14's cold class runs on the default seed itself: templates 9000/9001 on pve1's local storage (replicas
 * needed on any other node), 9002 on ceph, and pve3 left out because of alice's pending bridge.
 */
export const COLD_SEED: SimSeedInput = DEFAULT_SEED;
