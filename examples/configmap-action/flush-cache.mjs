/**
 * acme.flush-cache, a custom action in one file, mounted into the pod from a ConfigMap (see
 * kustomization.yaml beside it). It imports nothing: the default export is a function that the
 * service calls with { defineAction, z, TerminalError, skip }, so the file needs no node_modules.
 *
 * For a workload that opted in (annotation acme.io/cache-flush: "true"), it calls the workload's
 * own cache-flush endpoint, by default http://<name>.<namespace>.svc:8080/admin/cache/flush.
 * The NetworkPolicy must let dt-remediator reach it (deploy/overlays/production/networkpolicy.yaml).
 */
export default ({ defineAction, z, TerminalError, skip }) => defineAction({
  name: 'acme.flush-cache',
  description: 'Flushes the cache of a workload that exposes /admin/cache/flush',
  entityTypes: ['SERVICE', 'PROCESS_GROUP_INSTANCE', 'CLOUD_APPLICATION'],
  params: z.object({
    port: z.number().int().min(1).max(65535).default(8080),
    path: z.string().startsWith('/').default('/admin/cache/flush'),
    // Instead of the workload's Service, e.g. a sidecar's address.
    baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  }).strict(),
  needsTarget: true,

  // Read-only, once, when the run is planned: only workloads that opted in are flushed; a skip
  // here lets the rule's ladder go on to its next step at once.
  async plan (ctx) {
    const { kind, namespace, name } = ctx.target
    const workload = await ctx.kubernetes.get({ apiVersion: 'apps/v1', kind, namespace, name })
    if (workload?.metadata?.annotations?.['acme.io/cache-flush'] !== 'true') {
      return skip(`${kind} ${namespace}/${name} has not opted in (annotation acme.io/cache-flush: "true")`)
    }
    const base = ctx.params.baseUrl ?? `http://${name}.${namespace}.svc:${ctx.params.port}`
    return { url: new URL(ctx.params.path, base).href }
  },

  async run (ctx) {
    if (ctx.dryRun) return { status: 'succeeded', summary: `Dry run: would POST ${ctx.plan.url}` }
    const response = await fetch(ctx.plan.url, {
      method: 'POST',
      headers: { 'idempotency-key': ctx.runId },
      redirect: 'manual',
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(10_000)]),
    })
    if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
      throw new TerminalError(`POST ${ctx.plan.url} was refused: ${response.status}`)
    }
    if (!response.ok) throw new Error(`POST ${ctx.plan.url} answered ${response.status}`)
    return { status: 'succeeded', summary: `Flushed the cache of ${ctx.target.kind} ${ctx.target.namespace}/${ctx.target.name}` }
  },
})
