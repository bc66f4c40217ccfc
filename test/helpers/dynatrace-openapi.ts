/**
 * Validates simulator responses against the component schemas of the Dynatrace Environment API
 * v2 OpenAPI document in ../shared/dynatrace/openapi/env-v2.json (beside the repository, as in
 * CI). The schemas are compiled from the document itself, never copied.
 *
 * OpenAPI 3.0 notes: `nullable` is an Ajv keyword; `discriminator` mappings point back at their
 * base schema through allOf, which Ajv's discriminator support rejects, so the keyword is ignored
 * (strict: false) and each item is checked against the base schema's properties and requirements.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Ajv } from 'ajv'
import type { ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'

export const openApiPath = fileURLToPath(new URL('../../../shared/dynatrace/openapi/env-v2.json', import.meta.url))

interface OpenApiDocument {
  components: { schemas: Record<string, unknown> }
  paths: Record<string, Record<string, { operationId?: string, 'x-token-scopes'?: string[], responses?: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }> }>>
}

export const openApi = JSON.parse(readFileSync(openApiPath, 'utf8')) as OpenApiDocument

// ajv-formats is CommonJS: under NodeNext the default import is module.exports, whose `default`
// property is the plugin function (the package sets both).
const addFormats = (addFormatsModule as unknown as { default: (ajv: Ajv) => Ajv }).default

const ajv = new Ajv({ strict: false, allErrors: true })
addFormats(ajv)
// OpenAPI's numeric formats are descriptive; Ajv only needs to know them.
for (const f of ['int32', 'int64', 'float', 'double']) ajv.addFormat(f, { type: 'number', validate: () => true })

/**
 * One known defect of the document, patched on a copy and nowhere else: `Entity.properties` types
 * every property value as an object, while the document's own Entity example (and every real
 * tenant) has scalars and arrays (`"bitness": 64`, `"namespaceName": "shop"`). The OpenAPI test
 * checks that the defect is still there, so the patch goes when Dynatrace fixes the document.
 */
export const ENTITY_PROPERTIES_DEFECT = { schema: 'Entity', declared: { type: 'object' } } as const

function patched (schemas: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(schemas) as Record<string, { properties?: Record<string, { additionalProperties?: unknown }> }>
  const props = copy.Entity?.properties?.properties
  if (props !== undefined) props.additionalProperties = {}
  return copy
}

ajv.addSchema({ components: { schemas: patched(openApi.components.schemas) } }, 'env-v2')

const compiled = new Map<string, ValidateFunction>()

/** Pure: the component schema name of an operation's response for a status code. */
export function responseSchemaName (operationId: string, status: number): string | undefined {
  for (const methods of Object.values(openApi.paths)) {
    for (const op of Object.values(methods)) {
      if (op.operationId !== operationId) continue
      const content = op.responses?.[String(status)]?.content
      const ref = content === undefined ? undefined : Object.values(content)[0]?.schema?.$ref
      return ref?.split('/').pop()
    }
  }
  return undefined
}

/** Errors of `data` against components/schemas/<name>, as readable lines; empty when valid. */
export function schemaErrors (name: string, data: unknown): string[] {
  let validate = compiled.get(name)
  if (validate === undefined) {
    const v = ajv.getSchema(`env-v2#/components/schemas/${name}`)
    if (v === undefined) throw new Error(`No component schema ${name} in ${openApiPath}`)
    validate = v
    compiled.set(name, v)
  }
  return validate(data) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
}

/** The token scope the OpenAPI document requires for an operation. */
export function scopeOf (operationId: string): string | undefined {
  for (const methods of Object.values(openApi.paths)) {
    for (const op of Object.values(methods)) if (op.operationId === operationId) return op['x-token-scopes']?.[0]
  }
  return undefined
}
