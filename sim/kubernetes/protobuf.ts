/**
 * kubectl 1.32's typed clients send request bodies as Kubernetes protobuf
 * (`application/vnd.kubernetes.protobuf`): `kubectl create deployment` and `kubectl create
 * namespace` do. This decodes that envelope (the `k8s\0` magic, then a runtime.Unknown holding
 * TypeMeta and the object's bytes) into the object's JSON form, for the kinds and fields those
 * commands write, with the field numbers of k8s.io/api's generated.proto. The JSON follows Go's
 * encoding of the same object: empty scalars left out unless the field is a pointer or has no
 * omitempty, empty structs as `{}`, a zero metav1.Time as null.
 *
 * A field number outside these tables is refused with 415 naming it, never dropped: a silently
 * lost field would make the simulator store something else than kubectl sent. Answers are JSON
 * (kubectl accepts it), so no encoder is needed.
 */
import { statusErrors } from './status.js'

type Scalar = 'string' | 'int' | 'bool' | 'bytes'
/** [JSON name, type, flags]: r = repeated, k = keep zero values (a pointer, or no omitempty). */
type Field = readonly [name: string, type: Scalar | Msg | Special, flags?: string]
interface Msg { readonly name: string, readonly fields: Readonly<Record<number, Field>> }
type Special = 'time' | 'map' | 'quantityMap' | 'intOrString' | 'ignored'

const msg = (name: string, fields: Record<number, Field>): Msg => ({ name, fields })

