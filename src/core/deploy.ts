/** The deploy engine lives in deploy/ (one file per stage around a shared run); this keeps `core/deploy.js` imports working. */
export * from './deploy/index.js';
