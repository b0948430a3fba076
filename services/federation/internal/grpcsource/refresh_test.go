package grpcsource_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource/shoptest"
)

// writeShopSet writes the shop's descriptors to path, without the named methods of
// ShopService: a changed deployment of the service.
func writeShopSet(t *testing.T, path string, without ...string) {
	t.Helper()
	files := shoptest.Files(t)
	set := &descriptorpb.FileDescriptorSet{}
	for _, name := range []string{"google/protobuf/descriptor.proto", "google/api/field_behavior.proto", "google/protobuf/any.proto",
		"google/protobuf/duration.proto", "google/protobuf/empty.proto", "google/protobuf/field_mask.proto",
		"google/protobuf/struct.proto", "google/protobuf/timestamp.proto", "google/protobuf/wrappers.proto", "acme/shop/v1/shop.proto"} {
		fd, err := files.FindFileByPath(name)
		if err != nil {
			t.Fatal(err)
		}
		fdp := protodesc.ToFileDescriptorProto(fd)
		for _, svc := range fdp.GetService() {
			svc.Method = slices.DeleteFunc(svc.Method, func(m *descriptorpb.MethodDescriptorProto) bool {
				return svc.GetName() == "ShopService" && slices.Contains(without, m.GetName())
			})
		}
		set.File = append(set.File, fdp)
	}
	raw, err := proto.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestRefreshNoticesAChangedService(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shop.binpb")
	writeShopSet(t, path, "Walk")
	s := shopSettings(shoptest.Start(t, shoptest.ReflectionNone))
	s.DescriptorSetFile = path
	s.RefreshInterval = 20 * time.Millisecond
	src := startSource(t, s)
	client := serve(t, src)
	v1 := describe(t, client)
	if len(v1.GetCatalogue().GetTools()) != len(shopTools)-1 {
		t.Fatalf("tools %d, want all but Walk", len(v1.GetCatalogue().GetTools()))
	}

	writeShopSet(t, path)
	select {
	case <-src.CatalogueChanged():
	case <-time.After(waitTimeout):
		t.Fatal("the changed descriptors were not noticed")
	}
	v2 := describe(t, client)
	if len(v2.GetCatalogue().GetTools()) != len(shopTools) || v2.GetVersion() == v1.GetVersion() {
		t.Errorf("after the change: %d tools, version %s (was %s)", len(v2.GetCatalogue().GetTools()), v2.GetVersion(), v1.GetVersion())
	}
	// Reading the same descriptors again is not a change.
	if changed, err := src.Refresh(context.Background()); err != nil || changed {
		t.Errorf("refresh of unchanged descriptors: changed %v, error %v", changed, err)
	}
	// A broken reading keeps the last good catalogue.
	if err := os.WriteFile(path, []byte("not descriptors"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Refresh(context.Background()); err == nil {
		t.Error("broken descriptor set: no error")
	}
	if got := describe(t, client); len(got.GetCatalogue().GetTools()) != len(shopTools) {
		t.Errorf("after a failed reading: %d tools, want the last good %d", len(got.GetCatalogue().GetTools()), len(shopTools))
	}
	if serving, err := src.Ready(); !serving || err == nil {
		t.Errorf("after a failed reading: serving %v, last error %v; want serving with the error", serving, err)
	}
}

func TestReflectionProblemsAtTheSource(t *testing.T) {
	for _, tc := range []struct {
		name       string
		reflection shoptest.Reflection
		says       string
	}{
		{"v1alpha only", shoptest.ReflectionV1Alpha, ""},
		{"refused", shoptest.ReflectionRefused, "refused reflection"},
		{"none", shoptest.ReflectionNone, "configure descriptor_set_file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := runSource(t, shopSettings(shoptest.Start(t, tc.reflection)))
			err := refresh(t, src)
			if serving, lastErr := src.Ready(); serving != (err == nil) || (lastErr == nil) != (err == nil) {
				t.Errorf("Ready: serving %v, %v after a reading that returned %v", serving, lastErr, err)
			}
			if tc.says == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), "gRPC source shop at 127.0.0.1:") {
				t.Errorf("error %v, want one naming the source and saying %q", err, tc.says)
			}
		})
	}
}

func TestMessageSizeLimit(t *testing.T) {
	s := shopSettings(shoptest.Start(t, shoptest.ReflectionV1))
	s.MaxMessageBytes = 64 << 10 // the descriptors still fit
	client := serve(t, startSource(t, s))
	big := `{"id": "o", "tags": ["` + strings.Repeat("x", 100<<10) + `"]}`
	out, err := call(t, client, "ShopService.EchoOrder", big, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !out.result.GetIsError() || !strings.HasPrefix(text(t, out.result), "RESOURCE_EXHAUSTED: ") {
		t.Errorf("oversized request: %q, want RESOURCE_EXHAUSTED", text(t, out.result))
	}
}

func TestUnimplementedAnswerTriggersARefresh(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shop.binpb")
	writeShopSet(t, path, "Walk")
	// A server that serves nothing: every call is answered UNIMPLEMENTED.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	s := shopSettings(lis.Addr().String())
	s.DescriptorSetFile = path
	s.RefreshInterval = time.Hour // far away: only the answer can cause a reading
	src := startSource(t, s)
	client := serve(t, src)

	writeShopSet(t, path)
	out, err := call(t, client, "ShopService.GetOrder", `{"id": "o"}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !out.result.GetIsError() || !strings.HasPrefix(text(t, out.result), "UNIMPLEMENTED: ") {
		t.Errorf("call to a server without the method: %q", text(t, out.result))
	}
	select {
	case <-src.CatalogueChanged():
	case <-time.After(waitTimeout):
		t.Fatal("an UNIMPLEMENTED answer did not cause a reading of the descriptors")
	}
	if got := describe(t, client); len(got.GetCatalogue().GetTools()) != len(shopTools) {
		t.Errorf("after the reading: %d tools, want %d", len(got.GetCatalogue().GetTools()), len(shopTools))
	}
}
