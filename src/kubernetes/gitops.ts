/**
 * GitOps detection. A workload reconciled from Git by Argo CD or Flux gets any manual change
 * reverted on the next sync (self-heal) — or worse, reports drift that an operator then "fixes"
 * back to the broken version. So by default the actions skip such workloads and say who manages
 * them; `kubernetes.gitops: allow` in the rules file lets the change through.
 *
 * Evidence, strongest first:
 * - Argo CD's tracking annotation `argocd.argoproj.io/tracking-id` (the default tracking method
 *   since Argo CD 3.0, and used by `annotation+label`);
 * - the label `argocd.argoproj.io/instance` (the custom instance label Argo CD's docs suggest);
 * - the label `app.kubernetes.io/instance` (label tracking, the default before Argo CD 3.0). Helm
 *   charts and many other tools set that label too, so it counts only when
 *   `app.kubernetes.io/managed-by` is absent: Argo CD's label tracking never sets it, Helm does.
 * - Flux: `kustomize.toolkit.fluxcd.io/name` (Kustomization) or `helm.toolkit.fluxcd.io/name`
 *   (HelmRelease) labels, which the Flux controllers put on everything they apply.
 */
import type { ObjectMeta } from './resources.js'

export interface GitOpsManager {
  readonly manager: 'Argo CD' | 'Flux'
  /** What gave it away, e.g. `annotation argocd.argoproj.io/tracking-id=shop:apps/Deployment:shop/checkout`. */
  readonly evidence: string
  /** The Argo CD Application or Flux Kustomization/HelmRelease, when the evidence names it. */
  readonly owner: string
}

/** Pure: who reconciles this object from Git, or undefined. */
export function detectGitOps (metadata: Pick<ObjectMeta, 'labels' | 'annotations'>): GitOpsManager | undefined {
  const labels = metadata.labels ?? {}
  const annotations = metadata.annotations ?? {}
  const tracking = annotations['argocd.argoproj.io/tracking-id']
  if (tracking !== undefined) {
    return { manager: 'Argo CD', evidence: `annotation argocd.argoproj.io/tracking-id=${tracking}`, owner: `Application ${tracking.split(':')[0] ?? tracking}` }
  }
  const argoLabel = labels['argocd.argoproj.io/instance']
  if (argoLabel !== undefined) return { manager: 'Argo CD', evidence: `label argocd.argoproj.io/instance=${argoLabel}`, owner: `Application ${argoLabel}` }
  const kustomization = labels['kustomize.toolkit.fluxcd.io/name']
  if (kustomization !== undefined) {
    const ns = labels['kustomize.toolkit.fluxcd.io/namespace']
    return { manager: 'Flux', evidence: `label kustomize.toolkit.fluxcd.io/name=${kustomization}`, owner: `Kustomization ${ns === undefined ? '' : `${ns}/`}${kustomization}` }
  }
  const helmRelease = labels['helm.toolkit.fluxcd.io/name']
  if (helmRelease !== undefined) {
    const ns = labels['helm.toolkit.fluxcd.io/namespace']
    return { manager: 'Flux', evidence: `label helm.toolkit.fluxcd.io/name=${helmRelease}`, owner: `HelmRelease ${ns === undefined ? '' : `${ns}/`}${helmRelease}` }
  }
  const instance = labels['app.kubernetes.io/instance']
  if (instance !== undefined && labels['app.kubernetes.io/managed-by'] === undefined) {
    return { manager: 'Argo CD', evidence: `label app.kubernetes.io/instance=${instance} (Argo CD label tracking; no app.kubernetes.io/managed-by)`, owner: `Application ${instance}` }
  }
  return undefined
}

/** Pure: the skip reason for a GitOps-managed workload. */
export function gitOpsSkipReason (what: string, gitops: GitOpsManager): string {
  return `${what} is managed by ${gitops.manager} (${gitops.owner}; ${gitops.evidence}); a direct change would be reverted on the next sync — change it in Git, or set kubernetes.gitops: allow`
}
