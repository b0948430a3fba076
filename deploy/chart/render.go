// Package chart renders deploy/helm/mcpmesh with Helm's Go SDK and decodes the result
// strictly into the Kubernetes, Prometheus Operator and Gateway API types, for the
// chart's tests and for `make manifests`.
package chart

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"
)

// Release names the rendered release.
type Release struct {
	Name      string
	Namespace string
}

// Render renders the chart at dir with the values files given (later ones win),
// validating them against values.schema.json, and returns the manifests by template
// path, empty ones dropped.
func Render(dir string, rel Release, valuesFiles ...string) (map[string]string, error) {
	ch, err := loader.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("load chart %s: %w", dir, err)
	}
	vals := map[string]any{}
	for _, f := range valuesFiles {
		v, err := chartutil.ReadValuesFile(f)
		if err != nil {
			return nil, fmt.Errorf("values %s: %w", f, err)
		}
		vals = chartutil.CoalesceTables(v.AsMap(), vals)
	}
	renderVals, err := chartutil.ToRenderValues(ch, vals, chartutil.ReleaseOptions{
		Name: rel.Name, Namespace: rel.Namespace, IsInstall: true, Revision: 1,
	}, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	out, err := engine.Render(ch, renderVals)
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	for k, v := range out {
		if strings.TrimSpace(v) == "" || path.Base(k) == "NOTES.txt" {
			delete(out, k)
		}
	}
	return out, nil
}

// Manifest joins rendered templates into one multi-document YAML, in template order.
func Manifest(rendered map[string]string) string {
	names := make([]string, 0, len(rendered))
	for k := range rendered {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		for _, doc := range splitDocuments(rendered[n]) {
			b.WriteString("---\n# Source: " + n + "\n" + doc + "\n")
		}
	}
	return b.String()
}

// Object is one decoded document.
type Object struct {
	Template string
	Kind     string
	Name     string
	// Typed is the strictly decoded Kubernetes object; nil for kinds without Go types
	// here (CloudNativePG), which Raw keeps.
	Typed runtime.Object
	Raw   []byte
}

// Scheme knows every kind the chart may render except CloudNativePG's.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, monitoringv1.AddToScheme, gatewayv1.Install} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// cnpgGroup is CloudNativePG's API group; its Go module is not used here, so its
// objects are checked against their documented fields (cnpg.go).
const cnpgGroup = "postgresql.cnpg.io/v1"

// Decode splits the rendered templates into documents and decodes each strictly:
// an unknown or misspelt field is an error, as the API server's strict field
// validation would make it.
func Decode(rendered map[string]string) ([]Object, error) {
	scheme, err := Scheme()
	if err != nil {
		return nil, err
	}
	strict := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme, kjson.SerializerOptions{Yaml: true, Strict: true})
	names := make([]string, 0, len(rendered))
	for k := range rendered {
		names = append(names, k)
	}
	slices.Sort(names)
	var objs []Object
	var errs []error
	for _, n := range names {
		for _, doc := range splitDocuments(rendered[n]) {
			var meta struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Metadata   struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", n, err))
				continue
			}
			o := Object{Template: n, Kind: meta.Kind, Name: meta.Metadata.Name, Raw: []byte(doc)}
			if meta.APIVersion == cnpgGroup {
				if err := checkCNPG(meta.Kind, []byte(doc)); err != nil {
					errs = append(errs, fmt.Errorf("%s %s/%s: %w", n, meta.Kind, o.Name, err))
				}
			} else {
				typed, _, err := strict.Decode([]byte(doc), nil, nil)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s %s/%s: %w", n, meta.Kind, o.Name, err))
					continue
				}
				o.Typed = typed
			}
			objs = append(objs, o)
		}
	}
	return objs, errors.Join(errs...)
}

// splitDocuments returns the non-empty YAML documents of a stream.
func splitDocuments(s string) []string {
	r := utilyaml.NewDocumentDecoder(io.NopCloser(strings.NewReader(s)))
	defer func() { _ = r.Close() }()
	var docs []string
	buf := make([]byte, 1<<20)
	var cur bytes.Buffer
	for {
		n, err := r.Read(buf)
		cur.Write(buf[:n])
		if errors.Is(err, io.ErrShortBuffer) {
			continue
		}
		if err != nil {
			break
		}
		if doc := strings.TrimSpace(stripComments(cur.String())); doc != "" {
			docs = append(docs, strings.TrimRight(cur.String(), "\n"))
		}
		cur.Reset()
	}
	return docs
}

// stripComments drops comment-only lines, to tell an empty document from a real one.
func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// PlainManifest renders the chart with valuesFile as release "mcpmesh" in namespace,
// preceded by the Namespace, as one file to kubectl apply.
func PlainManifest(chartDir, valuesFile, namespace string) (string, error) {
	rendered, err := Render(chartDir, Release{Name: "mcpmesh", Namespace: namespace}, valuesFile)
	if err != nil {
		return "", err
	}
	return "# Rendered from deploy/helm/mcpmesh with " + path.Base(valuesFile) + " by `make manifests`: edit the chart,\n" +
		"# not this file. Apply with: kubectl apply -f mcpmesh.yaml\n" +
		"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + namespace + "\n  labels:\n" +
		"    pod-security.kubernetes.io/enforce: restricted\n" +
		Manifest(rendered), nil
}
