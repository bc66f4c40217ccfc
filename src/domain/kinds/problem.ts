/**
 * The problem kind (POST /webhooks/problem): a classic custom-integration payload, or a Gen 3
 * workflow's body (WORKFLOW_PROBLEM_BODY_TEMPLATE), which is the same kind with its Davis field
 * names. Results are comments on the problem.
 */
import { epochMs, normalizeState, severityOfCategory, typeOfId, type ImpactedEntity } from '../enrichment.js'
import { isTestProblem, problemPayloadSchema, type ProblemPayload } from '../payload.js'
import { parseTagList } from '../tags.js'
import { defineKind } from './define.js'
import type { NotificationFacts } from './types.js'
import { firstDefined, impactedEntities, nonBlank } from './read.js'

function facts (p: ProblemPayload): NotificationFacts {
  const entities: ImpactedEntity[] = impactedEntities(p.ImpactedEntities)
  const rootCauseId = p.root_cause_entity_id
  return {
    problem: {
      kind: 'problem',
      id: p.PID,
      displayId: nonBlank(p.ProblemID),
      state: normalizeState(nonBlank(p.State)),
      status: undefined,
      title: nonBlank(p.ProblemTitle),
      severity: nonBlank(p.ProblemSeverity)?.toUpperCase() ?? severityOfCategory(p['event.category']),
      impact: nonBlank(p.ProblemImpact)?.toUpperCase(),
      url: nonBlank(p.ProblemURL),
      // A Gen 3 workflow's body carries the Davis event's start (docs/dynatrace.md).
      startTime: epochMs(p['event.start'] ?? p.start),
      tags: parseTagList(nonBlank(p.Tags)),
      managementZones: [],
      duplicate: firstDefined(p.isDuplicate, p.IsDuplicate, p['dt.davis.is_duplicate']),
      underMaintenance: firstDefined(p.underMaintenance, p.UnderMaintenance, p['maintenance.is_under_maintenance']),
      maintenanceEntities: [],
      clusters: [],
      security: undefined,
      rootCause: rootCauseId === undefined ? undefined : { id: rootCauseId, type: typeOfId(rootCauseId), name: p.root_cause_entity_name },
      muted: p['dt.davis.mute.status']?.trim().toUpperCase() === 'MUTED' ? true : undefined,
    },
    entities,
    apiDetails: p.ProblemDetailsJSONv2,
  }
}

export const problemKind = defineKind({
  kind: 'problem',
  label: 'problem',
  writeBack: 'comment',
  stateWhenUnstated: undefined,
  bodyMark: undefined,
  plansNothing (p) {
    if (p.state === 'RESOLVED') return 'the notification is RESOLVED: a resolution starts no action'
    if (p.state !== undefined && p.state !== 'OPEN') return `State ${JSON.stringify(p.state)} is neither OPEN nor RESOLVED: it plans nothing`
    if (p.status === 'CLOSED') return 'the problem is closed in Dynatrace: a closed problem plans nothing'
    // A person muted (or closed) it in Dynatrace: no rule overrides that, unlike maintenance.
    if (p.muted === true) return 'the problem is muted in Dynatrace (dt.davis.mute.status: MUTED): a person muted or closed it, so nothing is planned; no rule overrides this'
    return undefined
  },
  uiPath: (problemId) => `/#problems/problemdetails;pid=${encodeURIComponent(problemId)}`,
  schema: problemPayloadSchema,
  identity: (p) => ({ problemId: p.PID, displayId: p.ProblemID, state: p.State }),
  isTest: isTestProblem,
  facts,
})
