/**
 * SIGHUP on the real process: a good rules file is swapped in, a bad one is refused with its
 * errors logged and the old rules stay; the `_FILE` secrets are re-read, so a webhook token
 * rotates without a restart. A bad file at start-up stops the process with the errors on stderr.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import t from 'tap'
import { request } from 'undici'
import { sample } from './helpers/samples.js'
import { startServer, type ServerProcess } from './helpers/server-process.js'

const rule = (name: string): string => `  - name: ${name}\n    on: problem\n    actions:\n      - use: kubernetes.restart\n`
const rulesFile = (...names: string[]): string => `rules:\n${names.map(rule).join('')}`

/**
 * The request, repeated while the service sheds load (503 DTR_ERR_UNAVAILABLE from under-pressure,
 * which a start-up on a busy machine can trip for a moment). Dynatrace resends on a 503 too; what
 * the test asserts does not depend on how many tries it took.
 */
async function unlessOverloaded (send: () => Promise<{ status: number, body: string }>): Promise<{ status: number, body: string }> {
  for (let attempt = 1; ; attempt++) {
    const res = await send()
    if (res.status !== 503 || !res.body.includes('DTR_ERR_UNAVAILABLE') || attempt >= 100) return res
    await delay(100)
  }
}

async function get (url: string): Promise<{ status: number, body: string }> {
  return unlessOverloaded(async () => {
    const res = await request(url)
    return { status: res.statusCode, body: await res.body.text() }
  })
}

async function reloadsMetric (server: ServerProcess): Promise<string> {
  return (await get(`${server.url}/metrics`)).body.split('\n').filter((l) => l.startsWith('dtr_rules_reloads_total')).join('\n')
}

async function post (server: ServerProcess, token: string, pid: string): Promise<number> {
  const res = await unlessOverloaded(async () => {
    const r = await request(`${server.url}/webhooks/problem`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ ...sample('problem-open.json'), PID: pid }) })
    return { status: r.statusCode, body: await r.body.text() }
  })
  return res.status
}

t.test('SIGHUP reloads a good file, refuses a bad one (the old rules stay), and rotates _FILE tokens', async (t) => {
  const dir = t.testdir({ 'rules.yaml': rulesFile('first'), tokens: 'first-token-1\n', data: {} })
  const server = await startServer(t, { DTR_DATA_DIR: join(dir, 'data'), DTR_RULES_FILE: join(dir, 'rules.yaml'), DTR_WEBHOOK_TOKENS_FILE: join(dir, 'tokens') })
  const ready = await get(`${server.url}/readyz`)
  t.same(JSON.parse(ready.body), { status: 'ready', checks: { store: 'ok', rules: 'loaded' } })
  t.equal(await post(server, 'first-token-1', 'P-1'), 202)

  writeFileSync(join(dir, 'rules.yaml'), rulesFile('first', 'second'))
  writeFileSync(join(dir, 'tokens'), 'second-token-2\n')
  server.child.kill('SIGHUP')
  const reloaded = await server.waitForLog((e) => e.event === 'rules-reloaded')
  t.match(reloaded, { rules: 2, msg: 'rules reloaded: 2 rules in dry-run mode' })
  t.equal(await post(server, 'second-token-2', 'P-2'), 202, 'the new token is accepted')
  t.equal(await post(server, 'first-token-1', 'P-3'), 401, 'the old one no longer')
  t.match(await reloadsMetric(server), /dtr_rules_reloads_total\{outcome="success"\} 1/)

  writeFileSync(join(dir, 'rules.yaml'), 'rules:\n  - name: broken\n    on: problem\n    when: { deployedWithin: 10x }\n    actions: [{ use: kubernetes.restart }]\n')
  server.child.kill('SIGHUP')
  const refused = await server.waitForLog((e) => e.event === 'rules-reload-refused')
  t.match(refused, { level: 50, errors: [/rules\.yaml:4:29: rules\[0\]\.when\.deployedWithin: "10x" is not a duration/] })
  t.match(await reloadsMetric(server), /dtr_rules_reloads_total\{outcome="failure"\} 1/)
  const still = await get(`${server.url}/readyz`)
  t.equal(still.status, 200, 'still ready, on the old rules')

  writeFileSync(join(dir, 'rules.yaml'), rulesFile('third'))
  server.child.kill('SIGHUP')
  t.match(await server.waitForLog((e) => e.event === 'rules-reloaded' && e.rules === 1), { msg: 'rules reloaded: 1 rules in dry-run mode' }, 'a fixed file loads again')

  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0)
})

t.test('a bad rules file stops start-up with every error on stderr', async (t) => {
  const dir = t.testdir({ 'rules.yaml': 'rules:\n  - name: a\n    on: problem\n    actions: [{ use: kubernetes.rolback }]\n  - name: a\n    on: problem\n    actions: [{ use: kubernetes.restart }]\n', data: {} })
  await t.rejects(startServer(t, { DTR_DATA_DIR: join(dir, 'data'), DTR_RULES_FILE: join(dir, 'rules.yaml'), DTR_WEBHOOK_TOKENS: 'first-token-1' }),
    /server exited \(1\) before listening: dt-remediator: the rules file is invalid:\n {2}\S+rules\.yaml:4:22: rules\[0\]\.actions\[0\]\.use: unknown action "kubernetes\.rolback" \(did you mean "kubernetes\.rollback"\?\)[^\n]*\n {2}\S+rules\.yaml:5:11: rules\[1\]\.name: duplicate rule name "a"/)
})
