// @ts-check
/**
 * acme.drain-queue, tested as a platform team tests its action: through dt-remediator/testing's
 * runAction (the same plan and execute steps the service's runner uses), against a fake queue
 * admin API on a port of its own. No service, store or cluster.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, before, beforeEach, describe, it } from 'node:test'
import { runAction } from 'dt-remediator/testing'
import drainQueue from '../index.js'

/** @type {{ depth: Record<string, number>, answers: number[], requests: Array<{ method: string, url: string, key: string | undefined, body: unknown }> }} */
const admin = { depth: {}, answers: [], requests: [] }
let broker = ''

const server = createServer((req, res) => {
  let body = ''
  req.on('data', (chunk) => { body += chunk })
  req.on('end', () => {
    const key = req.headers['idempotency-key']
    admin.requests.push({ method: req.method ?? '', url: req.url ?? '', key: Array.isArray(key) ? key[0] : key, body: body === '' ? undefined : JSON.parse(body) })
    const status = admin.answers.shift() ?? 200
    const queue = decodeURIComponent(/^\/queues\/([^/]+)/.exec(req.url ?? '')?.[1] ?? '')
    if (status !== 200) return res.writeHead(status).end('{"error":"injected"}')
    if (!(queue in admin.depth)) return res.writeHead(404).end('{"error":"no such queue"}')
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(req.method === 'POST' ? { moved: JSON.parse(body).max } : { depth: admin.depth[queue] }))
  })
})

before(async () => {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  broker = `http://127.0.0.1:${address.port}`
})
after(() => new Promise((resolve) => server.close(() => resolve(undefined))))
beforeEach(() => {
  admin.depth = { orders: 1234, empty: 0 }
  admin.answers = []
  admin.requests = []
})

describe('acme.drain-queue', () => {
  it('plans the batch once and parks it with the run id as the idempotency key', async () => {
    const { plan, outcome } = await runAction(drainQueue, { params: { broker, queue: 'orders', max: 1000 }, runId: 'run-1' })
    assert.deepEqual(plan, { broker, queue: 'orders', to: 'orders.parked', count: 1000, depth: 1234 })
    assert.equal(outcome.status, 'succeeded')
    assert.equal(outcome.status === 'succeeded' && outcome.summary, 'Moved 1000 of 1234 messages from orders to orders.parked')
    assert.deepEqual(admin.requests.map((r) => `${r.method} ${r.url}`), ['GET /queues/orders', 'POST /queues/orders/park'])
    assert.deepEqual(admin.requests[1], { method: 'POST', url: '/queues/orders/park', key: 'run-1', body: { to: 'orders.parked', max: 1000 } })
  })

  it('repeats the same request on every attempt: a retry never parks a second batch', async () => {
    const { outcomes } = await runAction(drainQueue, { params: { broker, queue: 'orders' }, attempts: 3, runId: 'run-2' })
    assert.equal(outcomes.length, 3)
    const posts = admin.requests.filter((r) => r.method === 'POST')
    assert.equal(posts.length, 3)
    assert.ok(posts.every((p) => p.key === 'run-2' && JSON.stringify(p.body) === JSON.stringify({ to: 'orders.parked', max: 1234 })), 'same key, same batch')
    assert.equal(admin.requests.filter((r) => r.method === 'GET').length, 1, 'planned once')
  })

  it('skips an empty queue at plan time, so that the ladder goes on to its next step', async () => {
    const { outcome } = await runAction(drainQueue, { params: { broker, queue: 'empty' } })
    assert.deepEqual(outcome, { status: 'skipped', reason: 'queue empty is empty: nothing to park' })
    assert.equal(admin.requests.filter((r) => r.method === 'POST').length, 0)
  })

  it('in a dry run reads the queue and sends nothing', async () => {
    const { outcome } = await runAction(drainQueue, { params: { broker, queue: 'orders', to: 'orders.dlq' }, dryRun: true })
    assert.equal(outcome.status === 'succeeded' && outcome.summary, 'Dry run: would move 1234 of 1234 messages from orders to orders.dlq')
    assert.deepEqual(admin.requests.map((r) => r.method), ['GET'])
  })

  it('a missing queue is terminal: the runner does not retry it', async () => {
    await assert.rejects(runAction(drainQueue, { params: { broker, queue: 'nope' } }), { code: 'DTR_ERR_TERMINAL', message: /no such queue/ })
  })

  it('a 503 is thrown as a plain error, which the runner retries', async () => {
    admin.answers = [200, 503]
    await assert.rejects(runAction(drainQueue, { params: { broker, queue: 'orders' } }), (err) => {
      assert.ok(err instanceof Error)
      assert.notEqual(/** @type {{ code?: string }} */ (err).code, 'DTR_ERR_TERMINAL')
      assert.match(err.message, /answered 503/)
      return true
    })
  })

  it('refuses parameters its schema does not allow, naming them', async () => {
    await assert.rejects(runAction(drainQueue, { params: { broker: 'ftp://queues', queue: '', extra: 1 } }), { code: 'DTR_ERR_ACTION_PARAMS', message: /broker.*queue|queue.*broker/s })
  })
})
