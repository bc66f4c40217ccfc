/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`test/domain/writeback/result.test.ts > TAP > a result comment leads with outcome, action and target, and ends with its marker > live rollback 1`] = `
✅ kubernetes.rollback succeeded on Deployment shop/checkout

Rolled back Deployment shop/checkout from revision 2 to revision 1: checkout:1.4.2 → checkout:1.4.1

- **Rule:** rollback-bad-deploy (step 1 of 2)
- **Trigger:** deployment event "checkout 1.4.2", 10 min before the problem started
- **Mode:** live
- **Duration:** 1.4 s, 1 attempt
- **Next:** verifying in 10 min

dt-remediator run 6f1c2d3e-0000-4000-8000-000000000001
`

exports[`test/domain/writeback/result.test.ts > TAP > a verdict comment has its own marker, so it is never mistaken for the result > unresolved, escalating 1`] = `
⚠️ Not resolved after kubernetes.rollback on Deployment shop/checkout

Verification: the problem is still open 10 min after the action: escalating to the next step.

- **Rule:** rollback-bad-deploy (step 1 of 2)
- **Next:** kubernetes.scale (step 2)

dt-remediator verdict 6f1c2d3e-0000-4000-8000-000000000001
`

exports[`test/domain/writeback/result.test.ts > TAP > dry runs, skips, failures, approvals and reconciliation say so > dry run 1`] = `
🧪 kubernetes.rollback dry run on Deployment shop/checkout (no change made)

Dry run: would roll back Deployment shop/checkout from revision 2 to revision 1: checkout:1.4.2 → checkout:1.4.1

- **Rule:** rollback-bad-deploy (step 1 of 2)
- **Trigger:** deployment event "checkout 1.4.2", 10 min before the problem started
- **Mode:** dry run — no change was made
- **Duration:** 1.4 s, 1 attempt
- **Next:** verifying in 10 min

dt-remediator run 6f1c2d3e-0000-4000-8000-000000000001
`

exports[`test/domain/writeback/result.test.ts > TAP > dry runs, skips, failures, approvals and reconciliation say so > failed after approval, found by reconciliation 1`] = `
❌ kubernetes.rollback failed on Deployment shop/checkout

forbidden: cannot patch deployments.apps

- **Rule:** rollback-bad-deploy (step 1 of 2)
- **Mode:** live
- **Duration:** 65 s, 3 attempts
- **Approved by:** alice
- **Found by:** reconciliation with the Problems API (no notification reached dt-remediator)

dt-remediator run 6f1c2d3e-0000-4000-8000-000000000001
`

exports[`test/domain/writeback/result.test.ts > TAP > dry runs, skips, failures, approvals and reconciliation say so > no target 1`] = `
⏭️ kubernetes.rollback skipped for SERVICE-52AC624D70C377BC (checkout-service)

no target: rule target: none given; tags: no k8s.namespace.name

- **Rule:** rollback-bad-deploy (step 1 of 1)
- **Mode:** live
- **Next:** the ladder stops: it had no target

dt-remediator run 6f1c2d3e-0000-4000-8000-000000000001
`

exports[`test/domain/writeback/result.test.ts > TAP > dry runs, skips, failures, approvals and reconciliation say so > untargeted action on a re-opened security problem 1`] = `
✅ notify.slack succeeded for security problem S-17

Posted to Slack (200)

- **Rule:** rollback-bad-deploy (step 1 of 1)
- **Mode:** live
- **Occurrence:** 2 (the problem was re-opened)

dt-remediator run 6f1c2d3e-0000-4000-8000-000000000001
`
