// Import cycles fail `npm test` (issue 19): `npx depcruise src`. Runtime imports only, as the
// TypeScript compiler emits them (tsPreCompilationDeps: false drops `import type`): a cycle of types
// alone loads nothing, and the workflows import activity types on purpose.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'these modules import each other in a circle: move what both need to a module of its own (docs/architecture.md, "Shape")',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: false,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
