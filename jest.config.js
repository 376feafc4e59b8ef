// One jest run, four projects: fast host tests (unit), the qemu guest suite (guest), the
// end-to-end suite against a real cluster (e2e) and, after it, the uninstall from that cluster.
// scripts/test.sh and e2e/run.sh pick them.
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'es6' } }] },
  // TypeScript sources import siblings as './x.js' (NodeNext); jest resolves the .ts file.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testEnvironment: 'node',
  // The local cluster's containerd snapshots hold copies of the repo (a second package.json).
  modulePathIgnorePatterns: ['<rootDir>/e2e/cluster/.work/', '<rootDir>/.cache/', '<rootDir>/dist/'],
};

export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{profiler,webhook,controller,certs,agent,native,testing,bench,cli,manifests,scripts}/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.guest\\.test\\.ts$'],
    },
    {
      ...common,
      displayName: 'guest',
      testMatch: ['<rootDir>/**/*.guest.test.ts'],
      testPathIgnorePatterns: ['/node_modules/'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/e2e/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/e2e/cluster/', '/e2e/uninstall/'],
    },
    {
      // Removes the product from the local cluster: run by e2e/run.sh after the e2e project.
      ...common,
      displayName: 'uninstall',
      testMatch: ['<rootDir>/e2e/uninstall/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/'],
    },
  ],
};
