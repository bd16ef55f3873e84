/** The project's layering: proto and hardware import nothing of the project; firmware-shim may
 * import proto and hardware; edge and cloud may import proto (edge also hardware); edge and cloud
 * never import each other. bin/ is the composition root and test/ may reach everything. */
module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true } },
    { name: 'proto-is-a-leaf', severity: 'error', from: { path: '^proto/' },
      to: { path: '^(hardware|firmware-shim|edge|cloud|bin|test)/' } },
    { name: 'hardware-is-a-leaf', severity: 'error', from: { path: '^hardware/' },
      to: { path: '^(proto|firmware-shim|edge|cloud|bin|test)/' } },
    { name: 'firmware-shim-below-edge', severity: 'error', from: { path: '^firmware-shim/' },
      to: { path: '^(edge|cloud|bin|test)/' } },
    { name: 'edge-imports-only-proto-and-hardware', severity: 'error', from: { path: '^edge/' },
      to: { path: '^(cloud|firmware-shim|bin|test)/' } },
    { name: 'cloud-imports-only-proto', severity: 'error', from: { path: '^cloud/' },
      to: { path: '^(edge|hardware|firmware-shim|bin|test)/' } },
    { name: 'no-test-code-in-product', severity: 'error', from: { pathNot: '(^test/|\\.test\\.ts$)' },
      to: { path: '(^test/(?!bench/)|\\.test\\.ts$)' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
