// The controller logs through the one structured logger (logging/); its modules name the type here.
export type { Logger } from '../logging/index.js';
// e2e/controller/crash-child.ts imports it from here.
export { silentLogger } from '../logging/index.js';
