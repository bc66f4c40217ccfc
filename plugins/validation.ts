/**
 * Schema validation with zod (the design card: Fastify plugins handle schema validation). Route
 * schemas are the zod schemas of src/domain — the same ones that type the handlers through
 * fastify-type-provider-zod and feed /openapi.json — and a failure becomes one of our coded
 * errors whose message names every missing or invalid field, as Dynatrace shows it to a user
 * pressing "Send test notification": `Missing PID: add "PID":"{PID}" to the custom payload`.
 *
 * The root gets DTR_ERR_INVALID_REQUEST; a route plugin that validates something else (the
 * webhooks: DTR_ERR_INVALID_PAYLOAD) sets `fastify.zodValidator(code)` as its own compiler.
 */
import type { FastifySchemaCompiler } from 'fastify'
import fp from 'fastify-plugin'
import { serializerCompiler } from 'fastify-type-provider-zod'
import type { z } from 'zod'
import { compileFastParse, NOT_SURE } from '../src/domain/fast-parse.js'
import { describeIssues } from '../src/domain/payload.js'
import { DtrError, type ErrorCode } from '../src/errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    zodValidator(code: ErrorCode): FastifySchemaCompiler<z.ZodType>
  }
}

export function zodValidator (code: ErrorCode): FastifySchemaCompiler<z.ZodType> {
  return ({ schema }) => {
    // The schema's compiled fast path (src/domain/fast-parse.ts) answers the bodies it is sure
    // of with zod's own output; zod runs for the rest, and words every refusal.
    const fast = compileFastParse(schema)
    return (data) => {
      if (fast !== undefined) {
        const value = fast(data)
        if (value !== NOT_SURE) return { value }
      }
      return parse(schema, data, code)
    }
  }
}

function parse (schema: z.ZodType, data: unknown, code: ErrorCode): { value: unknown } | { error: DtrError } {
  const result = schema.safeParse(data)
  if (result.success) return { value: result.data }
  const errors = describeIssues(result.error.issues, data)
  return { error: new DtrError(code, errors.join('; '), { details: { errors } }) }
}

export default fp(async function validationPlugin (fastify) {
  fastify.decorate('zodValidator', zodValidator)
  fastify.setValidatorCompiler(zodValidator('DTR_ERR_INVALID_REQUEST'))
  fastify.setSerializerCompiler(serializerCompiler)
}, { name: 'validation', fastify: '5.x' })
