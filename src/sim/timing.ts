/**
 * The timing model (simulated milliseconds; real time = sim time × timeScale). It is the simulator's, not the
 * deployer's, and is not tuned to flatter it (issue 7). Sources: BEHAVIOUR.md §2.3 (3 pvedaemon workers),
 * §2.6 (1 s clone flocks, 10 s storage lock), §2.13 (pvestatd every 10 s), AccessControl.pm (2 h tickets).
 */
export interface TimingModel {
  /** linked clone total, and the part of it under the per-storage allocation lock */
  linkedCloneMs: number;
  linkedCloneLockMs: number;
  /** full clone per GiB of disk, and the part of it under the storage lock */
  fullCloneMsPerGiB: number;
  fullCloneLockMsPerGiB: number;
  /** a clone with `target`: after the config is unlocked, deactivating volumes and renaming it to the target node */
  cloneMoveMs: number;
  startMs: number;
  stopMs: number;
  shutdownMs: number;
  rebootMs: number;
  /** VM config writes (sync PUT, async POST) and snapshot create/rollback/delete: uniform in [min, max] */
  configWriteMinMs: number;
  configWriteMaxMs: number;
  snapshotMinMs: number;
  snapshotMaxMs: number;
  destroyMs: number;
  templateMs: number;
  /** offline migration: per GiB of local disk; VMs on shared storage only move their config */
  migrateMsPerGiB: number;
  migrateSharedMs: number;
  /** user.cfg writes (users, pools, ACL, roles) and /etc/network/interfaces.new writes (sync) */
  clusterWriteMs: number;
  networkReloadMs: number;
  sdnApplyMs: number;
  /** pvedaemon workers per node: requests in work at once, the rest queue */
  workersPerNode: number;
  storageLockTimeoutMs: number;
  configLockTimeoutMs: number;
  cloneFlockTimeoutMs: number;
  pvestatdIntervalMs: number;
  ticketLifetimeMs: number;
  /** right after a task is forked its status may still answer 400 "no such task" */
  noSuchTaskWindowMs: number;
}

export const DEFAULT_TIMING: TimingModel = {
  linkedCloneMs: 2000,
  linkedCloneLockMs: 300,
  fullCloneMsPerGiB: 1000,
  fullCloneLockMsPerGiB: 500,
  cloneMoveMs: 100,
  startMs: 3000,
  stopMs: 1000,
  shutdownMs: 2000,
  rebootMs: 4000,
  configWriteMinMs: 200,
  configWriteMaxMs: 1000,
  snapshotMinMs: 200,
  snapshotMaxMs: 1000,
  destroyMs: 1000,
  templateMs: 1000,
  migrateMsPerGiB: 1000,
  migrateSharedMs: 1000,
  clusterWriteMs: 50,
  networkReloadMs: 1000,
  sdnApplyMs: 500,
  workersPerNode: 3,
  storageLockTimeoutMs: 10_000,
  configLockTimeoutMs: 10_000,
  cloneFlockTimeoutMs: 1000,
  pvestatdIntervalMs: 10_000,
  ticketLifetimeMs: 7_200_000,
  noSuchTaskWindowMs: 100,
};
