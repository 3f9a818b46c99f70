import { Router } from '../router.js';
import { registerAccess } from './access.js';
import { registerCluster } from './cluster.js';
import { registerFirewall } from './firewall.js';
import { registerNetwork } from './network.js';
import { registerPools } from './pools.js';
import { registerQemu } from './qemu.js';
import { registerTasks } from './tasks.js';

/** Every simulated endpoint; each must also be in schema-subset.json (test/sim/schema-contract.test.ts). */
export function createRouter(): Router {
  const router = new Router();
  registerCluster(router);
  registerAccess(router);
  registerPools(router);
  registerQemu(router);
  registerNetwork(router);
  registerTasks(router);
  registerFirewall(router);
  return router;
}
