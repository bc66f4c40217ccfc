/**
 * The operator console (SPEC 11, issue 22) at /ui/, registered only with DTR_ADMIN_TOKENS:
 * server-rendered pages (Preact to a string, no client script) for runs, approvals, problems,
 * the kill switch and the report. Everything it adds — cookies, form bodies, CSRF, the security
 * headers — is registered inside this plugin, so the webhooks and the JSON API are unchanged.
 *
 * Signed out, a GET is redirected (303) to /ui/login?next=<path>, a POST answers 401; a form
 * without its CSRF token answers 403 (@fastify/csrf-protection, its secret in an HttpOnly
 * SameSite=Strict cookie). The session cookie names the admin token that signed in and is signed
 * with a key derived from that token (session.ts). Approvals and the kill switch go through the
 * same functions as the API (runner.approve/reject, writePause), so the rules they enforce apply
 * here too.
 */
import fastifyCookie from '@fastify/cookie'
import fastifyCsrf from '@fastify/csrf-protection'
import fastifyFormbody from '@fastify/formbody'
import fastifyHelmet from '@fastify/helmet'
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { AdminToken } from '../../config.js'
import { kindOf } from '../../domain/kinds/index.js'
import { parseDuration } from '../../domain/rules/duration.js'
import { RUN_STATES, type Run, type RunState } from '../../domain/runs.js'
import { createTokenNamer } from '../../domain/tokens.js'
import { readPause, writePause } from '../../runner/index.js'
import { storeConsoleData, type ConsoleData } from './data.js'
import { lookUpProblem } from '../problem.js'
import { runHref, type PageContext } from './layout.js'
import { approvalsPage, errorPage, loginPage, overviewPage, pausePage, problemPage, reportPage, runPage, runsPage, type RunFilters } from './pages.js'
import { decodeSession, encodeSession, safeNext, SESSION_COOKIE, SESSION_TTL_MS, sessionSigner } from './session.js'
import { CONSOLE_CSS, FAVICON_SVG } from './style.js'

export interface ConsoleOptions {
  readonly tokens: readonly AdminToken[]
  /** DTR_PUBLIC_URL: an https one makes the cookies Secure over plain HTTP too (TLS ends at a proxy). */
  readonly publicUrl: string | undefined
  /** DTR_DYNATRACE_URL, for "open in Dynatrace" links. */
  readonly dynatraceUrl: string | undefined
  readonly data?: ConsoleData
}

type Form = Record<string, string | string[] | undefined>
const field = (body: unknown, name: string): string | undefined => {
  const v = (body as Form | undefined)?.[name]
  return typeof v === 'string' ? v : undefined
}
const query = (request: FastifyRequest, name: string): string | undefined => {
  const v = (request.query as Form | undefined)?.[name]
  return typeof v === 'string' && v !== '' ? v : undefined
}

/** Pure: the link to a problem in the Dynatrace web UI. */
function dynatraceProblemLink (dynatraceUrl: string | undefined, run: Pick<Run, 'kind' | 'problemId'>): string | undefined {
  if (dynatraceUrl === undefined) return undefined
  const base = dynatraceUrl.replace(/\/+$/, '')
  return `${base}${kindOf(run.kind).uiPath(run.problemId)}`
}

/** A `datetime-local` value (read as UTC) to ms epoch; undefined when empty or not a time. */
const utcInput = (v: string | undefined): number | undefined => {
  if (v === undefined || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(v)) return undefined
  const ms = Date.parse(`${v}Z`)
  return Number.isFinite(ms) ? ms : undefined
}

/** The problem's title from a run's facts (what enrichment read), when there is one. */
const titleOf = (facts: unknown): string | undefined => {
  const title = (facts as { problem?: { title?: unknown } } | undefined)?.problem?.title
  return typeof title === 'string' ? title : undefined
}

