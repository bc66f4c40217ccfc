/**
 * The OpenAPI document (SPEC 11), generated from the routes' zod schemas — the same ones that
 * validate the requests and type the handlers — by @fastify/swagger with
 * fastify-type-provider-zod's transform. Registered before the routes, whose schemas it collects;
 * src/routes/openapi.ts serves it at /openapi.json.
 *
 * @fastify/swagger is loaded when the document is first asked for, not at start-up: loading and
 * registering it (some 30 modules) was a tenth of the service's start-up, for a document that
 * people and tools read now and then. Until then this plugin records what @fastify/swagger's own
 * hooks would have seen (every route and every encapsulated instance, as they are added), and then
 * hands them to it, on an app that is ready by then, so the document is the same.
 */
import type { SwaggerOptions } from '@fastify/swagger'
import type { FastifyInstance, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'

/** What @fastify/swagger's `fastify.swagger()` returns: the OpenAPI document. */
export type OpenApiDocument = ReturnType<FastifyInstance['swagger']>

declare module 'fastify' {
  interface FastifyInstance {
    /** The OpenAPI document of every route registered after this plugin; once the app is ready. */
    openApiDocument(): Promise<OpenApiDocument>
  }
}

export interface OpenApiOptions {
  readonly version: string
}

/** The hooks @fastify/swagger adds and what it decorates, as its stand-in app takes them. */
interface SwaggerStandIn {
  onRoute?: (route: RouteOptions) => void
  onRegister?: (instance: FastifyInstance) => Promise<void> | void
  onReady?: (done: (err?: Error) => void) => void
  swagger?: FastifyInstance['swagger']
}

export default fp<OpenApiOptions>(async function openApiPlugin (fastify, options) {
  const routes: RouteOptions[] = []
  const instances: FastifyInstance[] = []
  fastify.addHook('onRoute', (route) => { routes.push(route) })
  fastify.addHook('onRegister', (instance) => { instances.push(instance) })

  const swaggerOptions: SwaggerOptions = {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'dt-remediator',
        version: options.version,
        description: 'Turns Dynatrace AI-detected problems into safe, audited remediation. The webhooks take Dynatrace\'s problem and security notifications; the admin API (Bearer DTR_ADMIN_TOKENS) reads runs and problems, approves and rejects runs, and holds the kill switch.',
      },
      components: {
        securitySchemes: {
          webhookToken: { type: 'http', scheme: 'bearer', description: 'DTR_WEBHOOK_TOKENS (also as Basic password or in DTR_WEBHOOK_TOKEN_HEADER)' },
          adminToken: { type: 'http', scheme: 'bearer', description: 'DTR_ADMIN_TOKENS' },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  }

  /** @fastify/swagger registered on a stand-in of this app, given what the app has seen. */
  const load = async (): Promise<FastifyInstance['swagger']> => {
    const { fastifySwagger } = await import('@fastify/swagger')
    const standIn: SwaggerStandIn = {}
    const app = {
      addHook: (name: 'onRoute' | 'onRegister' | 'onReady', hook: never) => { standIn[name] = hook },
      decorate: (name: 'swagger', value: FastifyInstance['swagger']) => { standIn[name] = value },
      getSchemas: () => fastify.getSchemas(),
    }
    await new Promise<void>((resolve, reject) => {
      fastifySwagger(app as unknown as FastifyInstance, swaggerOptions, (err?: Error) => { if (err === undefined) resolve(); else reject(err) })
    })
    const { onRoute, onRegister, onReady, swagger } = standIn
    if (onRoute === undefined || onRegister === undefined || onReady === undefined || swagger === undefined) {
      throw new Error('@fastify/swagger no longer registers as plugins/openapi.ts expects (onRoute, onRegister and onReady hooks, a swagger decorator)')
    }
    for (const instance of instances) await onRegister(instance)
    for (const route of routes) onRoute(route)
    await new Promise<void>((resolve, reject) => { onReady((err) => { if (err === undefined) resolve(); else reject(err) }) })
    return swagger
  }
  let swagger: Promise<FastifyInstance['swagger']> | undefined
  fastify.decorate('openApiDocument', async () => {
    swagger ??= load().catch((err: unknown) => { swagger = undefined; throw err })
    return (await swagger)()
  })
}, { name: 'openapi', fastify: '5.x' })
