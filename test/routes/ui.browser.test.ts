/**
 * The operator console in a real browser (issue 22): Debian's chromium driven by playwright-core
 * through executablePath. Sign in, find the approval a simulated problem asked for, approve it,
 * see the run succeed and the Kubernetes simulator restarted; a POST without the CSRF token is
 * refused; a problem title carrying <script> renders as text; signed out, a page sends you to
 * sign-in. Without chromium (DTR_CHROMIUM or /usr/bin/chromium) the test skips and says why.
 * On a failure it saves a screenshot of the page and names its path in the failure.
 *
 * DTR_UI_SCREENSHOTS=<dir> also saves every page at laptop and phone size, for a person to look at.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { chromium, type Browser, type Page } from 'playwright-core'
import t from 'tap'
import { startLoop } from '../helpers/runner.js'

const CHROMIUM = process.env.DTR_CHROMIUM ?? '/usr/bin/chromium'
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
const EVIL_TITLE = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> Failure rate increase'

if (!existsSync(CHROMIUM)) {
  t.plan(0, `chromium is not installed at ${CHROMIUM} (apt-get install chromium, or set DTR_CHROMIUM): the browser tests of the console are skipped`)
} else {
  t.test('the console in chromium: sign in, approve what a problem asked for, CSRF, escaping', async (t) => {
    const loop = await startLoop(t, { rules: APPROVAL_RULES })
    const evil = await loop.addProblem('cart', EVIL_TITLE)
    await loop.notify(evil)
    await loop.settle()
    const [run] = (await loop.store.runs.list({ limit: 5 })).runs
    t.equal(run?.state, 'awaiting_approval', 'the simulated problem left a run awaiting approval')
    const runId = run?.id ?? ''

    await loop.app.listen({ port: 0, host: '127.0.0.1' })
    const base = `http://127.0.0.1:${(loop.app.server.address() as AddressInfo).port}`
    const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
    t.teardown(() => browser.close())
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page: Page = await context.newPage()
    const scripts: string[] = []
    page.on('console', (m) => scripts.push(m.text()))
    const shots = join(tmpdir(), 'dtr-ui-screenshots')
    mkdirSync(shots, { recursive: true })

    const screenshot = async (name: string): Promise<string> => {
      const path = join(shots, `${name.replace(/\W+/g, '-')}-${Date.now()}.png`)
      await page.screenshot({ path, fullPage: true }).catch(() => undefined)
      return path
    }
    /**
     * Runs a step; when it throws or one of its assertions fails, the page's screenshot is saved
     * and its path named in the failure.
     */
    let stepFailed = false
    /** Wraps an assertion of a step (tap's return true when they pass). */
    const a = (passed: boolean): void => { if (!passed) stepFailed = true }
    const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      stepFailed = false
      let value: T
      try {
        value = await fn()
      } catch (err) {
        throw new Error(`${name}: ${(err as Error).message} (screenshot of the page: ${await screenshot(name)})`)
      }
      if (stepFailed) t.fail(`${name}: an assertion failed (screenshot of the page: ${await screenshot(name)})`)
      return value
    }

    await step('signed out, a page redirects to sign-in', async () => {
      const res = await page.goto(`${base}/ui/approvals`)
      a(t.equal(res?.status(), 200))
      a(t.equal(new URL(page.url()).pathname, '/ui/login'))
      a(t.equal(new URL(page.url()).searchParams.get('next'), '/ui/approvals'))
    })

    await step('sign in with the admin token', async () => {
      await page.getByLabel('Admin token').fill(TOKEN)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.waitForURL(`${base}/ui/approvals`)
      a(t.ok(await page.getByText('Signed in as').isVisible(), 'signed in'))
      a(t.notOk(page.url().includes(TOKEN), 'the token is not in the URL'))
      a(t.notOk((await page.content()).includes(TOKEN), 'the token is not in the page'))
    })

    await step('the pending approval is listed, the hostile title is text', async () => {
      a(t.ok(await page.getByRole('heading', { name: /kubernetes\.restart on Deployment shop\/cart/ }).isVisible(), 'the approval is listed'))
      await page.getByRole('link', { name: `Run ${runId}` }).click()
      await page.waitForURL(`${base}/ui/runs/${runId}`)
      a(t.ok(await page.getByText(EVIL_TITLE, { exact: false }).first().isVisible(), 'the title shows as the text it is'))
      a(t.equal(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined, 'nothing in the title ran'))
      a(t.equal(await page.locator('main script, main img').count(), 0, 'no element came out of the title'))
    })

    await step('a POST without the CSRF token is refused', async () => {
      const res = await page.request.post(`${base}/ui/pause`, { form: { paused: 'true', reason: 'forged' } })
      a(t.equal(res.status(), 403))
      a(t.match(await loop.store.settings.get('pause') ?? '{"paused":false}', /"paused":false/, 'not paused'))
    })

    await step('approve with a reason: the run succeeds and the deployment is restarted', async () => {
      a(t.equal(loop.k8s.sim.requests.filter((r) => r.method === 'PATCH').length, 0, 'nothing changed before the approval'))
      await page.getByLabel('Reason').fill('error rate on the dashboard, restart is safe')
      await page.getByRole('button', { name: 'Approve' }).click()
      await page.waitForURL(`${base}/ui/runs/${runId}`)
      await loop.settle()
      await page.reload()
      a(t.ok(await page.getByText('Decided: approved by alice').isVisible(), 'who decided is shown'))
      a(t.equal(await page.locator('dl.facts .state').first().textContent(), 'succeeded', 'the run succeeded'))
      a(t.equal(loop.k8s.sim.requests.filter((r) => r.method === 'PATCH').length, 1, 'the Kubernetes simulator restarted the deployment'))
      a(t.match(await loop.store.runs.view(runId), { state: 'succeeded', approvedBy: 'alice' }))
    })

    await step('signing out ends the session', async () => {
      await page.getByRole('button', { name: 'Sign out' }).click()
      await page.waitForURL(/\/ui\/login/)
      await page.goto(`${base}/ui/pause`)
      a(t.equal(new URL(page.url()).pathname, '/ui/login'))
    })
    t.same(scripts, [], 'no script ran, so none logged')

    const dir = process.env.DTR_UI_SCREENSHOTS
    if (dir !== undefined) {
      mkdirSync(dir, { recursive: true })
      await page.goto(`${base}/ui/login`)
      await page.screenshot({ path: join(dir, 'login.png'), fullPage: true })
      await page.getByLabel('Admin token').fill(TOKEN)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await loop.notify()
      await loop.settle()
      const pages = { overview: '/ui/', runs: '/ui/runs', run: `/ui/runs/${runId}`, approvals: '/ui/approvals', problem: `/ui/problems/${evil.problemId}`, pause: '/ui/pause', report: '/ui/report' }
      for (const [name, path] of Object.entries(pages)) {
        await page.goto(`${base}${path}`)
        await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true })
      }
      const phone = await context.newPage()
      await phone.setViewportSize({ width: 390, height: 844 })
      for (const name of ['overview', 'run', 'approvals'] as const) {
        await phone.goto(`${base}${pages[name]}`)
        await phone.screenshot({ path: join(dir, `${name}-phone.png`), fullPage: true })
      }
    }
  })
}
