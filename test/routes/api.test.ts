/**
 * The admin API (SPEC 9, 11): runs and problems to read, approvals, the kill switch, with the
 * whole loop behind it; every answer validated against /openapi.json.
 */
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { startLoop, type Loop } from '../helpers/runner.js'

const alice = { authorization: 'Bearer alice-admin-token' }
const APPROVAL_RULES = `
mode: live
defaults: { approvalTimeout: 30m }
rules:
  - name: restart-with-approval
    on: problem
    when: { entityTypes: [SERVICE] }
    approval: true
    actions: [{ use: kubernetes.restart }]
`

/** Validates an answer against the route's response schema in /openapi.json. */
async function validator (app: FastifyInstance) {
  const doc = (await app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>, components?: { schemas?: Record<string, unknown> } }
  const ajv = new Ajv2020({ strict: false, allErrors: true })
  // ajv-formats is CommonJS: under NodeNext its default import is module.exports.
  ;(addFormatsModule as unknown as { default: (a: Ajv2020) => Ajv2020 }).default(ajv)
  ajv.addSchema({ $id: 'doc', components: doc.components ?? {} })
  return {
    doc,
    check (t: Test, path: string, method: string, status: number, body: unknown): void {
      const schema = doc.paths[path]?.[method]?.responses[String(status)]?.content?.['application/json']?.schema
      t.ok(schema, `/openapi.json documents ${method.toUpperCase()} ${path} ${status}`)
      if (schema === undefined) return
      const resolved = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')) as object
      const valid = ajv.validate(resolved, body)
      t.ok(valid, `${method.toUpperCase()} ${path} ${status} matches its schema: ${ajv.errorsText()}`)
    },
  }
}

async function approvalLoop (t: Test): Promise<Loop & { runId: string }> {
  const loop = await startLoop(t, { rules: APPROVAL_RULES })
  await loop.notify()
  await loop.settle()
  const [run] = (await loop.store.runs.list({ limit: 5 })).runs
  return Object.assign(loop, { runId: run?.id ?? '' })
}

t.test('without DTR_ADMIN_TOKENS the admin API does not exist', async (t) => {
  const app = await buildTestApp(t)
  t.equal((await app.inject({ url: '/api/runs', headers: alice })).statusCode, 404)
})

t.test('every admin route answers 401 without a valid admin token', async (t) => {
  const loop = await startLoop(t)
  for (const [method, url] of [['GET', '/api/runs'], ['GET', '/api/runs/x'], ['GET', '/api/problems/x'], ['POST', '/api/runs/x/approve'], ['POST', '/api/runs/x/reject'], ['GET', '/api/pause'], ['PUT', '/api/pause']] as const) {
    for (const headers of [{}, { authorization: 'Bearer wrong-wrong-wrong' }]) {
      const res = await loop.app.inject({ method, url, headers, payload: method === 'GET' ? undefined : {} })
      t.equal(res.statusCode, 401, `${method} ${url}`)
      t.equal(res.json().code, 'DTR_ERR_UNAUTHORIZED')
    }
  }
})

