/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`test/domain/writeback/render.test.ts > TAP > a verdict on a security problem is an event with the verdict and its note > security verdict 1`] = `
Object {
  "channel": "event",
  "event": Object {
    "properties": Object {
      "dt-remediator.note": "the problem was resolved 10 min after the action",
      "dt-remediator.run": "6f1c2d3e-0000-4000-8000-000000000001",
      "dt-remediator.verdict": "resolved",
    },
    "title": "dt-remediator: kubernetes.rollback verified resolved",
  },
  "key": "verdict:6f1c2d3e-0000-4000-8000-000000000001",
  "marker": "dt-remediator verdict 6f1c2d3e-0000-4000-8000-000000000001",
  "runId": "6f1c2d3e-0000-4000-8000-000000000001",
}
`

exports[`test/domain/writeback/render.test.ts > TAP > an approval request says how to approve, or that nobody can > admin API off, no target 1`] = `
⏸️ kubernetes.rollback awaiting approval for problem P-240733

Rule rollback-bad-deploy (step 1 of 2) asks for approval before it acts. It expires in 60 min.

Nobody can approve it: DTR_ADMIN_TOKENS is not set, so the admin API is off. It will expire.

dt-remediator approval 6f1c2d3e-0000-4000-8000-000000000001
`

exports[`test/domain/writeback/render.test.ts > TAP > an approval request says how to approve, or that nobody can > admin API on 1`] = `
⏸️ kubernetes.rollback awaiting approval on Deployment shop/checkout

Rule rollback-bad-deploy (step 1 of 2) asks for approval before it acts. It expires in 60 min.

Approve or reject in the console: https://dtr.example.com/ui/runs/6f1c2d3e-0000-4000-8000-000000000001

Or with curl (or use /reject), with an admin token from DTR_ADMIN_TOKENS:

\`\`\`
curl -X POST -H "Authorization: Bearer $DTR_ADMIN_TOKEN" -H "Content-Type: application/json" \\
  -d '{"by":"<your name>","reason":"<why>"}' https://dtr.example.com/api/runs/6f1c2d3e-0000-4000-8000-000000000001/approve
\`\`\`

dt-remediator approval 6f1c2d3e-0000-4000-8000-000000000001
`

exports[`test/domain/writeback/render.test.ts > TAP > an approval request says how to approve, or that nobody can > security: an event 1`] = `
Object {
  "channel": "event",
  "event": Object {
    "properties": Object {
      "dt-remediator.approve": "POST /api/runs/6f1c2d3e-0000-4000-8000-000000000001/approve",
      "dt-remediator.run": "6f1c2d3e-0000-4000-8000-000000000001",
    },
    "title": "dt-remediator: kubernetes.rollback awaiting approval",
  },
  "key": "approval:6f1c2d3e-0000-4000-8000-000000000001",
  "marker": "dt-remediator approval 6f1c2d3e-0000-4000-8000-000000000001",
  "runId": "6f1c2d3e-0000-4000-8000-000000000001",
}
`

exports[`test/domain/writeback/render.test.ts > TAP > many runs with one outcome share one summary comment, under the first run's result marker > 12 entities, two reasons 1`] = `
⏭️ kubernetes.rollback skipped for 12 entities of problem P-240733

- 9 × no target: rule target: none given; tags: no k8s.namespace.name
- 3 × no target: \`weird\` name

- **Rule:** rollback-bad-deploy (step 1 of 1)
- **Mode:** live
- **Entities:** \`SERVICE-0\`, \`SERVICE-1\`, \`SERVICE-2\`, \`SERVICE-3\`, \`SERVICE-4\`, \`SERVICE-5\`, \`SERVICE-6\`, \`SERVICE-7\`, \`SERVICE-8\`, \`SERVICE-9\` and 2 more

dt-remediator run run-0
`
