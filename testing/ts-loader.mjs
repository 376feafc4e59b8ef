// Runs the harness's TypeScript CLIs (cluster up/down, image build, deploy) on Node 20, which cannot strip
// types itself: `node --import ./testing/ts-loader.mjs e2e/cluster/cli.ts up`. It transpiles .ts with
// @swc/core (already a dev dependency for jest), so the harness needs no build step and no new package.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
