import Fastify from 'fastify'
import t, { type Test } from 'tap'
import adminAuth from '../../plugins/admin-auth.js'
import errorHandler from '../../plugins/error-handler.js'

async function app (t: Test) {
  const fastify = Fastify()
  await fastify.register(errorHandler)
  await fastify.register(adminAuth, { tokens: [{ name: 'alice', token: 'alice-token-1' }, { name: 'ci', token: 'ci-old-token' }, { name: 'ci', token: 'ci-new-token' }] })
  fastify.get('/api/whoami', { onRequest: fastify.adminAuth }, async (request) => ({ name: request.admin?.name }))
  t.teardown(() => fastify.close())
  return fastify
}

t.test('a valid Bearer token passes and names the caller', async (t) => {
  const fastify = await app(t)
  const res = await fastify.inject({ url: '/api/whoami', headers: { authorization: 'Bearer alice-token-1' } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { name: 'alice' })
  for (const token of ['ci-old-token', 'ci-new-token']) {
    t.same((await fastify.inject({ url: '/api/whoami', headers: { authorization: `Bearer ${token}` } })).json(), { name: 'ci' }, 'rotated tokens share a name')
  }
})

t.test('no token, a wrong one, or another scheme answers 401 with WWW-Authenticate', async (t) => {
  const fastify = await app(t)
  for (const headers of [{}, { authorization: 'Bearer nope-nope-nope' }, { authorization: `Basic ${Buffer.from('x:alice-token-1').toString('base64')}` }]) {
    const res = await fastify.inject({ url: '/api/whoami', headers })
    t.equal(res.statusCode, 401)
    t.match(res.headers['www-authenticate'], /Bearer/)
    t.match(res.json(), { code: 'DTR_ERR_UNAUTHORIZED', message: /valid admin token/ })
  }
})
