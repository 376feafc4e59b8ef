// The rooms table of ../shared/DESIGN.md as an ESLint rule: which top-level folder may import
// which. Every relative import (static, dynamic, re-export) is resolved to a repository path, so
// `../../profiler/../webhook/x.js` is judged by where it lands, not by how it is spelt.
// Cross-room imports from product code must also go through the room's entry (`<room>/index.js`):
// the entry is the room's public API, and what sits behind it may move.
import path from 'node:path';

/** Product rooms and the rooms each may import (besides itself). */
export const PRODUCT_ROOMS = {
  profiler: [],
  certs: [],
  logging: [],
  native: [],
  webhook: ['profiler', 'certs', 'logging'],
  controller: ['profiler', 'logging'],
  agent: ['profiler', 'native', 'logging'],
  cli: ['profiler', 'certs', 'logging', 'native', 'webhook', 'controller', 'agent'],
};

/** The outside: test rigs, the end-to-end suite, benchmarks, deployment tooling and build scripts may import everything. */
export const OUTSIDE_ROOMS = ['testing', 'e2e', 'bench', 'manifests', 'scripts'];

/** The entries of each product room: index.ts, and for the profiler a light one for the node side. */
export const ENTRIES = { profiler: ['index', 'node'] };

const KNOWN = new Set([...Object.keys(PRODUCT_ROOMS), ...OUTSIDE_ROOMS]);

/** The room a repository-relative path belongs to, or undefined (root files, node_modules). */
export function roomOf(relPath) {
  const top = relPath.split(path.sep)[0];
  return KNOWN.has(top) ? top : undefined;
}

/** Why `fromFile` may not import `target` (both repository-relative), or undefined when it may. */
export function violation(fromFile, target, { requireEntry = true } = {}) {
  const from = roomOf(fromFile);
  const to = roomOf(target);
  if (!from || !to || from === to) return undefined;
  if (OUTSIDE_ROOMS.includes(from)) return undefined;
  // A room's tests exercise it with the real parts around it (native's layout test holds the C header
  // and the profiler's encoder together) and use the rigs in testing/, but never reach into the outside.
  const isTest = /\.test\.ts$/.test(fromFile);
  if (isTest) {
    if (to in PRODUCT_ROOMS || to === 'testing') return undefined;
    return `a test in ${from}/ may not import ${to}/: shared test helpers live in testing/`;
  }
  const allowed = PRODUCT_ROOMS[from];
  if (!allowed.includes(to)) {
    return `${from}/ may not import ${to}/ (rooms table in ../shared/DESIGN.md: ${from}/ may import ${allowed.length ? allowed.join(', ') : 'nothing of ours'})`;
  }
  if (requireEntry && !isTest) {
    const rest = target.split(path.sep).slice(1).join('/');
    const entries = ENTRIES[to] ?? ['index'];
    if (!entries.some((e) => rest === `${e}.js` || rest === `${e}.ts`)) {
      return `${from}/ imports ${to}/${rest}: go through the room's entry, ${entries.map((e) => `${to}/${e}.js`).join(' or ')}`;
    }
  }
  return undefined;
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'imports follow the rooms table of ../shared/DESIGN.md' },
    schema: [{ type: 'object', properties: { requireEntry: { type: 'boolean' } }, additionalProperties: false }],
    messages: { room: '{{why}}' },
  },
  create(context) {
    const options = context.options[0] ?? {};
    const root = context.cwd;
    const file = path.relative(root, context.filename);
    const check = (node, source) => {
      if (!source || typeof source.value !== 'string' || !source.value.startsWith('.')) return;
      const target = path.relative(root, path.resolve(path.dirname(context.filename), source.value));
      const why = violation(file, target, options);
      if (why) context.report({ node, messageId: 'room', data: { why } });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source.type === 'Literal' ? node.source : undefined),
    };
  },
};

export default { rules: { 'import-boundaries': rule } };
