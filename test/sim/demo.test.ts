/**
 * `npm run demo` plays the whole story and cleans up after itself (issue 14): a test runs it as
 * the verb does, and reads what it printed.
 */
import { existsSync } from 'node:fs'
import t from 'tap'
import { runDemo } from '../../sim/demo.js'

t.test('the demo plays the story, ends by itself with 0 and leaves nothing behind', async (t) => {
  let out = ''
  const code = await runDemo({ write: (text) => { out += text } })
  t.equal(code, 0, out)
  for (const step of [
    /Dynatrace's "Send test notification" → 200 \{"status":"test"\}/,
    /checkout:1\.4\.2 rolled out 10 min ago/,
    /"Failure rate increase on checkout-service" opened on .*; the webhook answered 202/,
    /Deployment shop\/checkout now runs checkout:1\.4\.1 \(rolled back\)/,
    /comment +✅ kubernetes\.rollback succeeded on Deployment shop\/checkout/,
    /comment +✔️ Resolved after kubernetes\.rollback on Deployment shop\/checkout/,
    /comment +⏭️ kubernetes\.rollback skipped on Deployment shop\/checkout — skipped by cooldown/,
    /comment +⏸️ kubernetes\.restart awaiting approval on Deployment shop\/cart/,
    /approval +POST \/api\/runs\/[0-9a-f-]+\/approve → 200/,
    /comment +✅ kubernetes\.restart succeeded on Deployment shop\/cart/,
    /Comments, as Dynatrace shows them on the problems/,
    /Rolled back Deployment shop\/checkout from revision 2 to revision 1: checkout:1\.4\.2 → checkout:1\.4\.1/,
    /\*\*Approved by:\*\* demo \(for you\)/,
  ]) t.match(out, step)
  const kubeconfig = /kubectl --kubeconfig (\S+) -n shop rollout history deployment\/checkout/.exec(out)?.[1]
  t.ok(kubeconfig, 'it prints the kubectl command')
  t.notOk(existsSync(kubeconfig ?? '/nonexistent'), 'its temporary directory is gone')
  t.match(out, /The demo is over: everything it started is stopped/)
  // Every problem of the story is notified; none of the comments may claim that none was.
  t.notMatch(out, /Found by:\*\* reconciliation/, 'no comment says reconciliation found a problem the webhook brought')
})

t.test('--keep prints the console URL and a sign-in token, and leaves a run awaiting approval there', async (t) => {
  let out = ''
  let seen: { signedOut?: string | null, awaiting?: string, page?: number } = {}
  const code = await runDemo({
    keep: true,
    write: (text) => { out += text },
    untilStop: async (kept) => {
      const signedOut = await fetch(kept.consoleUrl, { redirect: 'manual' })
      const runs = await fetch(new URL('/api/runs?state=awaiting_approval', kept.consoleUrl), { headers: { authorization: `Bearer ${kept.adminToken}` } })
      const body = await runs.json() as { runs: Array<{ id: string, action: string }> }
      seen = { signedOut: signedOut.headers.get('location'), awaiting: body.runs.map((r) => `${r.id} ${r.action}`).join(','), page: (await fetch(new URL(`/ui/runs/${kept.awaitingRunId}`, kept.consoleUrl), { redirect: 'manual' })).status }
      t.equal(kept.awaitingRunId, body.runs[0]?.id)
    },
  })
  t.equal(code, 0, out)
  t.match(out, /The operator console: http:\/\/127\.0\.0\.1:\d+\/ui\/\n {2}sign in with the admin token demo-admin-token\n {2}run [0-9a-f-]+ is awaiting approval there/)
  t.equal(seen.signedOut, '/ui/login?next=%2Fui%2F', 'the console answers, asking to sign in')
  t.match(seen.awaiting, /^[0-9a-f-]+ kubernetes\.restart$/, 'exactly one run awaits approval')
  t.equal(seen.page, 303)
})
