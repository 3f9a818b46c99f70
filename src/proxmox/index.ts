export { ProxmoxClient, type ProxmoxClientOptions, type ClientStats } from './client.js';
export { DEFAULT_CHECK_SCOPE, DEPLOYER_ROLES, deployerGrants, deployerSetupCommands, probeFingerprint, runConnectionCheck, type CheckScope, type ConnectionCheck, type CheckVerdict, type DeployerGrant } from './check.js';
export * from './errors.js';
export * from './types.js';
export { parseUpid, isTaskOk } from './tasks.js';
export { MIN_PVE_VERSION, parsePveVersion, isSupportedVersion } from './version.js';
export { normalizeFingerprint, encodeParams } from './http.js';
export { FirewallApi, isDigestConflict, type FwRule, type FwRuleInput, type FwRuleTarget, type FwScope } from './firewall.js';
