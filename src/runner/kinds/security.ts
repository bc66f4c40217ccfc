/**
 * The security-problem kind's runner half: the security problem read from the Security Problems
 * API (which knows it by its internal id, so an `S-…` display id is looked up first), its status,
 * and its reconciliation listing. Its body carries nothing in the API's shapes.
 */
import type { ProblemFacts } from '../../domain/enrichment.js'
import { kindOf } from '../../domain/kinds/index.js'
import type { SecurityProblemDetails } from '../../dynatrace/schemas.js'
import { reconcileSecurity } from '../reconcile/security.js'
import { mergedBasics } from './merge.js'
import type { EnrichmentSource, RunnerKind } from './types.js'

/** S-1234 is a display id: map it to the security problem first. */
async function readDetails (dt: Pick<EnrichmentSource, 'getSecurityProblem' | 'findSecurityProblemByDisplayId'>, id: string, signal: AbortSignal | undefined): Promise<SecurityProblemDetails | undefined> {
  if (!/^S-\d+$/i.test(id)) return dt.getSecurityProblem(id, signal)
  const found = await dt.findSecurityProblemByDisplayId(id, signal)
  return found === undefined ? undefined : dt.getSecurityProblem(found.securityProblemId, signal)
}

function withSecurityProblem (base: ProblemFacts, details: SecurityProblemDetails): ProblemFacts {
  const risk = details.riskAssessment
  const s = base.security
  return {
    ...base,
    ...mergedBasics(base, details),
    // The API's display id over the notification's: a notification may carry the internal id.
    displayId: details.displayId ?? base.displayId,
    url: base.url ?? details.url,
    security: {
      severity: s?.severity ?? risk?.riskLevel,
      exposed: s?.exposed ?? (risk?.exposure === undefined || risk.exposure === 'NOT_AVAILABLE' ? undefined : risk.exposure === 'PUBLIC_NETWORK'),
      exploitAvailable: s?.exploitAvailable ?? (risk?.publicExploit === undefined ? undefined : risk.publicExploit === 'AVAILABLE'),
      dataAssetsReachable: s?.dataAssetsReachable ?? (risk?.dataAssets === undefined || risk.dataAssets === 'NOT_AVAILABLE' ? undefined : risk.dataAssets === 'REACHABLE'),
    },
  }
}

export const securityRunnerKind: RunnerKind = {
  domain: kindOf('security'),
  bodyFacts: (facts) => ({ problem: facts.problem, entities: [...facts.entities], evidence: [], hasDetails: false }),
  knownFrom: () => 'the notification',
  async readProblem (dt, base, problemId, signal) {
    const details = await readDetails(dt, problemId, signal)
    if (details === undefined) throw new Error(`Dynatrace lists no security problem ${problemId}`)
    return { problem: withSecurityProblem(base, details), evidence: [] }
  },
  readSubject: 'the security problem',
  readsDeploymentEvents: false,
  async status (dt, problemId, signal) {
    const details = await readDetails(dt, problemId, signal)
    if (details === undefined) return { status: 'unreadable', read: undefined }
    return {
      status: details.status === 'RESOLVED' ? 'closed' : details.status === 'OPEN' ? 'open' : 'unreadable',
      read: (base) => ({ problem: withSecurityProblem(base, details), evidence: [] }),
    }
  },
  reportName: 'security',
  reconcile: reconcileSecurity,
}
