/**
 * What enrichment read for a notification is the same for each of its rules: the store keeps it
 * once per notification and step (it was a third of an explained notification's disk, repeated in
 * every rule's row), and `GET /api/problems/:pid` gives it with each rule's explanation, the console
 * once per notification: also for rows an older version kept with it in each, and never one
 * notification's for another's.
 */
import t from 'tap'
import { explanationViews } from '../../src/routes/api/report.js'
import { storeConsoleData } from '../../src/routes/ui/data.js'
import type { StoredExplanation } from '../../src/store/evidence.js'
import { startLoop } from '../helpers/runner.js'

const admin = { authorization: 'Bearer alice-admin-token' }
const RULES = `mode: live
defaults: { cooldown: 0s }
rules:
  - name: restart-on-error
    on: problem
    when: { severities: [ERROR], maintenance: include }
    actions: [{ use: kubernetes.restart }]
  - name: scale-on-saturation
    on: problem
    when: { severities: [RESOURCE_CONTENTION] }
    actions: [{ use: kubernetes.scale, with: { by: 1, max: 5 } }]
  - name: page-on-availability
    on: problem
    when: { severities: [AVAILABILITY] }
    actions: [{ use: kubernetes.restart }]
`

t.test('kept once per notification, shown with every rule', async (t) => {
  const loop = await startLoop(t, { rules: RULES })
  t.equal(await loop.notify(), 202)
  await loop.settle()
  const stored = await loop.store.evidence.explanations(loop.problem.problemId)
  t.equal(stored.length, 3, 'one row per rule')
  t.equal(new Set(stored.map((s) => `${s.notificationId}/${s.step}`)).size, 1, 'of one notification and step')
  const carrying = stored.filter((s) => (s.explanation as { enrichment?: unknown }).enrichment !== undefined)
  t.equal(carrying.length, 1, 'what enrichment read is kept in one row')
  const kept = (carrying[0]?.explanation as { enrichment: unknown }).enrichment
  t.match(kept, { source: 'dynatrace', notes: Array })

  const view = (await loop.app.inject({ method: 'GET', url: `/api/problems/${loop.problem.problemId}`, headers: admin })).json() as { explanations: Array<{ rule: string, matched: boolean, enrichment: unknown }> }
  t.same(view.explanations.map((e) => [e.rule, e.matched]).sort(), [['page-on-availability', false], ['restart-on-error', true], ['scale-on-saturation', false]])
  for (const e of view.explanations) t.same(e.enrichment, kept, `${e.rule} shows what enrichment read`)

  const page = await storeConsoleData(loop.store).explanations('problem', loop.problem.problemId)
  t.same(page?.get(stored[0]?.notificationId ?? '')?.read, kept, "the console's problem page says it once per notification")
})

t.test('the view: rows kept with it in each (an older version), rows of other notifications and steps, rows without', async (t) => {
  const row = (notificationId: string, step: number, rule: string, enrichment?: unknown): StoredExplanation =>
    ({ notificationId, step, rule, occurrence: 1, at: 0, explanation: { matched: false, reason: 'no', ...(enrichment === undefined ? {} : { enrichment }) } })
  const api = { source: 'dynatrace', notes: [] }
  const alone = { source: 'notification', notes: ['DTR_DYNATRACE_URL is not set'] }
  const views = explanationViews([
    row('old', 0, 'a', api), row('old', 0, 'b', api),
    row('n1', 0, 'a', alone), row('n1', 0, 'b'), row('n1', 1, 'a'),
    row('n2', 0, 'b'), row('n2', 0, 'a', api),
  ])
  t.same(views.map((v) => [v.notificationId, v.step, v.rule, v.enrichment]), [
    ['old', 0, 'a', api], ['old', 0, 'b', api],
    ['n1', 0, 'a', alone], ['n1', 0, 'b', alone], ['n1', 1, 'a', null],
    ['n2', 0, 'b', api], ['n2', 0, 'a', api],
  ], "each row gets its own notification and step's, wherever in the group it was kept; none is null")
})
