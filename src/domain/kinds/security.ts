/**
 * The security-problem kind (POST /webhooks/security): a security notification webhook's
 * payload. Its notifications carry no State (each is an OPEN), and security problems take no
 * comments: results are CUSTOM_INFO events on the affected entities.
 */
import { isTestSecurity, securityPayloadSchema, type SecurityPayload } from '../payload.js'
import { parseTagList } from '../tags.js'
import { defineKind } from './define.js'
import type { NotificationFacts } from './types.js'
import { firstDefined, impactedEntities, nonBlank } from './read.js'

function facts (p: SecurityPayload): NotificationFacts {
  const severity = nonBlank(p.Severity)?.toUpperCase()
  return {
    problem: {
      kind: 'security',
      id: p.SecurityProblemId,
      displayId: p.SecurityProblemId,
      state: undefined,
      status: undefined,
      title: nonBlank(p.Title),
      severity,
      impact: undefined,
      url: nonBlank(p.SecurityProblemUrl),
      startTime: undefined,
      tags: parseTagList(nonBlank(p.Tags)),
      managementZones: (nonBlank(p.ManagementZones) ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''),
      duplicate: undefined,
      underMaintenance: undefined,
      maintenanceEntities: [],
      clusters: [],
      security: {
        severity,
        exposed: p.Exposed,
        exploitAvailable: p.ExploitAvailable,
        dataAssetsReachable: firstDefined(p.DataAssetsReachable, p.SensitiveDataReachable),
      },
    },
    entities: impactedEntities(p.AffectedEntities),
    apiDetails: undefined,
  }
}

export const securityKind = defineKind({
  kind: 'security',
  label: 'security problem',
  writeBack: 'event',
  stateWhenUnstated: 'OPEN',
  bodyMark: 'SecurityProblemId',
  plansNothing: (p) => (p.status === 'RESOLVED' ? 'the security problem is resolved in Dynatrace: it plans nothing' : undefined),
  uiPath: (problemId) => `/#securityproblemdetails;id=${encodeURIComponent(problemId)}`,
  schema: securityPayloadSchema,
  // The SecurityProblemId a notification carries is the display id (S-1234).
  identity: (p) => ({ problemId: p.SecurityProblemId, displayId: p.SecurityProblemId, state: undefined }),
  isTest: isTestSecurity,
  facts,
})
