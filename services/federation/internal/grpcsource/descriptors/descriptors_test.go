package descriptors_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource/descriptors"
	"github.com/mcpmesh/mcpmesh/services/federation/internal/grpcsource/shoptest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func methodNames(s *descriptors.Set) []string {
	var out []string
	for _, m := range s.Methods {
		out = append(out, string(m.FullName()))
	}
	return out
}

var shopMethods = []string{
	"acme.shop.v1.ShopService.EchoOrder",
	"acme.shop.v1.ShopService.GetOrder",
	"acme.shop.v1.ShopService.WatchOrder",
	"acme.shop.v1.ShopService.Fail",
	"acme.shop.v1.ShopService.Inspect",
	"acme.shop.v1.ShopService.Walk",
}

func TestFromReflectionReadsAllowedServices(t *testing.T) {
	for _, tc := range []struct {
		name       string
		reflection shoptest.Reflection
		origin     string
	}{
		{"v1", shoptest.ReflectionV1, "reflection v1"},
		{"v1alpha only", shoptest.ReflectionV1Alpha, "reflection v1alpha"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := dial(t, shoptest.Start(t, tc.reflection))
			set, err := descriptors.FromReflection(ctx(t), conn, descriptors.Selection{Services: []string{shoptest.ShopService}})
			if err != nil {
				t.Fatal(err)
			}
			if set.Origin != tc.origin {
				t.Errorf("origin %q, want %q", set.Origin, tc.origin)
			}
			if got := methodNames(set); !slices.Equal(got, shopMethods) {
				t.Errorf("methods %v, want %v", got, shopMethods)
			}
			if len(set.Skipped) != 1 || set.Skipped[0].Method != "acme.shop.v1.ShopService.Upload" {
				t.Errorf("skipped %+v, want the client-streaming Upload", set.Skipped)
			}
			// Comments travel with reflection when the server has them.
			loc := set.Methods[1].ParentFile().SourceLocations().ByDescriptor(set.Methods[1])
			if !strings.Contains(loc.LeadingComments, "Looks an order up") {
				t.Errorf("GetOrder comment %q, want the proto comment", loc.LeadingComments)
			}
		})
	}
}

func TestFromReflectionNarrowsToMethods(t *testing.T) {
	conn := dial(t, shoptest.Start(t, shoptest.ReflectionV1))
	set, err := descriptors.FromReflection(ctx(t), conn, descriptors.Selection{
		Services: []string{shoptest.ShopService},
		Methods:  []string{"acme.shop.v1.ShopService/GetOrder", "acme.shop.v1.ShopService.Fail"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"acme.shop.v1.ShopService.GetOrder", "acme.shop.v1.ShopService.Fail"}
	if got := methodNames(set); !slices.Equal(got, want) {
		t.Errorf("methods %v, want %v", got, want)
	}
}

func TestFromReflectionErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		reflection shoptest.Reflection
		sel        descriptors.Selection
		is         error
		says       string
	}{
		{"no reflection", shoptest.ReflectionNone, descriptors.Selection{Services: []string{shoptest.ShopService}},
			descriptors.ErrNoReflection, "descriptor_set_file"},
		{"refused", shoptest.ReflectionRefused, descriptors.Selection{Services: []string{shoptest.ShopService}},
			nil, "refused reflection"},
		{"missing service", shoptest.ReflectionV1, descriptors.Selection{Services: []string{"acme.shop.v1.Nope"}},
			descriptors.ErrNotServed, "service acme.shop.v1.Nope is not served by the server (it serves"},
		{"missing method", shoptest.ReflectionV1, descriptors.Selection{Services: []string{shoptest.ShopService}, Methods: []string{"acme.shop.v1.AdminService.DeleteAll"}},
			descriptors.ErrNotServed, "method acme.shop.v1.AdminService.DeleteAll is not served by the allowed services"},
		{"silent", shoptest.ReflectionSilent, descriptors.Selection{Services: []string{shoptest.ShopService}},
			nil, "the server did not answer reflection in time"},
		{"too large", shoptest.ReflectionV1, descriptors.Selection{Services: []string{shoptest.ShopService}, MaxBytes: 1000},
			descriptors.ErrTooLarge, "max_descriptor_bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := dial(t, shoptest.Start(t, tc.reflection))
			c := ctx(t)
			if tc.reflection == shoptest.ReflectionSilent {
				// A server that never answers costs the reading's deadline, not a hang.
				var cancel context.CancelFunc
				c, cancel = context.WithTimeout(c, 300*time.Millisecond)
				defer cancel()
			}
			_, err := descriptors.FromReflection(c, conn, tc.sel)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v, want %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q does not say %q", err, tc.says)
			}
		})
	}
}

func TestFromFile(t *testing.T) {
	path := shoptest.DescriptorSetFile(t)
	set, err := descriptors.FromFile(path, descriptors.Selection{Services: []string{shoptest.ShopService}})
	if err != nil {
		t.Fatal(err)
	}
	if got := methodNames(set); !slices.Equal(got, shopMethods) {
		t.Errorf("methods %v, want %v", got, shopMethods)
	}
	// The same descriptors give the same fingerprint, whatever their origin.
	again, err := descriptors.FromFile(path, descriptors.Selection{Services: []string{shoptest.ShopService}})
	if err != nil {
		t.Fatal(err)
	}
	if again.Fingerprint != set.Fingerprint {
		t.Error("fingerprint differs for the same file")
	}
	if _, err := descriptors.FromFile(path, descriptors.Selection{Services: []string{"acme.shop.v1.Nope"}}); !errors.Is(err, descriptors.ErrNotServed) {
		t.Errorf("missing service: %v, want ErrNotServed", err)
	}
	if _, err := descriptors.FromFile(path, descriptors.Selection{Services: []string{shoptest.ShopService}, MaxBytes: 10}); !errors.Is(err, descriptors.ErrTooLarge) {
		t.Errorf("small limit: %v, want ErrTooLarge", err)
	}
}
