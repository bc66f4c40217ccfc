/**
 * The approval request (SPEC 9 and 11): how to approve — the console's page for the run first,
 * then the exact curl line — or that nobody can, when no admin token is configured. For a
 * security problem, an event naming the run and the endpoint.
 */
import { humanDuration } from '../rules/duration.js'
import { describeTarget } from '../target.js'
import { problemLabel } from './label.js'
import type { CommentRun, IngestEvent } from './result.js'

export const approvalMarker = (runId: string): string => `dt-remediator approval ${runId}`

export interface ApprovalRequest {
  /** Steps in the rule's ladder. */
  readonly steps: number
  readonly adminConfigured: boolean
  /** DTR_PUBLIC_URL: where the console and the API are reached. */
  readonly publicUrl: string | undefined
  readonly expiresInMs: number
}

/** Pure: the approval request comment. */
export function approvalComment (run: CommentRun, o: ApprovalRequest): string {
  const base = o.publicUrl ?? '<dt-remediator URL>'
  const what = run.target === null ? `for ${problemLabel(run)}` : `on ${describeTarget(run.target)}`
  const how = o.adminConfigured
    ? [
        // The console's page for the run first: one click, sign in once, approve or reject there.
        `Approve or reject in the console: ${base}/ui/runs/${run.id}`,
        '',
        'Or with curl (or use /reject), with an admin token from DTR_ADMIN_TOKENS:',
        '',
        '```',
        'curl -X POST -H "Authorization: Bearer $DTR_ADMIN_TOKEN" -H "Content-Type: application/json" \\',
        `  -d '{"by":"<your name>","reason":"<why>"}' ${base}/api/runs/${run.id}/approve`,
        '```',
      ]
    : ['Nobody can approve it: DTR_ADMIN_TOKENS is not set, so the admin API is off. It will expire.']
  return [
    `⏸️ ${run.action} awaiting approval ${what}`,
    '',
    `Rule ${run.rule} (step ${run.step + 1} of ${o.steps}) asks for approval before it acts. It expires in ${humanDuration(o.expiresInMs)}.`,
    '',
    ...how,
    '',
    approvalMarker(run.id),
  ].join('\n')
}

/** Pure: the CUSTOM_INFO event of a security run's approval request. */
export function approvalEvent (run: Pick<CommentRun, 'id' | 'action'>): IngestEvent {
  return { title: `dt-remediator: ${run.action} awaiting approval`, properties: { 'dt-remediator.run': run.id, 'dt-remediator.approve': `POST /api/runs/${run.id}/approve` } }
}
