package chart

import (
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// Check is one named rule over a set of decoded objects; Run returns one
// error per violation.
type Check struct {
	Name string
	Run  func(objs []Object) []error
}

// Checks are the rules every rendered manifest set must pass, in report order.
var Checks = []Check{
	{"pod-security", CheckPodSecurity},
	{"probes", CheckProbes},
	{"resources", CheckResources},
	{"disruption-budgets", CheckDisruptionBudgets},
	{"default-deny", CheckDefaultDeny},
	{"network-policies", CheckNetworkPolicies},
	{"service-accounts", CheckServiceAccounts},
	{"selectors", CheckSelectors},
	{"images", CheckImages},
	{"headless-backends", CheckHeadlessBackends},
}

// CheckHeadlessBackends requires the backends' Services to be headless:
// the gateway balances calls over the pods DNS names, and a ClusterIP
// would funnel every call of its connection to one pod.
func CheckHeadlessBackends(objs []Object) []error {
	var errs []error
	for _, svc := range typed[*corev1.Service](objs) {
		component := svc.Labels["app.kubernetes.io/component"]
		if component == "gateway" || component == "" {
			continue
		}
		if svc.Spec.ClusterIP != corev1.ClusterIPNone {
			errs = append(errs, fmt.Errorf("backend %s: its Service %s is not headless (clusterIP: None)", component, svc.Name))
		}
	}
	return errs
}

// RunChecks runs every Check and returns the violations by check name;
// checks without violations are absent.
func RunChecks(objs []Object) map[string][]error {
	report := map[string][]error{}
	for _, c := range Checks {
		if errs := c.Run(objs); len(errs) > 0 {
			report[c.Name] = errs
		}
	}
	return report
}

// PodTemplate is a pod as a workload object creates it.
type PodTemplate struct {
	Owner Object
	Meta  *metav1.ObjectMeta
	Spec  *corev1.PodSpec
	// Replicas is the workload's fixed replica count (1 for Jobs and pods, 0
	// when unset, as under a HorizontalPodAutoscaler).
	Replicas int32
	// Selector is the workload's pod selector (nil for Jobs and Pods).
	Selector *metav1.LabelSelector
}

// PodTemplates returns the pod template of every workload object.
func PodTemplates(objs []Object) []PodTemplate {
	var pods []PodTemplate
	for _, o := range objs {
		switch w := o.Typed.(type) {
		case *appsv1.Deployment:
			pods = append(pods, PodTemplate{o, &w.Spec.Template.ObjectMeta, &w.Spec.Template.Spec, deref(w.Spec.Replicas), w.Spec.Selector})
		case *appsv1.StatefulSet:
			pods = append(pods, PodTemplate{o, &w.Spec.Template.ObjectMeta, &w.Spec.Template.Spec, deref(w.Spec.Replicas), w.Spec.Selector})
		case *appsv1.DaemonSet:
			pods = append(pods, PodTemplate{o, &w.Spec.Template.ObjectMeta, &w.Spec.Template.Spec, 1, w.Spec.Selector})
		case *appsv1.ReplicaSet:
			pods = append(pods, PodTemplate{o, &w.Spec.Template.ObjectMeta, &w.Spec.Template.Spec, deref(w.Spec.Replicas), w.Spec.Selector})
		case *batchv1.Job:
			pods = append(pods, PodTemplate{o, &w.Spec.Template.ObjectMeta, &w.Spec.Template.Spec, 1, nil})
		case *batchv1.CronJob:
			pods = append(pods, PodTemplate{o, &w.Spec.JobTemplate.Spec.Template.ObjectMeta, &w.Spec.JobTemplate.Spec.Template.Spec, 1, nil})
		case *corev1.Pod:
			pods = append(pods, PodTemplate{o, &w.ObjectMeta, &w.Spec, 1, nil})
		}
	}
	return pods
}

// isServing reports whether a workload runs long-lived pods (the ones
// that need probes and disruption budgets).
func (p PodTemplate) isServing() bool {
	switch p.Owner.Typed.(type) {
	case *appsv1.Deployment, *appsv1.StatefulSet, *appsv1.DaemonSet:
		return true
	}
	return false
}

func allContainers(spec *corev1.PodSpec) []corev1.Container {
	return append(slices.Clone(spec.InitContainers), spec.Containers...)
}

// CheckPodSecurity evaluates every pod template with the Pod Security
// Admission library at the "restricted" level of the latest version, as
// a namespace labelled pod-security.kubernetes.io/enforce=restricted would.
func CheckPodSecurity(objs []Object) []error {
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		return []error{fmt.Errorf("pod security evaluator: %w", err)}
	}
	restricted := psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: psaapi.LatestVersion()}
	var errs []error
	for _, p := range PodTemplates(objs) {
		result := policy.AggregateCheckResults(evaluator.EvaluatePod(restricted, p.Meta, p.Spec))
		if !result.Allowed {
			errs = append(errs, fmt.Errorf("%s violates PodSecurity %q: %s", p.Owner, "restricted:latest", result.ForbiddenDetail()))
		}
	}
	return errs
}

