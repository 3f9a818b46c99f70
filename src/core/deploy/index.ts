/** The deploy engine's public API (see run.ts for the orchestration and the stage modules beside it). */
export { runDeploy, resume } from './run.js';
export {
  GROUP_LOCK_TTL_MS,
  StandFailure,
  consoleBaseFor,
  type DeployOptions,
  type DeployResult,
  type DeployStandResult,
  type DeployVmResult,
  type DeployCounts,
} from './context.js';
export { ROLLBACK_ROLE_EXTRA_PRIVS } from './access.js';
export { deployStepCounts, standStepKinds } from './steps.js';
