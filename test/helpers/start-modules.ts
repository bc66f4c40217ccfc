/**
 * What `serve` with the embedded store does not load before it is ready, each with the reason it
 * is not needed then: test/cli/serve-modules.test.ts checks the modules the sources load, and
 * test/cli/bundle.test.ts which of the bundle's modules the built service runs.
 */
export const notAtStart: ReadonlyArray<readonly [RegExp, string]> = [
  [/\/node_modules\/@kubernetes\/client-node\//, 'the Kubernetes client (first Kubernetes action)'],
  [/\/node_modules\/pg\//, 'PostgreSQL (DTR_DATABASE_URL)'],
  [/\/node_modules\/prom-client\/(index\.js|lib\/defaultMetrics\.js)$/, 'prom-client\'s index and default metrics (first GET /metrics)'],
  [/\/node_modules\/@opentelemetry\/api\//, 'the OpenTelemetry API of prom-client\'s default metrics'],
  [/\/node_modules\/commander\//, 'the CLI\'s program (a plain `serve` needs none)'],
  [/\/node_modules\/@fastify\/sensible\//, 'the admin API\'s helpers (DTR_ADMIN_TOKENS)'],
  [/\/src\/routes\/(api|ui)\//, 'the admin API and the console (DTR_ADMIN_TOKENS)'],
  [/\/sim\//, 'the simulators'],
]