// CheckProbes requires a readiness and a liveness probe on every container
// of a long-lived workload, each aimed at a port the container declares.
func CheckProbes(objs []Object) []error {
	var errs []error
	for _, p := range PodTemplates(objs) {
		if !p.isServing() {
			continue
		}
		for _, c := range p.Spec.Containers {
			probes := map[string]*corev1.Probe{"readinessProbe": c.ReadinessProbe, "livenessProbe": c.LivenessProbe, "startupProbe": c.StartupProbe}
			for _, name := range []string{"readinessProbe", "livenessProbe", "startupProbe"} {
				probe := probes[name]
				if probe == nil {
					if name != "startupProbe" {
						errs = append(errs, fmt.Errorf("%s container %s has no %s", p.Owner, c.Name, name))
					}
					continue
				}
				if port, ok := probePort(probe); ok && !declaresPort(c, port) {
					errs = append(errs, fmt.Errorf("%s container %s: %s uses port %s, which the container does not declare", p.Owner, c.Name, name, port.String()))
				}
			}
		}
	}
	return errs
}

func probePort(p *corev1.Probe) (intstr.IntOrString, bool) {
	switch {
	case p.GRPC != nil:
		return intstr.FromInt32(p.GRPC.Port), true
	case p.HTTPGet != nil:
		return p.HTTPGet.Port, true
	case p.TCPSocket != nil:
		return p.TCPSocket.Port, true
	}
	return intstr.IntOrString{}, false
}

func declaresPort(c corev1.Container, port intstr.IntOrString) bool {
	for _, cp := range c.Ports {
		if (port.Type == intstr.String && cp.Name == port.StrVal) || (port.Type == intstr.Int && cp.ContainerPort == port.IntVal) {
			return true
		}
	}
	return false
}

// CheckResources requires CPU and memory requests and limits on every
// container (init containers and Jobs included), requests not above limits.
func CheckResources(objs []Object) []error {
	var errs []error
	for _, p := range PodTemplates(objs) {
		for _, c := range allContainers(p.Spec) {
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				req, hasReq := c.Resources.Requests[r]
				limit, hasLimit := c.Resources.Limits[r]
				switch {
				case !hasReq:
					errs = append(errs, fmt.Errorf("%s container %s has no %s request", p.Owner, c.Name, r))
				case !hasLimit:
					errs = append(errs, fmt.Errorf("%s container %s has no %s limit", p.Owner, c.Name, r))
				case req.Cmp(limit) > 0:
					errs = append(errs, fmt.Errorf("%s container %s requests more %s (%s) than its limit (%s)", p.Owner, c.Name, r, req.String(), limit.String()))
				}
			}
		}
	}
	return errs
}

