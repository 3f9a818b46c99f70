export * from './schemas.js';
export * from './store.js';
