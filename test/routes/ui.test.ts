/**
 * The operator console's HTTP contract (SPEC 11, issue 22), without a browser: the answers signed
 * out (303 to sign-in for a GET, 401 for a POST), CSRF (403), the session cookie (signed with a
 * key derived from the token, ending when the token is removed), escaping, the CSP, and that the
 * token never appears in a page, URL or log line. test/routes/ui.browser.test.ts clicks through it.
 */
import { Writable } from 'node:stream'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { pino } from 'pino'
import t, { type Test } from 'tap'
import { safeNext } from '../../src/routes/ui/session.js'
import { buildTestApp } from '../helpers/app.js'
import { startLoop } from '../helpers/runner.js'

const TOKEN = 'alice-admin-token'
const APPROVAL_RULES = `
mode: live
defaults: { approvalTimeout: 30m }
rules:
  - name: restart-with-approval
    on: problem
    when: { entityTypes: [SERVICE] }
    approval: true
    actions: [{ use: kubernetes.restart }]
`

/** The cookies a response set, as a Cookie header, merged over earlier ones. */
function jar (): { header: () => string, take: (res: LightMyRequestResponse) => void, set: (name: string, value: string) => void } {
  const cookies = new Map<string, string>()
  return {
    header: () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
    take (res) {
      for (const c of res.cookies as Array<{ name: string, value: string, maxAge?: number }>) {
        if (c.value === '' || c.maxAge === 0) cookies.delete(c.name)
        else cookies.set(c.name, c.value)
      }
    },
    set: (name, value) => { cookies.set(name, value) },
  }
}

const csrfOf = (html: string): string => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? ''

/** Signs in through the form; returns the cookie jar. */
async function signIn (t: Test, app: FastifyInstance, token = TOKEN) {
  const cookies = jar()
  const form = await app.inject({ url: '/ui/login?next=/ui/approvals' })
  t.equal(form.statusCode, 200)
  cookies.take(form)
  const res = await app.inject({ method: 'POST', url: '/ui/login', headers: { cookie: cookies.header(), 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ _csrf: csrfOf(form.body), token, next: '/ui/approvals' }).toString() })
  cookies.take(res)
  return { cookies, res }
}

t.test('signed out: a GET is redirected to sign-in with next, a POST answers 401, the stylesheet is open', async (t) => {
  const loop = await startLoop(t, { rules: APPROVAL_RULES })
  const get = await loop.app.inject({ url: '/ui/runs?state=queued' })
  t.equal(get.statusCode, 303)
  t.equal(get.headers.location, '/ui/login?next=%2Fui%2Fruns%3Fstate%3Dqueued')
  const post = await loop.app.inject({ method: 'POST', url: '/ui/pause', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'paused=true&reason=x' })
  t.equal(post.statusCode, 401)
  t.match(post.body, /signed out/)
  t.equal((await loop.app.inject({ url: '/ui/console.css' })).statusCode, 200)
  t.equal((await loop.app.inject({ url: '/ui' })).headers.location, '/ui/', '/ui goes to /ui/')
  const bad = await loop.app.inject({ method: 'POST', url: '/ui/runs/x/decide', headers: { cookie: 'dtr_session=YWxpY2U.99999999999999.forged' }, payload: {} })
  t.equal(bad.statusCode, 401, 'a forged session cookie is no session')
})

t.test('sign-in sets a signed, HttpOnly, SameSite=Strict cookie naming the token, and returns to next', async (t) => {
  const loop = await startLoop(t, { rules: APPROVAL_RULES })
  const { cookies, res } = await signIn(t, loop.app)
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, '/ui/approvals')
  const session = (res.cookies as Array<{ name: string, value: string, httpOnly?: boolean, sameSite?: string, path?: string, secure?: boolean }>).find((c) => c.name === 'dtr_session')
  t.match(session, { httpOnly: true, sameSite: 'Strict', path: '/ui' })
  t.notOk(session?.secure, 'plain http without an https DTR_PUBLIC_URL: not Secure')
  t.notMatch(session?.value ?? '', TOKEN, 'the cookie does not carry the token')
  const page = await loop.app.inject({ url: '/ui/approvals', headers: { cookie: cookies.header() } })
  t.equal(page.statusCode, 200)
  t.match(page.body, /Signed in as <strong>alice<\/strong>/)
  t.notMatch(page.body, TOKEN)
  const csp = String(page.headers['content-security-policy'])
  t.match(csp, /script-src 'none'/)
  t.notMatch(csp, /unsafe-inline/)

  const wrong = await signIn(t, loop.app, 'not-a-token')
  t.equal(wrong.res.statusCode, 401)
  t.match(wrong.res.body, /not one of the admin tokens/)
  t.notMatch(wrong.res.body, 'not-a-token', 'the presented value is not echoed')
})