const consoleRoutes: FastifyPluginAsync<ConsoleOptions> = async (fastify, options) => {
  const data = options.data ?? storeConsoleData(fastify.store)
  const httpsPublic = options.publicUrl?.startsWith('https:') === true
  const secure = (request: FastifyRequest): boolean => httpsPublic || request.protocol === 'https'
  const now = (): number => fastify.store.clock.now()

  const nameOf = createTokenNamer(options.tokens)
  await fastify.register(fastifyCookie, { secret: sessionSigner(options.tokens), hook: 'onRequest' })
  await fastify.register(fastifyFormbody, { bodyLimit: 16_384 })
  await fastify.register(fastifyCsrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: 'dtr_csrf',
    cookieOpts: { path: '/ui', sameSite: 'strict', httpOnly: true, signed: false, secure: httpsPublic },
  })
  await fastify.register(fastifyHelmet, {
    // No script at all, styles from the one stylesheet: nothing inline is allowed.
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'none'"],
        'script-src': ["'none'"],
        'style-src': ["'self'"],
        'img-src': ["'self'"],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
        'base-uri': ["'none'"],
        ...(httpsPublic ? { 'upgrade-insecure-requests': [] } : {}),
      },
    },
    // HSTS only where the console is served over https (an http test or demo would be pinned).
    strictTransportSecurity: httpsPublic,
    referrerPolicy: { policy: 'same-origin' },
  })

  /** The signed-in admin's name, or undefined: bad signature, removed token, expired. */
  const sessionOf = (request: FastifyRequest): string | undefined => {
    const raw = request.cookies[SESSION_COOKIE]
    if (raw === undefined) return undefined
    const unsigned = request.unsignCookie(raw)
    const session = unsigned.valid && unsigned.value !== null ? decodeSession(unsigned.value) : undefined
    if (session === undefined || session.expiresAt <= now()) return undefined
    return session.name
  }

  const OPEN = new Set(['/ui', '/ui/login', '/ui/console.css', '/ui/favicon.svg'])
  fastify.addHook('onRequest', async (request, reply) => {
    reply.header('cache-control', 'no-store')
    const path = request.routeOptions.url ?? ''
    if (OPEN.has(path)) return
    const name = sessionOf(request)
    if (name !== undefined) {
      request.admin = { name }
      return
    }
    if (request.method === 'GET' || request.method === 'HEAD') {
      const next = safeNext(request.url)
      return reply.code(303).redirect(`/ui/login?${new URLSearchParams({ next }).toString()}`, 303)
    }
    reply.code(401).type('text/html; charset=utf-8')
    return reply.send(errorPage(context(request, reply, false), 401, 'You are signed out (or your session ended): sign in again, then repeat what you did.'))
  })

  function context (request: FastifyRequest, reply: FastifyReply, withCsrf = true): PageContext {
    return { who: request.admin?.name, csrf: withCsrf ? reply.generateCsrf() : '', now: now() }
  }
  const html = (reply: FastifyReply, body: string, status = 200): FastifyReply => reply.code(status).type('text/html; charset=utf-8').send(body)

  fastify.setErrorHandler(async (err: FastifyError, request, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500
    const message = err.code?.startsWith('FST_CSRF') === true
      ? 'This form did not carry a valid CSRF token (it expired, or it did not come from this console). Reload the page and try again.'
      : status === 500 ? 'The console could not answer; the service log has the details.' : err.message
    if (status === 500) request.log.error({ err }, 'console request failed')
    request.logFields = { ...request.logFields, code: err.code }
    return html(reply, errorPage(context(request, reply, false), status, message), status)
  })

  // Each POST is checked for its CSRF token once its form body is parsed (after the session check).
  const csrf = { preHandler: fastify.csrfProtection }

  fastify.get('/ui/console.css', async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(CONSOLE_CSS))

  fastify.get('/ui', async (_request, reply) => reply.redirect('/ui/', 303))

  fastify.get('/ui/favicon.svg', async (_request, reply) => reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(FAVICON_SVG))

  fastify.get('/ui/login', async (request, reply) => {
    return html(reply, loginPage({ ...context(request, reply), who: undefined }, safeNext(query(request, 'next')), undefined))
  })

  fastify.post('/ui/login', csrf, async (request, reply) => {
    const next = safeNext(field(request.body, 'next'))
    const presented = field(request.body, 'token') ?? ''
    const name = presented === '' ? undefined : nameOf(presented.trim())
    if (name === undefined) {
      request.log.info({ event: 'console-sign-in-refused', from: request.ip }, 'console sign-in refused: not an admin token')
      return html(reply, loginPage({ ...context(request, reply), who: undefined }, next, 'That is not one of the admin tokens.'), 401)
    }
    reply.setCookie(SESSION_COOKIE, encodeSession({ name, expiresAt: now() + SESSION_TTL_MS }), { path: '/ui', httpOnly: true, sameSite: 'strict', secure: secure(request), signed: true, maxAge: SESSION_TTL_MS / 1000 })
    request.log.info({ event: 'console-sign-in', by: name, from: request.ip }, `console sign-in by ${name}`)
    return reply.redirect(next, 303)
  })

  fastify.post('/ui/logout', csrf, async (request, reply) => {
    reply.clearCookie(SESSION_COOKIE, { path: '/ui' })
    request.log.info({ event: 'console-sign-out', by: request.admin?.name }, 'console sign-out')
    return reply.redirect('/ui/login', 303)
  })

  const awaiting = async (): Promise<Run[]> => (await fastify.store.runs.list({ state: 'awaiting_approval', limit: 100 })).runs

  fastify.get('/ui/', async (request, reply) => {
    const rules = fastify.rules.current
    const last = fastify.rules.lastReload
    const reconcile = await fastify.metrics.reconcile.get()
    const count = (outcome: string): number => reconcile.values.filter((v) => v.labels.outcome === outcome).reduce((a, v) => a + v.value, 0)
    return html(reply, overviewPage(context(request, reply), {
      mode: rules.rules.mode,
      pause: await readPause(fastify.store),
      awaiting: await awaiting(),
      backlog: await fastify.store.outbox.backlog(),
      reconcile: `Passes since this process started: ${count('success')} succeeded, ${count('failure')} could not read Dynatrace, ${count('skipped')} left to another replica.`,
      rules: { count: rules.rules.rules.length, loadedAt: fastify.rules.loadedAt, lastReload: last === undefined ? 'none since start' : last.ok ? `succeeded at ${new Date(last.at).toISOString()}` : `refused at ${new Date(last.at).toISOString()} (${last.errors.join('; ')}); the previous rules stay` },
    }))
  })

  fastify.get('/ui/runs', async (request, reply) => {
    const state = query(request, 'state')
    const filters: RunFilters = { state, rule: query(request, 'rule'), action: query(request, 'action'), problemId: query(request, 'problemId'), since: query(request, 'since'), until: query(request, 'until') }
    const validState = state === undefined || (RUN_STATES as readonly string[]).includes(state)
    const cursor = query(request, 'cursor')
    const asked = Number(query(request, 'limit') ?? 25)
    const limit = Number.isInteger(asked) && asked >= 1 && asked <= 100 ? asked : 25
    const result = validState
      ? await fastify.store.runs.list({ state: state as RunState | undefined, rule: filters.rule, action: filters.action, problemId: filters.problemId, since: utcInput(filters.since), until: utcInput(filters.until), limit, cursor })
      : { runs: [], nextCursor: null }
    const error = validState ? undefined : `There is no state “${state ?? ''}”.`
    const rules = fastify.rules.current.rules.rules.map((r) => r.name)
    const actions = [...new Set(fastify.rules.current.rules.rules.flatMap((r) => r.ladder.map((a) => a.use)))]
    return html(reply, runsPage(context(request, reply), { ...result, filters: { ...filters, ...(limit === 25 ? {} : { limit: String(limit) }) }, rules, actions, error }))
  })

  fastify.get<{ Params: { id: string } }>('/ui/runs/:id', async (request, reply) => {
    const run = await fastify.store.runs.view(request.params.id)
    if (run === undefined) return html(reply, errorPage(context(request, reply), 404, `No run ${request.params.id}.`), 404)
    const record = await fastify.store.runs.get(run.id)
    const outbox = await fastify.store.outbox.byRun(run.id)
    return html(reply, runPage(context(request, reply), {
      run,
      plan: record?.plan ?? null,
      gates: record?.gates ?? [],
      comments: outbox.map((w) => {
        const p = w.payload as { message?: unknown, title?: unknown }
        return { kind: w.kind, text: typeof p.message === 'string' ? p.message : typeof p.title === 'string' ? p.title : JSON.stringify(w.payload), state: w.state, at: w.createdAt, deliveredAt: w.deliveredAt }
      }),
      dynatraceLink: dynatraceProblemLink(options.dynatraceUrl, run),
      problemTitle: titleOf(record?.facts),
      alreadyState: RUN_STATES.find((s) => s === query(request, 'already')),
    }))
  })

  fastify.post<{ Params: { id: string } }>('/ui/runs/:id/decide', csrf, async (request, reply) => {
    const decision = field(request.body, 'decision')
    if (decision !== 'approve' && decision !== 'reject') return html(reply, errorPage(context(request, reply), 400, 'Choose Approve or Reject.'), 400)
    const reason = (field(request.body, 'reason') ?? '').trim().slice(0, 500)
    const id = request.params.id
    const name = request.admin?.name ?? 'admin'
    const result = await fastify.runner[decision](id, { tokenName: name, reason: reason === '' ? undefined : reason, from: request.ip })
    if (!result.ok) {
      if (result.status === 404) return html(reply, errorPage(context(request, reply), 404, `No run ${id}.`), 404)
      return reply.redirect(`${runHref(id)}?already=${encodeURIComponent(result.state ?? 'decided')}`, 303)
    }
    request.log.info({ runId: id, by: name, from: request.ip, via: 'console' }, `run ${decision === 'approve' ? 'approved' : 'rejected'}`)
    return reply.redirect(safeNext(field(request.body, 'next') ?? runHref(id)), 303)
  })

  fastify.get('/ui/approvals', async (request, reply) => {
    const recent = await fastify.store.runs.list({ limit: 100 })
    const decided = recent.runs.filter((r) => r.state !== 'awaiting_approval' && r.timeline.some((e) => e.state === 'awaiting_approval')).slice(0, 20)
    return html(reply, approvalsPage(context(request, reply), { awaiting: await awaiting(), decided }))
  })

  fastify.get<{ Params: { pid: string } }>('/ui/problems/:pid', async (request, reply) => {
    const { pid } = request.params
    const found = await lookUpProblem(fastify.store, pid)
    if (found === undefined) return html(reply, errorPage(context(request, reply), 404, `No problem ${pid} has reached dt-remediator.`), 404)
    const { runs, problemId, kind, notifications, tracked } = found
    return html(reply, problemPage(context(request, reply), {
      problemId,
      status: tracked?.status ?? null,
      occurrence: tracked?.occurrence ?? null,
      notifications: notifications.map((n) => ({ id: n.id, state: n.state ?? 'unknown', receivedAt: n.receivedAt, source: n.source, displayId: n.displayId })),
      runs,
      explanations: await data.explanations(kind, problemId),
      dynatraceLink: dynatraceProblemLink(options.dynatraceUrl, { kind, problemId }),
      title: runs[0] === undefined ? undefined : titleOf((await fastify.store.runs.get(runs[0].id))?.facts),
    }))
  })

  fastify.get('/ui/pause', async (request, reply) => html(reply, pausePage(context(request, reply), await readPause(fastify.store))))

  fastify.post('/ui/pause', csrf, async (request, reply) => {
    const paused = field(request.body, 'paused') === 'true'
    const reason = (field(request.body, 'reason') ?? '').trim().slice(0, 500)
    if (paused && reason === '') return html(reply, errorPage(context(request, reply), 400, 'Say why you pause: everyone sees it.'), 400)
    const by = request.admin?.name ?? 'admin'
    // As PUT /api/pause does: the setting every replica reads, the gauge, one warning line, a wake on resume.
    await writePause(fastify.store, paused ? { paused, reason, since: now(), by } : { paused: false })
    fastify.metrics.paused.set(paused ? 1 : 0)
    request.log.warn({ event: paused ? 'paused' : 'resumed', by, from: request.ip, reason, via: 'console' }, paused ? `kill switch ON by ${by}: no new execution starts (${reason})` : `kill switch OFF by ${by}: executions start again`)
    if (!paused) fastify.runner.wake()
    return reply.redirect('/ui/pause', 303)
  })

  fastify.get('/ui/report', async (request, reply) => {
    const asked = query(request, 'since') ?? '30d'
    const since = ['24h', '7d', '30d', '90d'].includes(asked) ? asked : '30d'
    const report = await data.report(now() - (parseDuration(since) ?? 30 * 86_400_000))
    return html(reply, reportPage(context(request, reply), report, since))
  })
}

export default consoleRoutes
