/**
 * Issue 18, defect 1: substitution is one pass over the rule's own text. A value from Dynatrace
 * or the notification that holds a placeholder is data: it reaches the action verbatim, at
 * planning and at execution, and never expands `${env:…}`.
 */
import fc from 'fast-check'
import { pino } from 'pino'
import t from 'tap'
import { builtinActions } from '../../actions/index.js'
import type { Enrichment, ImpactedEntity } from '../../src/domain/enrichment.js'
import { parseRules, formatDiagnostic } from '../../src/domain/rules/parse.js'
import { applyEnv, substituteDeep } from '../../src/domain/rules/placeholders.js'
import { dynatraceReader } from '../../src/dynatrace/reader.js'
import { kubernetesReader } from '../../src/kubernetes/reader.js'
import { createActionRegistry } from '../../src/sdk/index.js'
import { enrich } from '../../src/runner/enrich.js'
import { planNotification, runInputs } from '../../src/runner/plan.js'
import { startKubernetesSim } from '../helpers/kubernetes.js'
import { NOW, startDynatraceWorld } from '../helpers/world.js'

const log = pino({ level: 'silent' })
const allowedHosts = [{ host: 'ci.example.com', port: undefined }]
const env = { CI_TOKEN: 'ci-secret-token-value', DTR_ADMIN_TOKENS: 'admin=admin-secret-0123', DTR_DYNATRACE_TOKEN: 'dt0c01.SECRET' }

const RULES = `
rules:
  - name: tell-ci
    on: problem
    actions:
      - use: http.request
        with:
          url: https://ci.example.com/hooks
          headers: { authorization: "Bearer \${env:CI_TOKEN}" }
          body:
            text: "Problem \${problem:title} on \${entity:name}"
            title: "\${problem:title}"
            name: "\${entity:name}"
            tag: "\${tag:team}"
            version: "\${event:dt.event.deployment.version}"
            mixed: "\${env:CI_TOKEN}|\${problem:title}|\${env:CI_TOKEN}"
`

/** Strings that hold placeholders of every kind, among other text. */
const hostile = fc.tuple(
  fc.string({ maxLength: 6 }),
  fc.constantFrom('${env:CI_TOKEN}', '${env:DTR_ADMIN_TOKENS}', '${env:DTR_DYNATRACE_TOKEN}', '${problem:title}', '${problem:id}', '${entity:name}', '${entity:id}', '${tag:team}', '${event:dt.event.deployment.version}', '${env:NOPE}', '${'),
  fc.string({ maxLength: 6 }),
  fc.constantFrom('', '${env:CI_TOKEN}', '}', '${tag:x}')
).map((parts) => parts.join(''))

t.test('pure: a substituted value is never scanned again; only the rule text\'s ${env:} is filled in', async (t) => {
  fc.assert(fc.property(hostile, hostile, (title, name) => {
    const values = { tag: () => title, event: () => name, entity: { id: 'E-1', name, type: 'SERVICE' }, problem: { id: 'P-1', displayId: 'P-1', title, severity: undefined, url: undefined } }
    const s = substituteDeep({ a: '${problem:title}', b: ['x ${entity:name} ${env:CI_TOKEN}'], c: '${env:CI_TOKEN}' }, values)
    const done = applyEnv(s.value, s.envSites, env).value as { a: string, b: string[], c: string }
    return done.a === title && done.b[0] === `x ${name} ci-secret-token-value` && done.c === 'ci-secret-token-value'
  }), { numRuns: 500 })
})

t.test('planning and execution: hostile title, entity name, tag and event property arrive verbatim', async (t) => {
  const dt = await startDynatraceWorld(t)
  const k8s = await startKubernetesSim(t)
  const registry = createActionRegistry(builtinActions({ kubernetes: k8s.kube, allowedHosts }))
  const parsed = parseRules(RULES, { file: 'rules.yaml', env, actions: registry, allowedHosts })
  if (!parsed.ok) throw new Error(parsed.errors.map(formatDiagnostic).join('\n'))
  const base = await enrich(dt.notification, { dynatrace: dt.client, longestDeployedWithinMs: parsed.rules.longestDeployedWithinMs })
  t.match(JSON.stringify(base), '"1.4.2"', 'the world\'s deployment event has the version the test replaces')
  const readers = { dynatrace: dynatraceReader(dt.client), kubernetes: kubernetesReader(k8s.kube) }

  await fc.assert(fc.asyncProperty(hostile, hostile, hostile, hostile, async (title, name, tag, version) => {
    const entity = base.entities[0] as ImpactedEntity
    const enrichment: Enrichment = {
      ...base,
      problem: { ...base.problem, title },
      entities: [{ ...entity, name, details: entity.details === undefined ? undefined : { ...entity.details, tags: [{ key: 'team', value: tag, context: 'CONTEXTLESS' }] as never } }, ...base.entities.slice(1)],
    }
    // The entity's deployment event carries the hostile version too, where the plan reads it.
    const withEvent = JSON.parse(JSON.stringify(enrichment).split('"1.4.2"').join(JSON.stringify(version))) as Enrichment
    const plan = await planNotification({ notification: dt.notification, enrichment: withEvent, rules: parsed.rules, registry, readers, env, clusterName: undefined, occurrence: 1, plannedAt: NOW, log })
    const run = plan.rules[0]?.runs[0]
    if (run?.status !== 'planned') throw new Error(`not planned: ${run?.reason ?? '?'}`)
    const inputs = runInputs(run, { problem: plan.problem, rules: parsed.rules, readers, env, plannedAt: plan.plannedAt, signal: new AbortController().signal, log })
    const body = (inputs.params as { body: Record<string, string> }).body
    const planned = (run.plan as { body?: unknown }).body
    const ok = body.title === title && body.name === name && body.tag === tag && body.version === version &&
      body.text === `Problem ${title} on ${name}` && body.mixed === `ci-secret-token-value|${title}|ci-secret-token-value`
    if (!ok) throw new Error(`not verbatim: ${JSON.stringify({ title, name, tag, version, body, planned })}`)
    // Nothing the plan stores shows a secret, whatever the values asked for.
    const stored = JSON.stringify(run)
    for (const secret of Object.values(env)) if (stored.includes(secret)) throw new Error(`${secret} in the plan`)
  }), { numRuns: 60 })
  t.pass('every value arrived verbatim')
})