t.test('the session cookie is Secure when DTR_PUBLIC_URL is https', async (t) => {
  const loop = await startLoop(t, { rules: APPROVAL_RULES, env: { DTR_PUBLIC_URL: 'https://dtr.example.com' } })
  const { res } = await signIn(t, loop.app)
  t.match((res.cookies as Array<{ name: string, secure?: boolean }>).find((c) => c.name === 'dtr_session'), { secure: true })
  const form = await loop.app.inject({ url: '/ui/login' })
  t.match((form.cookies as Array<{ name: string, secure?: boolean }>).find((c) => c.name === 'dtr_csrf'), { secure: true, httpOnly: true, sameSite: 'Strict' }, 'the CSRF secret\'s cookie too')
})

t.test('a form without its CSRF token answers 403 and changes nothing', async (t) => {
  const loop = await startLoop(t, { rules: APPROVAL_RULES })
  const { cookies } = await signIn(t, loop.app)
  const res = await loop.app.inject({ method: 'POST', url: '/ui/pause', headers: { cookie: cookies.header(), 'content-type': 'application/x-www-form-urlencoded' }, payload: 'paused=true&reason=attack' })
  t.equal(res.statusCode, 403)
  t.match(res.body, /CSRF/)
  const forged = await loop.app.inject({ method: 'POST', url: '/ui/pause', headers: { cookie: cookies.header(), 'content-type': 'application/x-www-form-urlencoded' }, payload: 'paused=true&reason=attack&_csrf=forged' })
  t.equal(forged.statusCode, 403)
  t.match((await loop.app.inject({ url: '/api/pause', headers: { authorization: `Bearer ${TOKEN}` } })).json(), { paused: false })
})

t.test('approve through the form: the same approval function as the API, who and when shown after', async (t) => {
  const loop = await startLoop(t, { rules: APPROVAL_RULES })
  await loop.notify()
  await loop.settle()
  const [run] = (await loop.store.runs.list({ limit: 5 })).runs
  t.equal(run?.state, 'awaiting_approval')
  const id = run?.id ?? ''
  t.match(loop.comments().join('\n'), new RegExp(`/ui/runs/${id}\\n[^]*curl`), 'the approval comment links to the run page, above the curl line')
  const { cookies } = await signIn(t, loop.app)
  const page = await loop.app.inject({ url: `/ui/runs/${id}`, headers: { cookie: cookies.header() } })
  cookies.take(page)
  t.match(page.body, /Approve or reject/)
  const res = await loop.app.inject({ method: 'POST', url: `/ui/runs/${id}/decide`, headers: { cookie: cookies.header(), 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ _csrf: csrfOf(page.body), decision: 'approve', reason: 'dashboards look bad', next: `/ui/runs/${id}` }).toString() })
  t.equal(res.statusCode, 303)
  await loop.settle()
  t.match(await loop.store.runs.view(id), { state: 'succeeded', approvedBy: 'alice' })
  const after = await loop.app.inject({ url: `/ui/runs/${id}`, headers: { cookie: cookies.header() } })
  // Each admission's gate results are stored with the run: the one that asked for approval, and the one that ran it.
  t.match(after.body, /<li><strong>approval<\/strong>: approval — [^<]*<\/li>/, 'the first admission stopped at the approval gate')
  t.match(after.body, /<li><strong>approval<\/strong>: pass<\/li>/, 'the second passed it')
  t.match(after.body, /<li><strong>pause<\/strong>: pass<\/li>/)
  t.match(after.body, /Decided: approved by alice from [^:]+: dashboards look bad/)
  t.notMatch(after.body, /\/decide"/, 'no decision form once decided')
  const again = await loop.app.inject({ method: 'POST', url: `/ui/runs/${id}/decide`, headers: { cookie: cookies.header(), 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ _csrf: csrfOf(after.body), decision: 'reject' }).toString() })
  t.equal(again.statusCode, 303, 'deciding again goes back to the run, which shows who decided')
  t.equal(again.headers.location, `/ui/runs/${id}?already=succeeded`)
  t.match((await loop.app.inject({ url: String(again.headers.location), headers: { cookie: cookies.header() } })).body, /Your decision changed nothing: the run was already succeeded/)
  t.match(await loop.store.runs.view(id), { state: 'succeeded' })
})

