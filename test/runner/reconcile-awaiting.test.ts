/**
 * awaitingPlan (src/runner/reconcile/take.ts): reconciliation leaves a problem alone when a webhook
 * brought it, even when the notification's planning finished between the pass's reads. The race
 * it closes: the pass read the problem as untracked, then the notification was planned (the
 * problem tracked open) and its job marked done, then the pass saw no waiting job and took the
 * problem in itself, whose comment then said "no notification reached dt-remediator".
 */
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { parseProblemPayload } from '../../src/domain/payload.js'
import { toNewNotification } from '../../src/domain/notification.js'
import { awaitingPlan, type PassDeps } from '../../src/runner/reconcile/take.js'
import { NOTIFICATION_QUEUE } from '../../src/store/notifications.js'
import { openTestStore } from '../helpers/store.js'

const PID = '-4470926245474187302_1796590000000V2'

async function withWebhookNotification (t: Parameters<typeof openTestStore>[0]) {
  const store = await openTestStore(t)
  const body = { PID, ProblemID: 'P-1', State: 'OPEN', ProblemTitle: 'Failure rate increase', ImpactedEntities: [] }
  const parsed = parseProblemPayload(body) as { ok: true, value: unknown }
  t.ok(parsed.ok, 'the body is a problem notification')
  await store.notifications.record(toNewNotification(randomUUID(), 'problem', parsed.value, body))
  await store.notifications.drain()
  const deps = { store } as unknown as PassDeps
  return { store, deps }
}

t.test('a webhook notification still waiting to be planned: left to it', async (t) => {
  const { deps } = await withWebhookNotification(t)
  t.equal(await awaitingPlan(deps, 'problem', PID, undefined), true)
})

t.test('planned after the pass read the problem as untracked, its job done by now: still left to the webhook', async (t) => {
  const { store, deps } = await withWebhookNotification(t)
  // What planning does: track the problem open in its transaction, then mark the job done.
  await store.problems.open({ kind: 'problem', problemId: PID, displayId: 'P-1', occurrence: 1, source: 'webhook' })
  const [job] = await store.jobs.claim(NOTIFICATION_QUEUE, 'w1', { leaseMs: 60_000 })
  t.ok(job !== undefined && await store.jobs.complete(job.id, 'w1'), 'the notification job is done')
  // `last` as the pass read it before: untracked.
  t.equal(await awaitingPlan(deps, 'problem', PID, undefined), true, 'not taken in as found by reconciliation')
})

t.test('the notification job done without tracking the problem (planning ignored it): reconciliation may take it in', async (t) => {
  const { store, deps } = await withWebhookNotification(t)
  const [job] = await store.jobs.claim(NOTIFICATION_QUEUE, 'w1', { leaseMs: 60_000 })
  t.ok(job !== undefined && await store.jobs.complete(job.id, 'w1'), 'the notification job is done')
  t.equal(await awaitingPlan(deps, 'problem', PID, undefined), false)
})

t.test('no webhook notification at all: reconciliation takes it in', async (t) => {
  const store = await openTestStore(t)
  t.equal(await awaitingPlan({ store } as unknown as PassDeps, 'problem', PID, undefined), false)
})