// CheckDisruptionBudgets requires a PodDisruptionBudget selecting every
// Deployment's pods that still lets a node drain proceed.
func CheckDisruptionBudgets(objs []Object) []error {
	var errs []error
	pdbs := typed[*policyv1.PodDisruptionBudget](objs)
	for _, p := range PodTemplates(objs) {
		if _, ok := p.Owner.Typed.(*appsv1.Deployment); !ok {
			continue
		}
		var found bool
		for _, pdb := range pdbs {
			if !selects(pdb.Spec.Selector, p.Meta.Labels) {
				continue
			}
			found = true
			if pdb.Spec.MaxUnavailable != nil && pdb.Spec.MaxUnavailable.Type == intstr.Int && pdb.Spec.MaxUnavailable.IntVal < 1 {
				errs = append(errs, fmt.Errorf("%s allows no disruption of %s: node drains would block", ref("PodDisruptionBudget", pdb.Name), p.Owner))
			}
			if m := pdb.Spec.MinAvailable; m != nil && m.Type == intstr.Int && p.Replicas > 0 && m.IntVal >= p.Replicas {
				errs = append(errs, fmt.Errorf("%s requires %d of %d pods of %s: node drains would block", ref("PodDisruptionBudget", pdb.Name), m.IntVal, p.Replicas, p.Owner))
			}
		}
		if !found {
			errs = append(errs, fmt.Errorf("%s has no PodDisruptionBudget selecting its pods", p.Owner))
		}
	}
	return errs
}

// CheckDefaultDeny requires a NetworkPolicy that selects every pod of the
// namespace and allows nothing, in both directions.
func CheckDefaultDeny(objs []Object) []error {
	for _, np := range typed[*networkingv1.NetworkPolicy](objs) {
		if isDefaultDeny(np) {
			return nil
		}
	}
	return []error{fmt.Errorf("no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)")}
}

func isDefaultDeny(np *networkingv1.NetworkPolicy) bool {
	sel := np.Spec.PodSelector
	return len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0 &&
		slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) &&
		slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) &&
		len(np.Spec.Ingress) == 0 && len(np.Spec.Egress) == 0
}

// CheckNetworkPolicies requires that, under a default deny, every pod is
// selected by a policy that lets it out (DNS at least: egress on port 53),
// and that no allow policy selects nothing (a typo in its labels).
func CheckNetworkPolicies(objs []Object) []error {
	nps := typed[*networkingv1.NetworkPolicy](objs)
	pods := PodTemplates(objs)
	var errs []error
	for _, np := range nps {
		if isDefaultDeny(np) {
			continue
		}
		var selected bool
		for _, p := range pods {
			selected = selected || selects(&np.Spec.PodSelector, p.Meta.Labels)
		}
		if !selected {
			errs = append(errs, fmt.Errorf("%s selects no pod", ref("NetworkPolicy", np.Name)))
		}
	}
	if CheckDefaultDeny(objs) != nil {
		return errs
	}
	for _, p := range pods {
		var dns bool
		for _, np := range nps {
			if !selects(&np.Spec.PodSelector, p.Meta.Labels) {
				continue
			}
			for _, rule := range np.Spec.Egress {
				for _, port := range rule.Ports {
					dns = dns || (port.Port != nil && port.Port.IntValue() == 53)
				}
			}
		}
		if !dns {
			errs = append(errs, fmt.Errorf("%s: no NetworkPolicy lets its pods reach DNS (egress port 53)", p.Owner))
		}
	}
	return errs
}