t.test('a Dynatrace title carrying <script> is text on every page', async (t) => {
  const loop = await startLoop(t, { rules: APPROVAL_RULES })
  const evil = await loop.addProblem('cart', '<script>alert(1)</script> "quoted" & <b>bold</b>')
  await loop.notify(evil)
  await loop.settle()
  const { cookies } = await signIn(t, loop.app)
  const [run] = (await loop.store.runs.list({ limit: 5 })).runs
  for (const url of ['/ui/', '/ui/runs', `/ui/runs/${run?.id ?? ''}`, '/ui/approvals', `/ui/problems/${evil.problemId}`]) {
    const res = await loop.app.inject({ url, headers: { cookie: cookies.header() } })
    t.equal(res.statusCode, 200, url)
    t.notMatch(res.body, /<script/i, `${url}: no script element`)
  }
  const detail = await loop.app.inject({ url: `/ui/runs/${run?.id ?? ''}`, headers: { cookie: cookies.header() } })
  t.match(detail.body, '&lt;script>alert(1)&lt;/script>', 'the title is in the page, escaped')
})

t.test('sign-in returns to same-origin console paths only', async (t) => {
  for (const bad of ['//evil.example/ui/', 'https://evil.example/ui/', '/\\evil.example', '/api/pause', '/uix', 'javascript:alert(1)', '/ui/../api/runs']) t.equal(safeNext(bad), '/ui/', bad)
  t.equal(safeNext('/ui/runs?state=queued'), '/ui/runs?state=queued')
  t.equal(safeNext('/ui/runs/abc'), '/ui/runs/abc')
})

t.test('the session ends when its token is removed from DTR_ADMIN_TOKENS, and survives a restart with the same tokens', async (t) => {
  const lines: string[] = []
  const sink = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done() } })
  const make = async (tokens: string): Promise<FastifyInstance> => buildTestApp(t, { env: { DTR_ADMIN_TOKENS: tokens }, logger: pino({ level: 'debug' }, sink) })
  const first = await make(`alice=${TOKEN},bob=bob-admin-token`)
  const { cookies } = await signIn(t, first)
  const restarted = await make(`alice=${TOKEN},bob=bob-admin-token`)
  t.equal((await restarted.inject({ url: '/ui/', headers: { cookie: cookies.header() } })).statusCode, 200, 'the key comes from the tokens: another process accepts the cookie')
  const removed = await make('bob=bob-admin-token')
  t.equal((await removed.inject({ url: '/ui/', headers: { cookie: cookies.header() } })).statusCode, 303, 'alice removed: her session is over')
  const rotated = await make('alice=a-new-alice-token')
  t.equal((await rotated.inject({ url: '/ui/', headers: { cookie: cookies.header() } })).statusCode, 303, 'alice rotated: her old session is over')
  t.notOk(lines.some((l) => l.includes(TOKEN)), 'the token is in no log line')
  t.ok(lines.some((l) => l.includes('console sign-in by alice')), 'the sign-in is logged by name')
})

t.test('without DTR_ADMIN_TOKENS there is no console', async (t) => {
  const app = await buildTestApp(t)
  t.equal((await app.inject({ url: '/ui/' })).statusCode, 404)
})

