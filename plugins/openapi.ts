/**
 * The OpenAPI document (SPEC 11), generated from the routes' zod schemas — the same ones that
 * validate the requests and type the handlers — by @fastify/swagger with
 * fastify-type-provider-zod's transform. Registered before the routes, whose schemas it collects;
 * src/routes/health.ts serves it at /openapi.json.
 */
import swagger from '@fastify/swagger'
import fp from 'fastify-plugin'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'

export interface OpenApiOptions {
  readonly version: string
}

export default fp<OpenApiOptions>(async function openApiPlugin (fastify, options) {
  await fastify.register(swagger, {
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
  })
}, { name: 'openapi', fastify: '5.x' })