const TypeMeta = msg('TypeMeta', { 1: ['apiVersion', 'string'], 2: ['kind', 'string'] })
const Unknown = msg('Unknown', { 1: ['typeMeta', TypeMeta], 2: ['raw', 'bytes'], 3: ['contentEncoding', 'string'], 4: ['contentType', 'string'] })
const OwnerReference = msg('OwnerReference', { 1: ['kind', 'string', 'k'], 3: ['name', 'string', 'k'], 4: ['uid', 'string', 'k'], 5: ['apiVersion', 'string', 'k'], 6: ['controller', 'bool', 'k'], 7: ['blockOwnerDeletion', 'bool', 'k'] })
const ObjectMeta = msg('ObjectMeta', {
  1: ['name', 'string'],
  2: ['generateName', 'string'],
  3: ['namespace', 'string'],
  4: ['selfLink', 'string'],
  5: ['uid', 'string'],
  6: ['resourceVersion', 'string'],
  7: ['generation', 'int'],
  8: ['creationTimestamp', 'time'],
  9: ['deletionTimestamp', 'time'],
  10: ['deletionGracePeriodSeconds', 'int', 'k'],
  11: ['labels', 'map'],
  12: ['annotations', 'map'],
  13: ['ownerReferences', OwnerReference, 'r'],
  14: ['finalizers', 'string', 'r'],
  17: ['managedFields', 'ignored'],
})
const LabelSelectorRequirement = msg('LabelSelectorRequirement', { 1: ['key', 'string', 'k'], 2: ['operator', 'string', 'k'], 3: ['values', 'string', 'r'] })
const LabelSelector = msg('LabelSelector', { 1: ['matchLabels', 'map'], 2: ['matchExpressions', LabelSelectorRequirement, 'r'] })
const ContainerPort = msg('ContainerPort', { 1: ['name', 'string'], 2: ['hostPort', 'int'], 3: ['containerPort', 'int', 'k'], 4: ['protocol', 'string'], 5: ['hostIP', 'string'] })
const EnvVar = msg('EnvVar', { 1: ['name', 'string', 'k'], 2: ['value', 'string'] })
const ResourceRequirements = msg('ResourceRequirements', { 1: ['limits', 'quantityMap'], 2: ['requests', 'quantityMap'] })
const VolumeMount = msg('VolumeMount', { 1: ['name', 'string', 'k'], 2: ['readOnly', 'bool'], 3: ['mountPath', 'string', 'k'], 4: ['subPath', 'string'], 5: ['mountPropagation', 'string'], 6: ['subPathExpr', 'string'] })
const Container = msg('Container', {
  1: ['name', 'string', 'k'],
  2: ['image', 'string'],
  3: ['command', 'string', 'r'],
  4: ['args', 'string', 'r'],
  5: ['workingDir', 'string'],
  6: ['ports', ContainerPort, 'r'],
  7: ['env', EnvVar, 'r'],
  8: ['resources', ResourceRequirements, 'k'],
  9: ['volumeMounts', VolumeMount, 'r'],
  13: ['terminationMessagePath', 'string'],
  14: ['imagePullPolicy', 'string'],
  16: ['stdin', 'bool'],
  17: ['stdinOnce', 'bool'],
  18: ['tty', 'bool'],
  20: ['terminationMessagePolicy', 'string'],
  24: ['restartPolicy', 'string', 'k'],
})
const LocalObjectReference = msg('LocalObjectReference', { 1: ['name', 'string'] })
const PodSpec = msg('PodSpec', {
  2: ['containers', Container, 'r'],
  3: ['restartPolicy', 'string'],
  4: ['terminationGracePeriodSeconds', 'int', 'k'],
  5: ['activeDeadlineSeconds', 'int', 'k'],
  6: ['dnsPolicy', 'string'],
  7: ['nodeSelector', 'map'],
  8: ['serviceAccountName', 'string'],
  9: ['serviceAccount', 'string'],
  10: ['nodeName', 'string'],
  11: ['hostNetwork', 'bool'],
  12: ['hostPID', 'bool'],
  13: ['hostIPC', 'bool'],
  15: ['imagePullSecrets', LocalObjectReference, 'r'],
  16: ['hostname', 'string'],
  17: ['subdomain', 'string'],
  19: ['schedulerName', 'string'],
  20: ['initContainers', Container, 'r'],
  21: ['automountServiceAccountToken', 'bool', 'k'],
  24: ['priorityClassName', 'string'],
  25: ['priority', 'int', 'k'],
  27: ['shareProcessNamespace', 'bool', 'k'],
  29: ['runtimeClassName', 'string', 'k'],
  30: ['enableServiceLinks', 'bool', 'k'],
  35: ['setHostnameAsFQDN', 'bool', 'k'],
  37: ['hostUsers', 'bool', 'k'],
})
const PodTemplateSpec = msg('PodTemplateSpec', { 1: ['metadata', ObjectMeta, 'k'], 2: ['spec', PodSpec, 'k'] })
const RollingUpdateDeployment = msg('RollingUpdateDeployment', { 1: ['maxUnavailable', 'intOrString', 'k'], 2: ['maxSurge', 'intOrString', 'k'] })
const DeploymentStrategy = msg('DeploymentStrategy', { 1: ['type', 'string'], 2: ['rollingUpdate', RollingUpdateDeployment] })
const DeploymentSpec = msg('DeploymentSpec', {
  1: ['replicas', 'int', 'k'],
  2: ['selector', LabelSelector],
  3: ['template', PodTemplateSpec, 'k'],
  4: ['strategy', DeploymentStrategy, 'k'],
  5: ['minReadySeconds', 'int'],
  6: ['revisionHistoryLimit', 'int', 'k'],
  7: ['paused', 'bool'],
  9: ['progressDeadlineSeconds', 'int', 'k'],
})
// The API server resets the status of what is created, so its content is not decoded.
const Deployment = msg('Deployment', { 1: ['metadata', ObjectMeta, 'k'], 2: ['spec', DeploymentSpec, 'k'], 3: ['status', 'ignored'] })
const Namespace = msg('Namespace', { 1: ['metadata', ObjectMeta, 'k'], 2: ['spec', msg('NamespaceSpec', { 1: ['finalizers', 'string', 'r'] }), 'k'], 3: ['status', 'ignored'] })

const KINDS: Readonly<Record<string, Msg>> = { 'apps/v1 Deployment': Deployment, 'v1 Namespace': Namespace }

class Reader {
  pos = 0
  constructor (readonly buf: Uint8Array) {}
  get done (): boolean { return this.pos >= this.buf.length }
  varint (): bigint {
    let result = 0n
    let shift = 0n
    for (;;) {
      const byte = this.buf[this.pos++]
      if (byte === undefined) throw statusErrors.badRequest('truncated protobuf varint')
      result |= BigInt(byte & 0x7f) << shift
      if ((byte & 0x80) === 0) return result
      shift += 7n
    }
  }

  bytes (): Uint8Array {
    const length = Number(this.varint())
    const out = this.buf.subarray(this.pos, this.pos + length)
    if (out.length !== length) throw statusErrors.badRequest('truncated protobuf field')
    this.pos += length
    return out
  }

  skip (wire: number): void {
    if (wire === 0) this.varint()
    else if (wire === 1) this.pos += 8
    else if (wire === 2) this.bytes()
    else if (wire === 5) this.pos += 4
    else throw statusErrors.badRequest(`unsupported protobuf wire type ${wire}`)
  }
}

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8')
const signed = (v: bigint): number => Number(BigInt.asIntN(64, v))