t.test('the kill switch: pause with a reason, resume; recorded under the token\'s name as the API does', async (t) => {
  const loop = await startLoop(t, { rules: APPROVAL_RULES })
  const { cookies } = await signIn(t, loop.app)
  const form = await loop.app.inject({ url: '/ui/pause', headers: { cookie: cookies.header() } })
  const post = async (payload: Record<string, string>) => loop.app.inject({ method: 'POST', url: '/ui/pause', headers: { cookie: cookies.header(), 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ _csrf: csrfOf(form.body), ...payload }).toString() })
  t.equal((await post({ paused: 'true', reason: '' })).statusCode, 400, 'a pause needs a reason')
  t.equal((await post({ paused: 'true', reason: 'incident <INC-42>' })).statusCode, 303)
  t.match((await loop.app.inject({ url: '/api/pause', headers: { authorization: `Bearer ${TOKEN}` } })).json(), { paused: true, reason: 'incident <INC-42>', by: 'alice' })
  const overview = await loop.app.inject({ url: '/ui/', headers: { cookie: cookies.header() } })
  t.match(overview.body, /<strong>Paused<\/strong> by alice since <time[^>]*>[^<]*<\/time>: incident &lt;INC-42>/)
  t.equal((await post({ paused: 'false' })).statusCode, 303)
  t.match((await loop.app.inject({ url: '/api/pause', headers: { authorization: `Bearer ${TOKEN}` } })).json(), { paused: false })
})

t.test('runs: filtered by state, rule, action, problem and time, paged newest first', async (t) => {
  const loop = await startLoop(t, { rules: APPROVAL_RULES })
  await loop.notify()
  for (const name of ['cart', 'search', 'payment']) await loop.notify(await loop.addProblem(name))
  await loop.settle()
  const { cookies } = await signIn(t, loop.app)
  const get = async (url: string) => (await loop.app.inject({ url, headers: { cookie: cookies.header() } })).body
  const ids = (html: string) => [...html.matchAll(/<a href="\/ui\/runs\/([0-9a-f-]+)" title=/g)].map((m) => m[1])
  const all = (await loop.store.runs.list({ limit: 10 })).runs.map((r) => r.id)
  t.equal(all.length, 4)
  t.same(ids(await get('/ui/runs')), all, 'newest first')
  t.same(ids(await get('/ui/runs?state=awaiting_approval&rule=restart-with-approval&action=kubernetes.restart')), all)
  t.same(ids(await get('/ui/runs?state=succeeded')), [])
  t.same(ids(await get('/ui/runs?action=kubernetes.rollback')), [])
  const ofProblem = (await loop.store.runs.list({ problemId: loop.problem.problemId, limit: 5 })).runs.map((r) => r.id)
  t.equal(ofProblem.length, 1)
  t.same(ids(await get(`/ui/runs?problemId=${loop.problem.displayId}`)), ofProblem, 'by display id')
  const first = await get('/ui/runs?limit=3&state=awaiting_approval')
  t.same(ids(first), all.slice(0, 3), 'a page of 3')
  const older = /<a href="([^"]+)">Older runs →<\/a>/.exec(first)?.[1]?.replaceAll('&amp;', '&') ?? ''
  t.match(older, /^\/ui\/runs\?state=awaiting_approval&limit=3&cursor=/, 'the next page keeps the filters')
  t.same(ids(await get(older)), all.slice(3), 'then the rest')
  t.same(ids(await get('/ui/runs?since=2099-01-01T00:00')), [], 'nothing created after 2099')
  t.same(ids(await get('/ui/runs?until=2000-01-01T00:00')), [])
  t.match(await get('/ui/runs?state=bogus'), /There is no state “bogus”/)
})

t.test('the problem page explains each rule from what planning kept, and the report page counts the store\'s runs', async (t) => {
  const loop = await startLoop(t, { rules: `${APPROVAL_RULES}  - name: process-groups-only\n    on: problem\n    when: { entityTypes: [PROCESS_GROUP] }\n    actions: [{ use: kubernetes.restart }]\n` })
  const problem = await loop.addProblem('cart', 'Failure rate increase')
  t.equal(await loop.notify(problem), 202)
  await loop.settle()
  const { cookies } = await signIn(t, loop.app)
  const page = await loop.app.inject({ url: `/ui/problems/${problem.problemId}`, headers: { cookie: cookies.header() } })
  t.equal(page.statusCode, 200)
  t.match(page.body, /Rule <strong>restart-with-approval<\/strong>: matched/, 'the matching rule')
  t.match(page.body, /Rule <strong>process-groups-only<\/strong>: did not match — /, 'the other rule, with the condition that failed')
  t.notMatch(page.body, /keeps no explanation/)
  const report = await loop.app.inject({ url: '/ui/report?since=30d', headers: { cookie: cookies.header() } })
  t.equal(report.statusCode, 200)
  t.notMatch(report.body, /No report is available/)
  t.match(report.body, 'restart-with-approval')
})
