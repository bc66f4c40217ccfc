/**
 * A configurable RBAC table: the rules of the Roles/ClusterRoles bound to the one user the
 * simulator serves, in Kubernetes' own PolicyRule shape, answered the way the API server's RBAC
 * authorizer does (403 with its exact message format). No rules configured means allow all.
 */
export interface PolicyRule {
  apiGroups: string[]
  resources: string[]
  verbs: string[]
  resourceNames?: string[]
}

export interface AccessRequest {
  verb: string
  group: string
  resource: string
  subresource?: string | undefined
  namespace: string
  name?: string | undefined
}

/** Pure: whether a rule set allows a request (`*` wildcards as RBAC understands them). */
export function allows (rules: readonly PolicyRule[], request: AccessRequest): boolean {
  const resource = request.subresource === undefined ? request.resource : `${request.resource}/${request.subresource}`
  return rules.some((rule) =>
    (rule.verbs.includes('*') || rule.verbs.includes(request.verb)) &&
    (rule.apiGroups.includes('*') || rule.apiGroups.includes(request.group)) &&
    (rule.resources.includes('*') || rule.resources.includes(resource) || (request.subresource !== undefined && rule.resources.includes(`*/${request.subresource}`))) &&
    (rule.resourceNames === undefined || rule.resourceNames.length === 0 || (request.name !== undefined && rule.resourceNames.includes(request.name))))
}

/** Pure: the API server's Forbidden message, e.g. for `kubectl patch` without the verb. */
export function forbiddenMessage (user: string, request: AccessRequest): string {
  const qualified = request.group === '' ? request.resource : `${request.resource}.${request.group}`
  const subject = request.name === undefined ? qualified : `${qualified} "${request.name}"`
  const resource = request.subresource === undefined ? request.resource : `${request.resource}/${request.subresource}`
  const scope = request.namespace === '' ? 'at the cluster scope' : `in the namespace "${request.namespace}"`
  return `${subject} is forbidden: User "${user}" cannot ${request.verb} resource "${resource}" in API group "${request.group}" ${scope}`
}
