// `node --import ./native/guest/ts-register.mjs script.ts`: run a TypeScript host script.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
