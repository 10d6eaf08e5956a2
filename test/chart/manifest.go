// Package chart checks Tandem's Kubernetes manifests offline: the Helm
// chart (charts/tandem) rendered by a pinned helm binary and the kustomize
// overlays (deploy/) rendered in-process. Every rendered object is decoded
// strictly against the Kubernetes API types, and every pod template must
// pass the Pod Security Standards "restricted" level, carry probes,
// resource requests and limits, a disruption budget and a default-deny
// network policy. Verify runs every check and reports each one's problems.
package chart

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// Object is one decoded manifest object.
type Object struct {
	// Kind and Name identify the object in messages.
	Kind, Name string
	// Annotations are the object's own annotations (Helm hooks among them).
	Annotations map[string]string
	// Typed is the object decoded into its Kubernetes API type, or a
	// ServiceMonitor for the one custom resource the chart renders.
	Typed any
}

func (o Object) String() string { return o.Kind + " " + o.Name }

// ServiceMonitor is the part of the Prometheus Operator's
// monitoring.coreos.com/v1 ServiceMonitor that the chart uses. It is not in
// client-go's scheme, so it is decoded into this struct, rejecting any other
// field.
type ServiceMonitor struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   map[string]any `json:"metadata"`
	Spec       struct {
		JobLabel string `json:"jobLabel,omitempty"`
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		NamespaceSelector struct {
			Any        bool     `json:"any,omitempty"`
			MatchNames []string `json:"matchNames,omitempty"`
		} `json:"namespaceSelector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path,omitempty"`
			Scheme        string `json:"scheme,omitempty"`
			Interval      string `json:"interval,omitempty"`
			ScrapeTimeout string `json:"scrapeTimeout,omitempty"`
		} `json:"endpoints"`
	} `json:"spec"`
}

var serviceMonitorGVK = schema.GroupVersionKind{Group: "monitoring.coreos.com", Version: "v1", Kind: "ServiceMonitor"}

// strictDecoder rejects unknown and duplicate fields.
var strictDecoder = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

// Decode splits a multi-document YAML stream and decodes every object
// strictly: a kind the Kubernetes API (or the ServiceMonitor CRD) does not
// know, an unknown or duplicate field, or a value of the wrong type is an
// error. It returns the objects it could decode and every error, joined.
func Decode(manifest []byte) ([]Object, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(manifest)))
	var objs []Object
	var errs []error
	for i := 1; ; i++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return objs, fmt.Errorf("document %d: %w", i, err)
		}
		obj, err := decodeDocument(doc)
		if err != nil {
			errs = append(errs, fmt.Errorf("document %d (%s): %w", i, obj, err))
			continue
		}
		if obj.Kind != "" {
			objs = append(objs, obj)
		}
	}
	return objs, errors.Join(errs...)
}

func decodeDocument(doc []byte) (Object, error) {
	data, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return Object{}, err
	}
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return Object{}, nil // comments only
	}
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name        string            `json:"name"`
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return Object{}, err
	}
	obj := Object{Kind: head.Kind, Name: head.Metadata.Name, Annotations: head.Metadata.Annotations}
	if head.Kind == "" || head.APIVersion == "" || head.Metadata.Name == "" {
		return obj, errors.New("apiVersion, kind and metadata.name are required")
	}
	gvk := schema.FromAPIVersionAndKind(head.APIVersion, head.Kind)
	switch {
	case gvk == serviceMonitorGVK:
		var sm ServiceMonitor
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&sm); err != nil {
			return obj, fmt.Errorf("strict decoding %s: %w", gvk, err)
		}
		obj.Typed = &sm
	case scheme.Scheme.Recognizes(gvk):
		typed, _, err := strictDecoder.Decode(data, nil, nil)
		if err != nil {
			return obj, err
		}
		obj.Typed = typed
	default:
		return obj, fmt.Errorf("%s is not a Kubernetes API type known to client-go", gvk)
	}
	return obj, nil
}