t.test('runs and problems to read', async (t) => {
  const loop = await startLoop(t)
  await loop.notify()
  await loop.settle()
  const { check } = await validator(loop.app)
  const list = await loop.app.inject({ url: '/api/runs?limit=10', headers: alice })
  t.equal(list.statusCode, 200)
  check(t, '/api/runs', 'get', 200, list.json())
  const [run] = list.json().runs as Array<{ id: string }>
  t.match(list.json(), { runs: [{ state: 'succeeded', action: 'kubernetes.rollback', rule: 'rollback-bad-deploy', problemId: loop.problem.problemId, displayId: loop.problem.displayId, dryRun: false, approvedBy: null, occurrence: 1 }], nextCursor: null })

  const one = await loop.app.inject({ url: `/api/runs/${run?.id ?? ''}`, headers: alice })
  check(t, '/api/runs/{id}', 'get', 200, one.json())
  t.match(one.json().timeline, [{ state: 'planned' }, { state: 'queued' }, { state: 'running' }, { state: 'succeeded' }])

  const byProblem = await loop.app.inject({ url: `/api/problems/${loop.problem.displayId}`, headers: alice })
  t.equal(byProblem.statusCode, 200)
  check(t, '/api/problems/{pid}', 'get', 200, byProblem.json())
  t.match(byProblem.json(), { problemId: loop.problem.problemId, occurrence: 1, status: 'open', notifications: [{ state: 'OPEN', source: 'webhook' }], runs: [{ id: run?.id }] })

  t.same((await loop.app.inject({ url: '/api/runs?state=failed', headers: alice })).json().runs, [])
  for (const [url, code] of [['/api/runs/nope', 'DTR_ERR_NOT_FOUND'], ['/api/problems/P-0', 'DTR_ERR_NOT_FOUND']] as const) {
    const res = await loop.app.inject({ url, headers: alice })
    t.equal(res.statusCode, 404)
    t.match(res.json(), { code, message: /No (run|problem)/ })
    check(t, url.startsWith('/api/runs') ? '/api/runs/{id}' : '/api/problems/{pid}', 'get', 404, res.json())
  }
  const bad = await loop.app.inject({ url: '/api/runs?limit=9999&colour=red', headers: alice })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { code: 'DTR_ERR_INVALID_REQUEST', message: /limit/ })
})

t.test('approval: the run waits with a comment saying how, approving runs it, the approver is in the comment', async (t) => {
  const loop = await approvalLoop(t)
  t.match(await loop.store.runs.view(loop.runId), { state: 'awaiting_approval' })
  t.equal(loop.k8s.sim.requests.filter((r) => r.method === 'PATCH').length, 0, 'nothing done before approval')
  const [request = ''] = loop.comments()
  t.match(request, /^⏸️ kubernetes\.restart awaiting approval on Deployment shop\/checkout/)
  t.match(request, new RegExp(`curl -X POST -H "Authorization: Bearer \\$DTR_ADMIN_TOKEN".*\\n.*/api/runs/${loop.runId}/approve`))
  const { check } = await validator(loop.app)
  const res = await loop.app.inject({ method: 'POST', url: `/api/runs/${loop.runId}/approve`, headers: alice, payload: { by: 'bob', reason: 'checked the dashboards' } })
  t.equal(res.statusCode, 200)
  check(t, '/api/runs/{id}/approve', 'post', 200, res.json())
  t.match(res.json(), { state: 'queued', approvedBy: 'alice (for bob)' })
  await loop.settle()
  t.match(await loop.store.runs.view(loop.runId), { state: 'succeeded', approvedBy: 'alice (for bob)', timeline: [{ state: 'planned' }, { state: 'queued' }, { state: 'awaiting_approval' }, { state: 'queued', note: /approved by alice \(for bob\) from .*: checked the dashboards/ }, { state: 'running' }, { state: 'succeeded' }] })
  const result = loop.comments()[1] ?? ''
  t.match(result, /^✅ kubernetes\.restart succeeded on Deployment shop\/checkout/)
  t.match(result, /\*\*Approved by:\*\* alice \(for bob\)/)
  const again = await loop.app.inject({ method: 'POST', url: `/api/runs/${loop.runId}/approve`, headers: alice, payload: {} })
  t.equal(again.statusCode, 409)
  t.match(again.json(), { code: 'DTR_ERR_CONFLICT', message: /is succeeded, not awaiting_approval/, state: 'succeeded' })
  check(t, '/api/runs/{id}/approve', 'post', 409, again.json())
})