// CheckServiceAccounts requires that no pod gets a Kubernetes API token
// (Tandem never calls the API) and that each pod names a ServiceAccount of
// the manifest set rather than the namespace's default one.
func CheckServiceAccounts(objs []Object) []error {
	accounts := map[string]*corev1.ServiceAccount{}
	for _, sa := range typed[*corev1.ServiceAccount](objs) {
		accounts[sa.Name] = sa
	}
	var errs []error
	for _, p := range PodTemplates(objs) {
		sa, ok := accounts[p.Spec.ServiceAccountName]
		if !ok {
			errs = append(errs, fmt.Errorf("%s runs as ServiceAccount %q, which the manifests do not define", p.Owner, p.Spec.ServiceAccountName))
		}
		mounted := true
		switch {
		case p.Spec.AutomountServiceAccountToken != nil:
			mounted = *p.Spec.AutomountServiceAccountToken
		case ok && sa.AutomountServiceAccountToken != nil:
			mounted = *sa.AutomountServiceAccountToken
		}
		if mounted {
			errs = append(errs, fmt.Errorf("%s mounts a ServiceAccount token (set automountServiceAccountToken: false)", p.Owner))
		}
	}
	return errs
}

// CheckSelectors requires that workload selectors match their own pod
// templates, that every Service selects some pods and targets ports they
// declare, and that every HorizontalPodAutoscaler scales an existing
// Deployment.
func CheckSelectors(objs []Object) []error {
	pods := PodTemplates(objs)
	var errs []error
	for _, p := range pods {
		if p.Selector != nil && !selects(p.Selector, p.Meta.Labels) {
			errs = append(errs, fmt.Errorf("%s: its selector does not match its pod template's labels", p.Owner))
		}
	}
	for _, svc := range typed[*corev1.Service](objs) {
		if len(svc.Spec.Selector) == 0 {
			continue
		}
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		var matched []PodTemplate
		for _, p := range pods {
			if sel.Matches(labels.Set(p.Meta.Labels)) {
				matched = append(matched, p)
			}
		}
		if len(matched) == 0 {
			errs = append(errs, fmt.Errorf("%s selects no pods", ref("Service", svc.Name)))
			continue
		}
		for _, port := range svc.Spec.Ports {
			for _, p := range matched {
				if !slices.ContainsFunc(p.Spec.Containers, func(c corev1.Container) bool { return declaresPort(c, port.TargetPort) }) {
					errs = append(errs, fmt.Errorf("%s port %s targets %s, which %s does not declare", ref("Service", svc.Name), port.Name, port.TargetPort.String(), p.Owner))
				}
			}
		}
		for _, p := range matched {
			if _, ok := p.Owner.Typed.(*batchv1.Job); ok {
				errs = append(errs, fmt.Errorf("%s selects the pods of %s", ref("Service", svc.Name), p.Owner))
			}
		}
	}
	for _, hpa := range typed[*autoscalingv2.HorizontalPodAutoscaler](objs) {
		target := hpa.Spec.ScaleTargetRef
		if !slices.ContainsFunc(typed[*appsv1.Deployment](objs), func(d *appsv1.Deployment) bool { return target.Kind == "Deployment" && d.Name == target.Name }) {
			errs = append(errs, fmt.Errorf("%s scales %s, which does not exist", ref("HorizontalPodAutoscaler", hpa.Name), ref(target.Kind, target.Name)))
		}
	}
	return errs
}

// CheckImages requires every image to be pinned by a version tag or a
// digest (no implicit or explicit "latest").
func CheckImages(objs []Object) []error {
	var errs []error
	for _, p := range PodTemplates(objs) {
		for _, c := range allContainers(p.Spec) {
			ref := c.Image
			if strings.Contains(ref, "@sha256:") {
				continue
			}
			_, tag, hasTag := strings.Cut(ref[strings.LastIndex(ref, "/")+1:], ":")
			if !hasTag || tag == "" || tag == "latest" {
				errs = append(errs, fmt.Errorf("%s container %s: image %q is not pinned to a version or digest", p.Owner, c.Name, ref))
			}
		}
	}
	return errs
}

// ref names an object in messages.
func ref(kind, name string) string { return kind + " " + name }

func selects(sel *metav1.LabelSelector, podLabels map[string]string) bool {
	if sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false
	}
	return !s.Empty() && s.Matches(labels.Set(podLabels))
}

func typed[T any](objs []Object) []T {
	var out []T
	for _, o := range objs {
		if t, ok := o.Typed.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

func deref(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}
