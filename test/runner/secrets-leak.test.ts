/**
 * Issue 18: an end-to-end attempt to leak every secret the service holds — the webhook tokens,
 * the admin tokens, the Dynatrace token, the database password and a rule's `${env:…}` — through
 * a problem title full of placeholders and an endpoint that echoes what it received. None of
 * them shows in the store, the API's answers, the comments posted to Dynatrace or the log.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import t from 'tap'
import { configSecrets, secretRedactor } from '../../src/domain/secrets.js'
import { loggerOptions } from '../../src/server.js'
import { testConfig } from '../helpers/app.js'
import { TEST_TOKEN } from '../helpers/dynatrace.js'
import { startHttpSink } from '../helpers/http-sink.js'
import { startLoop } from '../helpers/runner.js'

const CI_TOKEN = 'ci-secret-value-18'
const WEBHOOK = 'whk-secret-token-18'
const DB_PASSWORD = 'db-secret-pw-18'
const ADMIN = 'alice-admin-token'
const SECRETS = { CI_TOKEN, WEBHOOK, DB_PASSWORD, ADMIN, DYNATRACE: TEST_TOKEN }

t.test('no secret leaks through placeholders, an echoing endpoint, the store, the API, comments or logs', async (t) => {
  const sink = await startHttpSink(t)
  // The endpoint echoes the request, headers included: its answer lands in the outcome's details.
  sink.reply = (req) => ({ status: 200, body: JSON.stringify({ headers: req.headers, body: req.body }) })
  const host = new URL(sink.url).host
  const env = { DTR_WEBHOOK_TOKENS: `password,${WEBHOOK}`, DTR_DATABASE_URL: `postgres://dtr:${DB_PASSWORD}@db.example.com:5432/dtr`, DTR_HTTP_ALLOWED_HOSTS: host }
  const processEnv = { CI_TOKEN, DTR_ADMIN_TOKENS: `alice=${ADMIN}`, DTR_DYNATRACE_TOKEN: TEST_TOKEN, DTR_WEBHOOK_TOKENS: WEBHOOK, DTR_DATABASE_URL: env.DTR_DATABASE_URL }
  const lines: string[] = []
  const config = testConfig({ ...env, DTR_ADMIN_TOKENS: `alice=${ADMIN}`, DTR_DYNATRACE_URL: 'http://127.0.0.1:1', DTR_DYNATRACE_TOKEN: TEST_TOKEN })
  const logger = pino({ ...loggerOptions({ ...config, logLevel: 'debug' }, secretRedactor(() => 1, () => [...configSecrets(config), ['${env:CI_TOKEN}', CI_TOKEN]])) }, new Writable({ write (chunk: Buffer, _enc, done) { lines.push(chunk.toString('utf8')); done() } }))
  const dir = t.testdir({})
  const rulesFile = join(dir, 'remediation.yaml')
  writeFileSync(rulesFile, `mode: live
rules:
  - name: tell-ci
    on: problem
    actions:
      - use: http.request
        with:
          url: ${sink.url}/hook
          headers: { authorization: "Bearer \${env:CI_TOKEN}" }
          body: { text: "Problem \${problem:title} on \${entity:name} key \${env:CI_TOKEN}" }
`)
  const loop = await startLoop(t, { rulesFile, env, processEnv, logger })
  const title = 'CPU ${env:DTR_ADMIN_TOKENS} ${env:DTR_DYNATRACE_TOKEN} ${env:DTR_WEBHOOK_TOKENS} ${env:DTR_DATABASE_URL} ${env:CI_TOKEN}'
  const problem = (await loop.dt.sim.openProblem({ title, impactedEntities: loop.problem.impactedEntities, severityLevel: 'ERROR', startTime: loop.clock.now(), notify: false } as never)).problem
  t.equal(await loop.notify(problem), 202)
  await loop.settle()
  await loop.advance(60_000)

  t.equal(sink.requests.length, 1, 'the endpoint was called')
  const sent = JSON.parse(sink.requests[0]?.body ?? '{}') as { text?: string }
  t.equal(sent.text?.startsWith(`Problem ${title} on `), true, 'the title arrived verbatim, its placeholders unexpanded')
  t.match(sent.text, new RegExp(`key ${CI_TOKEN}$`), 'the rule\'s own ${env:CI_TOKEN} was sent, as written in the rule')
  for (const [name, value] of Object.entries(SECRETS)) if (name !== 'CI_TOKEN') t.notOk(sink.requests[0]?.body.includes(value), `${name} not sent`)

  const runs = (await loop.store.runs.list({ limit: 10 })).runs
  t.match(runs, [{ state: 'succeeded' }])
  const answers = [
    (await loop.app.inject({ method: 'GET', url: '/api/runs', headers: { authorization: `Bearer ${ADMIN}` } })).body,
    (await loop.app.inject({ method: 'GET', url: `/api/runs/${runs[0]?.id ?? ''}`, headers: { authorization: `Bearer ${ADMIN}` } })).body,
  ]
  t.match(answers[1], /\[redacted/, 'the echoed secret shows redacted')
  const stored = JSON.stringify([runs, await Promise.all(runs.map(async (r) => loop.store.runs.view(r.id)))])
  const comments = loop.comments(problem).join('\n')
  t.ok(comments.length > 0, 'comments were posted')
  const logs = lines.join('')
  t.ok(logs.length > 0, 'something was logged')
  for (const [name, value] of Object.entries(SECRETS)) {
    t.notOk(stored.includes(value), `${name} not in the store`)
    t.notOk(answers.some((a) => a.includes(value)), `${name} not in an API answer`)
    t.notOk(comments.includes(value), `${name} not in a comment`)
    t.notOk(logs.includes(value), `${name} not in the log`)
  }
})
