import t from 'tap'
import { decideOpen, decideResolved, decisionHolds, type ProblemRecord } from '../../../src/domain/decide/lifecycle.js'

const open: ProblemRecord = { occurrence: 1, status: 'open', closedAt: null }
const closed: ProblemRecord = { occurrence: 1, status: 'closed', closedAt: 1_000 }

t.test('an OPEN', async (t) => {
  const cases: Array<[string, ProblemRecord | undefined, Parameters<typeof decideOpen>[1], number | undefined, object]> = [
    ['first seen opens occurrence 1', undefined, undefined, undefined, { action: 'plan', occurrence: 1, reopened: false }],
    ['first seen while the API is unreadable still plans; the status is read again before acting', undefined, 'unreadable', undefined, { action: 'plan', occurrence: 1, note: /checked again before any action/ }],
    ['first seen but closed in the Problems API plans nothing and records the close', undefined, 'closed', undefined, { action: 'resolve', occurrence: 1 }],
    ['a resend or merge of an open problem is the same occurrence', open, 'open', undefined, { action: 'plan', occurrence: 1, reopened: false }],
    ['an open problem the API shows closed is resolved', open, 'closed', undefined, { action: 'resolve', occurrence: 1 }],
    ['after RESOLVED, re-opened in the API: occurrence 2', closed, 'open', undefined, { action: 'plan', occurrence: 2, reopened: true, note: /Problems API shows it open again/ }],
    ['after RESOLVED, a workflow re-open mark later than our close: occurrence 2', closed, undefined, 2_000, { action: 'plan', occurrence: 2, reopened: true, note: /workflow reports a re-open/ }],
    ['after RESOLVED, a re-open mark older than our close plans nothing', closed, undefined, 500, { action: 'ignore' }],
    ['after RESOLVED, the API shows it closed: nothing, even with a re-open mark', closed, 'closed', 2_000, { action: 'ignore', note: /shows it closed/ }],
    ['after RESOLVED without a Dynatrace URL: nothing, and it says why', closed, undefined, undefined, { action: 'ignore', note: /without DTR_DYNATRACE_URL a re-open cannot be confirmed/ }],
    ['after RESOLVED with the API unreadable: nothing', closed, 'unreadable', undefined, { action: 'ignore', note: /could not be read/ }],
  ]
  for (const [name, record, api, reopenedAt, expected] of cases) t.match(decideOpen(record, api, reopenedAt), expected, name)
})

t.test('a RESOLVED', async (t) => {
  t.match(decideResolved(open), { action: 'resolve', occurrence: 1 })
  t.match(decideResolved({ ...open, occurrence: 3 }), { action: 'resolve', occurrence: 3 })
  t.match(decideResolved(closed), { action: 'ignore', note: /already resolved/ })
  t.match(decideResolved(undefined), { action: 'resolve', occurrence: 1, note: /not seen open/ })
  t.match(decideResolved({ ...open, occurrence: 2 }, 2), { action: 'resolve', occurrence: 2 }, 'reconciliation closes the occurrence it saw closed')
  t.match(decideResolved({ ...open, occurrence: 3 }, 2), { action: 'ignore', note: /occurrence 3 is the current one/ }, 'but not one re-opened since')
})

t.test('a decision still holds at its commit only if the record did not move on in a way that matters', async (t) => {
  const plan1 = decideOpen(undefined, 'open')
  const reopen = decideOpen(closed, 'open')
  const resolve = decideOpen(open, 'closed')
  const cases: Array<[string, ProblemRecord | undefined, ProblemRecord | undefined, ReturnType<typeof decideOpen>, boolean]> = [
    ['a new problem, still unknown', undefined, undefined, plan1, true],
    ['a new problem another notification opened meanwhile: the same occurrence, open', undefined, open, plan1, true],
    ['a new problem a RESOLVED recorded closed meanwhile', undefined, closed, plan1, false],
    ['a new problem closed and re-opened elsewhere meanwhile: another occurrence', undefined, { ...open, occurrence: 2 }, plan1, false],
    ['a re-open, the record unchanged', closed, closed, reopen, true],
    ['a re-open another notification already committed: occurrence 2 open', closed, { ...open, occurrence: 2 }, reopen, true],
    ['a re-open after a second close meanwhile (occurrence 2 closed)', closed, { occurrence: 2, status: 'closed', closedAt: 3_000 }, reopen, false],
    ['a re-open, but the record was removed', closed, undefined, reopen, false],
    ['a resolve, the record unchanged', open, open, resolve, true],
    ['a resolve, but a RESOLVED closed it meanwhile', open, closed, resolve, false],
    ['a resolve of a problem unknown when read, recorded meanwhile', undefined, open, decideOpen(undefined, 'closed'), false],
  ]
  for (const [name, seen, locked, decision, holds] of cases) t.equal(decisionHolds(seen, locked, decision), holds, name)
})
