/** GET /openapi.json: the OpenAPI document of every route, generated from their zod schemas. */
import type { FastifyPluginAsync } from 'fastify'

const openApiRoute: FastifyPluginAsync = async (fastify) => {
  fastify.get('/openapi.json', { schema: { hide: true } }, async () => fastify.swagger())
}

export default openApiRoute
