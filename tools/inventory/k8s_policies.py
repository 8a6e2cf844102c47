"""Admission policy engines into ``Policy`` records: Kyverno (ClusterPolicy, Policy,
ImageValidatingPolicy), Gatekeeper constraints, ValidatingAdmissionPolicyBindings and sigstore
policy-controller ClusterImagePolicies. Each record keeps the line that sets its mode (what an
audit-only finding cites) and whether it verifies image signatures."""

from __future__ import annotations

from tools.inventory.inventory import Records
from tools.inventory.k8s_core import K8sObject, Mapper, as_list, as_map, as_str, str_list
from tools.inventory.models import Policy

# --------------------------------------------------------------------------- policy engines


def _kyverno(o: K8sObject, records: Records) -> None:
    """Kyverno 1.13+ may set ``validate.failureAction`` per rule; those land in ``rule_modes``.

    A rule with a non-empty ``verifyImages`` list is an image signature rule."""
    if not o.in_group("kyverno.io"):
        return
    verifies = any(as_list(as_map(rule).get("verifyImages")) for rule in as_list(o.spec.get("rules")))
    rule_modes = [
        mode
        for rule in as_list(o.spec.get("rules"))
        if (mode := as_str(as_map(as_map(rule).get("validate")).get("failureAction"))) is not None
    ]
    rule_lines = [
        o.line(("spec", "rules", i, "validate", "failureAction"))
        for i, rule in enumerate(as_list(o.spec.get("rules")))
        if as_map(as_map(rule).get("validate")).get("failureAction") is not None
    ]
    mode_line = o.line(("spec", "validationFailureAction")) if "validationFailureAction" in o.spec else None
    records.policies.append(
        Policy(
            engine="kyverno",
            kind=o.kind,
            name=o.name,
            namespace=o.namespace if o.kind == "Policy" else None,
            mode=as_str(o.spec.get("validationFailureAction")) or "Audit",
            rule_modes=rule_modes,
            failure_policy=as_str(o.spec.get("failurePolicy")),
            mode_line=mode_line or next((line for line in rule_lines if line), None),
            verifies_images=verifies,
            origin=o.origin,
            source=o.source,
        )
    )


def gatekeeper(o: K8sObject, records: Records) -> None:
    """A Gatekeeper constraint (dispatched on its API group, any kind); with ``enforcementAction:
    scoped``, the per-enforcement-point actions are rule_modes."""
    scoped = [
        action
        for item in as_list(o.spec.get("scopedEnforcementActions"))
        if (action := as_str(as_map(item).get("action"))) is not None
    ]
    records.policies.append(
        Policy(
            engine="gatekeeper",
            kind=o.kind,
            name=o.name,
            mode=as_str(o.spec.get("enforcementAction")) or "deny",
            rule_modes=scoped,
            mode_line=o.line(("spec", "enforcementAction")) if "enforcementAction" in o.spec else None,
            origin=o.origin,
            source=o.source,
        )
    )


def _vap_binding(o: K8sObject, records: Records) -> None:
    """``validationActions`` is a list (e.g. Warn and Audit); the mode joins it with commas."""
    if o.in_group("admissionregistration.k8s.io"):
        records.policies.append(
            Policy(
                engine="validating-admission-policy",
                kind=o.kind,
                name=o.name,
                mode=",".join(str_list(o.spec.get("validationActions"))) or None,
                mode_line=o.line(("spec", "validationActions")) if "validationActions" in o.spec else None,
                origin=o.origin,
                source=o.source,
            )
        )


def _image_validating(o: K8sObject, records: Records) -> None:
    """Kyverno's ImageValidatingPolicy (policies.kyverno.io): signature checks, Deny unless it says."""
    if not o.in_group("policies.kyverno.io"):
        return
    actions = str_list(o.spec.get("validationActions"))
    records.policies.append(
        Policy(
            engine="kyverno",
            kind=o.kind,
            name=o.name,
            namespace=None,
            mode=",".join(actions) or "Deny",
            rule_modes=["Enforce"] if not actions or "Deny" in actions else [],
            verifies_images=True,
            mode_line=o.line(("spec", "validationActions")) if actions else None,
            origin=o.origin,
            source=o.source,
        )
    )


def _sigstore(o: K8sObject, records: Records) -> None:
    """A sigstore policy-controller ClusterImagePolicy: ``spec.mode`` enforce (default) or warn."""
    if not o.in_group("policy.sigstore.dev"):
        return
    records.policies.append(
        Policy(
            engine="sigstore",
            kind=o.kind,
            name=o.name,
            mode=as_str(o.spec.get("mode")) or "enforce",
            verifies_images=True,
            mode_line=o.line(("spec", "mode")) if "mode" in o.spec else None,
            origin=o.origin,
            source=o.source,
        )
    )


POLICY_MAPPERS: dict[str, Mapper] = {
    "ClusterPolicy": _kyverno,
    "Policy": _kyverno,
    "ValidatingAdmissionPolicyBinding": _vap_binding,
    "ImageValidatingPolicy": _image_validating,
    "ClusterImagePolicy": _sigstore,
}