function pairs (bytes: Uint8Array): [string, Uint8Array] {
  const r = new Reader(bytes)
  let key = ''
  let value: Uint8Array = new Uint8Array()
  while (!r.done) {
    const tag = Number(r.varint())
    if (tag >> 3 === 1) key = text(r.bytes())
    else if (tag >> 3 === 2) value = r.bytes()
    else r.skip(tag & 7)
  }
  return [key, value]
}

function decodeSpecial (type: Special, bytes: Uint8Array): unknown {
  if (type === 'time') {
    const r = new Reader(bytes)
    let seconds = 0
    while (!r.done) {
      const tag = Number(r.varint())
      if (tag >> 3 === 1) seconds = signed(r.varint())
      else r.skip(tag & 7)
    }
    return seconds === 0 ? null : new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
  }
  if (type === 'intOrString') {
    const r = new Reader(bytes)
    let kind = 0
    let int = 0
    let str = ''
    while (!r.done) {
      const tag = Number(r.varint())
      if (tag >> 3 === 1) kind = signed(r.varint())
      else if (tag >> 3 === 2) int = signed(r.varint())
      else if (tag >> 3 === 3) str = text(r.bytes())
      else r.skip(tag & 7)
    }
    return kind === 1 ? str : int
  }
  return undefined
}

function decodeMessage (m: Msg, bytes: Uint8Array): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const r = new Reader(bytes)
  while (!r.done) {
    const tag = Number(r.varint())
    const number = tag >> 3
    const wire = tag & 7
    const field = m.fields[number]
    if (field === undefined) throw statusErrors.unsupportedMediaType(`application/vnd.kubernetes.protobuf (the simulator does not decode field ${number} of ${m.name}; send JSON)`)
    const [name, type, flags = ''] = field
    if (type === 'ignored') { r.skip(wire); continue }
    if (type === 'map' || type === 'quantityMap') {
      const [key, value] = pairs(r.bytes())
      const map = (out[name] ?? {}) as Record<string, string>
      // A resource.Quantity is a message holding its string form.
      map[key] = type === 'map' ? text(value) : firstString(value)
      out[name] = map
      continue
    }
    let value: unknown
    if (type === 'string') value = text(r.bytes())
    else if (type === 'bytes') value = r.bytes()
    else if (type === 'int') value = signed(r.varint())
    else if (type === 'bool') value = r.varint() !== 0n
    else if (typeof type === 'string') value = decodeSpecial(type, r.bytes())
    else value = decodeMessage(type, r.bytes())
    if (flags.includes('r')) (out[name] = (out[name] ?? []) as unknown[]).push(value)
    else out[name] = value
  }
  for (const [, [name, type, flags = '']] of Object.entries(m.fields)) {
    const v = out[name]
    const empty = v === '' || v === 0 || v === false || (Array.isArray(v) && v.length === 0)
    if (v !== undefined && empty && !flags.includes('k')) delete out[name]
    // Go encodes a zero metav1.Time as null, and keeps a struct that is not a pointer as {}.
    if (v === undefined && type === 'time' && name === 'creationTimestamp') out[name] = null
    if (v === undefined && typeof type !== 'string' && flags.includes('k') && !flags.includes('r')) out[name] = decodeMessage(type, new Uint8Array())
  }
  return out
}

function firstString (bytes: Uint8Array): string {
  const r = new Reader(bytes)
  while (!r.done) {
    const tag = Number(r.varint())
    if (tag >> 3 === 1 && (tag & 7) === 2) return text(r.bytes())
    r.skip(tag & 7)
  }
  return ''
}

const MAGIC = [0x6b, 0x38, 0x73, 0x00]

/** Decodes a Kubernetes protobuf request body into its JSON object. */
export function decodeKubernetesProtobuf (body: Uint8Array): Record<string, unknown> {
  if (!MAGIC.every((b, i) => body[i] === b)) throw statusErrors.badRequest('the protobuf body lacks the k8s\\0 prefix')
  const unknown = decodeMessage(Unknown, body.subarray(4)) as { typeMeta?: { apiVersion?: string, kind?: string }, raw?: Uint8Array }
  const apiVersion = unknown.typeMeta?.apiVersion ?? ''
  const kind = unknown.typeMeta?.kind ?? ''
  const m = KINDS[`${apiVersion} ${kind}`]
  if (m === undefined) throw statusErrors.unsupportedMediaType(`application/vnd.kubernetes.protobuf (the simulator decodes protobuf for ${Object.keys(KINDS).join(', ')}, not ${apiVersion} ${kind}; send JSON)`)
  const object = decodeMessage(m, unknown.raw ?? new Uint8Array())
  return { kind, apiVersion, ...object }
}
