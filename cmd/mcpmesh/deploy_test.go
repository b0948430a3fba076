package main

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"go.yaml.in/yaml/v3"
)

// k8sObject is the part of a Kubernetes manifest the checks read.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Template struct {
			Spec struct {
				Containers []container `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
		Ports []struct {
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

type container struct {
	Args []string `yaml:"args"`
	Env  []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	StartupProbe   *probe `yaml:"startupProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
}

type probe struct {
	GRPC *struct {
		Port int `yaml:"port"`
	} `yaml:"grpc"`
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

// The Kubernetes manifests are an operational promise: every container's arguments
// must load as a valid configuration, and every probe must point at a port the process
// listens on and a path the gateway serves.
func TestKubernetesManifests(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "deploy", "kubernetes", "mcpmesh.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var deployments, services []k8sObject
	for {
		var obj k8sObject
		if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("parse manifest: %v", err)
		}
		switch obj.Kind {
		case "Deployment":
			deployments = append(deployments, obj)
		case "Service":
			services = append(services, obj)
		}
	}
	targets := map[string]bool{}
	for _, d := range deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			var env []string
			for _, e := range c.Env {
				env = append(env, e.Name+"="+e.Value)
			}
			loaded, err := loadConfig("manifest", c.Args, env, io.Discard)
			if err != nil {
				t.Errorf("%s: arguments do not load: %v", d.Metadata.Name, err)
				continue
			}
			cfg := loaded.Value
			for _, tg := range cfg.Targets() {
				targets[tg] = true
			}
			ports := map[string]int{}
			for _, p := range c.Ports {
				ports[p.Name] = p.ContainerPort
			}
			for name, p := range map[string]*probe{"startup": c.StartupProbe, "readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
				switch {
				case p == nil:
				case p.GRPC != nil:
					if !cfg.RunsGRPC() || p.GRPC.Port != portOf(t, cfg.GRPC.Listen) {
						t.Errorf("%s: %s probe on gRPC port %d, but grpc.listen is %s", d.Metadata.Name, name, p.GRPC.Port, cfg.GRPC.Listen)
					}
				case p.HTTPGet != nil:
					if !slices.Contains([]string{"/healthz", "/readyz", "/startupz"}, p.HTTPGet.Path) {
						t.Errorf("%s: %s probe path %s is not a gateway probe", d.Metadata.Name, name, p.HTTPGet.Path)
					}
					if ports[p.HTTPGet.Port] != portOf(t, cfg.Gateway.Listen) {
						t.Errorf("%s: %s probe port %s is not gateway.listen %s", d.Metadata.Name, name, p.HTTPGet.Port, cfg.Gateway.Listen)
					}
				}
			}
			if c.ReadinessProbe == nil || c.LivenessProbe == nil {
				t.Errorf("%s: needs readiness and liveness probes", d.Metadata.Name)
			}
		}
	}
	for _, want := range []string{"gateway", "transport", "session", "registry", "health", "provider-everything"} {
		if !targets[want] {
			t.Errorf("no Deployment runs target %s", want)
		}
	}
	if len(services) < 6 {
		t.Errorf("want a Service per Deployment, got %d", len(services))
	}
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return n
}
