/**
 * The engine's public API, for the CLI and the bot (nothing here imports discord.js). Plan side: planDeploy and the
 * plan types; run side: deploy/resume, cleanup, power, status, leases, recover, passwords, template replicas.
 */
export { createContext, defaultStatePath, type AppContext, type CreateContextOptions } from './context.js';
export { planDeploy, type PlanDeployInput } from './plan.js';
export { renderPlan, planTableData, type PlanTableData } from './plan-table.js';
export * from './types.js';
export {
  runDeploy,
  resume,
  consoleBaseFor,
  GROUP_LOCK_TTL_MS,
  StandFailure,
  type DeployOptions,
  type DeployResult,
  type DeployStandResult,
  type DeployVmResult,
  type DeployCounts,
} from './deploy.js';
export {
  planCleanup,
  runCleanup,
  describeCleanupPlan,
  type CleanupPlan,
  type CleanupStand,
  type CleanupResult,
  type CleanupOptions,
  type CleanupKept,
} from './cleanup.js';
export { resetStands, startStands, stopStands, type PowerAction, type PowerResult, type PowerOptions, type PowerTarget } from './power.js';
export {
  getStatus,
  listGroups,
  type StatusReport,
  type StatusQuery,
  type NodeReport,
  type StandReport,
  type GroupReport,
  type GroupListEntry,
} from './status.js';
export { rrdCacheFor, stopRrdCaches, RrdCache, type NodeRrd, type RrdSample } from './rrd-cache.js';
export { expireLeases, expiredStands, leasesExpiringWithin, setLease, type ExpireResult, type ExpiredStand } from './leases.js';
export { recover, type RecoverReport } from './recover.js';
export { setPassword, generatePassword, consoleUrl, type StandCredential } from './credentials.js';
export { listTemplates, pruneTemplates, type PruneResult } from './replicas.js';
export { JobAbortedError, DEFAULT_EXEC_LIMITS, type ExecLimits } from './executor.js';