t.test('rejection cancels the run with who and why; expiry ends it after approvalTimeout', async (t) => {
  const loop = await approvalLoop(t)
  const res = await loop.app.inject({ method: 'POST', url: `/api/runs/${loop.runId}/reject`, headers: alice, payload: { reason: 'not during the sale' } })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { state: 'cancelled', reason: 'rejected by alice: not during the sale' })
  await loop.settle()
  t.match(loop.comments()[1], /^🚫 kubernetes\.restart cancelled on Deployment shop\/checkout\n\nrejected by alice: not during the sale/)
  t.equal((await loop.app.inject({ method: 'POST', url: `/api/runs/${loop.runId}/reject`, headers: alice, payload: {} })).statusCode, 409)
  t.equal((await loop.app.inject({ method: 'POST', url: '/api/runs/nope/approve', headers: alice, payload: {} })).statusCode, 404)

  const other = await approvalLoop(t)
  await other.advance(30 * 60_000)
  t.match(await other.store.runs.view(other.runId), { state: 'expired', reason: /expired after 30 min/ })
  t.match(other.comments()[1], /^⌛ kubernetes\.restart expired on Deployment shop\/checkout/)
  t.equal(other.k8s.sim.requests.filter((r) => r.method === 'PATCH').length, 0)
})

t.test('approving re-checks the gates: a pause set while it waited stops it', async (t) => {
  const loop = await approvalLoop(t)
  await loop.app.inject({ method: 'PUT', url: '/api/pause', headers: alice, payload: { paused: true, reason: 'incident review' } })
  await loop.app.inject({ method: 'POST', url: `/api/runs/${loop.runId}/approve`, headers: alice, payload: {} })
  await loop.settle()
  t.match(await loop.store.runs.view(loop.runId), { state: 'skipped', reason: /^skipped by the kill switch: paused by alice/ })
  t.equal(loop.k8s.sim.requests.filter((r) => r.method === 'PATCH').length, 0)
})

t.test('the kill switch: paused, nothing new starts; resumed, nothing runs retroactively', async (t) => {
  const loop = await startLoop(t)
  const { check } = await validator(loop.app)
  t.same((await loop.app.inject({ url: '/api/pause', headers: alice })).json(), { paused: false })
  const on = await loop.app.inject({ method: 'PUT', url: '/api/pause', headers: alice, payload: { paused: true, reason: 'change freeze', by: 'carol' } })
  t.equal(on.statusCode, 200)
  check(t, '/api/pause', 'put', 200, on.json())
  t.match(on.json(), { paused: true, reason: 'change freeze', by: 'alice (for carol)', since: new Date(loop.clock.now()).toISOString() })
  t.same((await loop.app.inject({ url: '/api/pause', headers: alice })).json(), on.json())
  t.match(await loop.app.metrics.registry.getSingleMetricAsString('dtr_paused'), /dtr_paused 1/)
  await loop.notify()
  await loop.settle()
  const [run] = (await loop.store.runs.list({ limit: 5 })).runs
  t.match(run, { state: 'skipped', reason: /^skipped by the kill switch: paused by alice \(for carol\) .* \(change freeze\)/ })
  t.match(loop.comments()[0], /^⏭️ kubernetes\.rollback skipped on Deployment shop\/checkout\n\nskipped by the kill switch/)
  const off = await loop.app.inject({ method: 'PUT', url: '/api/pause', headers: alice, payload: { paused: false } })
  t.same(off.json(), { paused: false })
  await loop.settle()
  t.equal(loop.k8s.sim.requests.filter((r) => r.method === 'PATCH').length, 0, 'resuming runs nothing retroactively')
  const invalid = await loop.app.inject({ method: 'PUT', url: '/api/pause', headers: alice, payload: { paused: 'yes' } })
  t.equal(invalid.statusCode, 400)
  t.match(invalid.json(), { code: 'DTR_ERR_INVALID_REQUEST', message: /paused/ })
})

t.test('/openapi.json covers the webhooks and the admin routes', async (t) => {
  const loop = await startLoop(t)
  const { doc } = await validator(loop.app)
  for (const path of ['/webhooks/problem', '/webhooks/security', '/api/runs', '/api/runs/{id}', '/api/runs/{id}/approve', '/api/runs/{id}/reject', '/api/problems/{pid}', '/api/pause']) t.ok(doc.paths[path], path)
  t.notOk(doc.paths['/openapi.json'], 'the document itself is hidden')
})
