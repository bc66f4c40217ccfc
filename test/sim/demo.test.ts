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
