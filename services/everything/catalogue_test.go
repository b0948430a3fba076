package everything

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	providerv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/provider/v1"
)

type resourceContents struct {
	URI      string `json:"uri"`
	MimeType string `json:"mimeType"`
	Text     string `json:"text"`
	Blob     string `json:"blob"`
}

func TestReadResource(t *testing.T) {
	c, _ := serve(t)
	tests := []struct {
		uri      string
		wantMime string
		check    func(t *testing.T, rc resourceContents)
	}{
		{"everything://static/1", "text/plain", func(t *testing.T, rc resourceContents) {
			if rc.Text == "" {
				t.Error("empty text")
			}
		}},
		{"everything://static/2", "image/png", func(t *testing.T, rc resourceContents) { checkPNG(t, rc.Blob) }},
		{"test://static-text", "text/plain", func(t *testing.T, rc resourceContents) {
			if rc.Text != "This is the content of the static text resource." {
				t.Errorf("text %q", rc.Text)
			}
		}},
		{"test://static-binary", "image/png", func(t *testing.T, rc resourceContents) { checkPNG(t, rc.Blob) }},
		{"test://watched-resource", "text/plain", func(t *testing.T, rc resourceContents) {
			if rc.Text == "" {
				t.Error("empty text")
			}
		}},
		{"everything://items/42", "application/json", func(t *testing.T, rc resourceContents) {
			if rc.Text != `{"id":"42","name":"Item 42"}` {
				t.Errorf("text %q", rc.Text)
			}
		}},
		{"everything://items/a%20b", "application/json", func(t *testing.T, rc resourceContents) {
			if !strings.Contains(rc.Text, `"id":"a b"`) {
				t.Errorf("text %q", rc.Text)
			}
		}},
		{"test://template/123/data", "application/json", func(t *testing.T, rc resourceContents) {
			if rc.Text != `{"id":"123","templateTest":true,"data":"Data for ID: 123"}` {
				t.Errorf("text %q", rc.Text)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			resp, err := c.ReadResource(context.Background(), &providerv1.ReadResourceRequest{Uri: tt.uri})
			if err != nil {
				t.Fatal(err)
			}
			var contents []resourceContents
			if err := json.Unmarshal(resp.GetContents(), &contents); err != nil || len(contents) != 1 {
				t.Fatalf("contents %s: %v", resp.GetContents(), err)
			}
			if contents[0].URI != tt.uri || contents[0].MimeType != tt.wantMime {
				t.Errorf("uri %q mime %q", contents[0].URI, contents[0].MimeType)
			}
			tt.check(t, contents[0])
		})
	}
}

func TestReadResourceNotFound(t *testing.T) {
	c, _ := serve(t)
	for _, uri := range []string{"", "everything://nothing", "everything://items/", "everything://items/a/b",
		"test://template//data", "test://template/1/other", "everything://items/%zz"} {
		_, err := c.ReadResource(context.Background(), &providerv1.ReadResourceRequest{Uri: uri})
		if status.Code(err) != codes.NotFound {
			t.Errorf("%q: want NotFound, got %v", uri, err)
		}
	}
}

func TestDescribeResourcesAreReadable(t *testing.T) {
	c, _ := serve(t)
	desc, err := c.Describe(context.Background(), &providerv1.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	cat := desc.GetCatalogue()
	if len(cat.GetResources()) < 5 || len(cat.GetResourceTemplates()) != 2 || len(cat.GetPrompts()) < 7 {
		t.Fatalf("catalogue too small: %d resources, %d templates, %d prompts",
			len(cat.GetResources()), len(cat.GetResourceTemplates()), len(cat.GetPrompts()))
	}
	for _, r := range cat.GetResources() {
		if r.GetName() == "" || r.GetDescription() == "" || r.GetMimeType() == "" || r.GetSize() == 0 {
			t.Errorf("incomplete resource %v", r)
		}
		if _, err := c.ReadResource(context.Background(), &providerv1.ReadResourceRequest{Uri: r.GetUri()}); err != nil {
			t.Errorf("read %s: %v", r.GetUri(), err)
		}
	}
	for _, p := range cat.GetPrompts() {
		if p.GetName() == "" || p.GetDescription() == "" {
			t.Errorf("incomplete prompt %v", p)
		}
	}
}

type promptMessage struct {
	Role    string `json:"role"`
	Content block  `json:"content"`
}

func TestGetPrompt(t *testing.T) {
	c, _ := serve(t)
	tests := []struct {
		name  string
		args  map[string]string
		check func(t *testing.T, msgs []promptMessage)
	}{
		{"simple", nil, func(t *testing.T, m []promptMessage) {
			if len(m) != 1 || m[0].Role != "user" || m[0].Content.Type != "text" {
				t.Errorf("got %+v", m)
			}
		}},
		{"greet", map[string]string{"name": "Ada"}, func(t *testing.T, m []promptMessage) {
			if m[0].Content.Text != "Write a friendly greeting for Ada." {
				t.Errorf("got %q", m[0].Content.Text)
			}
		}},
		{"greet", map[string]string{"name": "Ada", "style": "pirate"}, func(t *testing.T, m []promptMessage) {
			if m[0].Content.Text != "Write a pirate greeting for Ada." {
				t.Errorf("got %q", m[0].Content.Text)
			}
		}},
		{"resource-and-image", nil, func(t *testing.T, m []promptMessage) {
			if len(m) != 3 || m[0].Content.Type != "resource" || m[0].Content.Resource.URI != "everything://static/1" ||
				m[1].Content.Type != "image" {
				t.Fatalf("got %+v", m)
			}
			checkPNG(t, m[1].Content.Data)
		}},
		{"test_simple_prompt", nil, func(t *testing.T, m []promptMessage) {
			if m[0].Content.Text != "This is a simple prompt for testing." {
				t.Errorf("got %q", m[0].Content.Text)
			}
		}},
		{"test_prompt_with_arguments", map[string]string{"arg1": "hello", "arg2": "world"}, func(t *testing.T, m []promptMessage) {
			if m[0].Content.Text != "Prompt with arguments: arg1='hello', arg2='world'" {
				t.Errorf("got %q", m[0].Content.Text)
			}
		}},
		{"test_prompt_with_embedded_resource", map[string]string{"resourceUri": "test://example-resource"}, func(t *testing.T, m []promptMessage) {
			if len(m) != 2 || m[0].Content.Resource == nil || m[0].Content.Resource.URI != "test://example-resource" ||
				m[0].Content.Resource.Text != "Embedded resource content for testing." {
				t.Errorf("got %+v", m)
			}
		}},
		{"test_prompt_with_image", nil, func(t *testing.T, m []promptMessage) {
			if len(m) != 2 || m[0].Content.Type != "image" || m[0].Content.MimeType != "image/png" {
				t.Fatalf("got %+v", m)
			}
			checkPNG(t, m[0].Content.Data)
		}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.name, tt.args), func(t *testing.T) {
			resp, err := c.GetPrompt(context.Background(), &providerv1.GetPromptRequest{Name: tt.name, Arguments: tt.args})
			if err != nil {
				t.Fatal(err)
			}
			var msgs []promptMessage
			if err := json.Unmarshal(resp.GetMessages(), &msgs); err != nil {
				t.Fatalf("messages %s: %v", resp.GetMessages(), err)
			}
			if resp.GetDescription() == "" {
				t.Error("empty description")
			}
			tt.check(t, msgs)
		})
	}
}

func TestGetPromptErrors(t *testing.T) {
	c, _ := serve(t)
	tests := []struct {
		name string
		args map[string]string
		want codes.Code
	}{
		{"no-such-prompt", nil, codes.NotFound},
		{"greet", nil, codes.InvalidArgument},
		{"greet", map[string]string{"style": "formal"}, codes.InvalidArgument},
		{"test_prompt_with_arguments", map[string]string{"arg1": "x"}, codes.InvalidArgument},
	}
	for _, tt := range tests {
		_, err := c.GetPrompt(context.Background(), &providerv1.GetPromptRequest{Name: tt.name, Arguments: tt.args})
		if status.Code(err) != tt.want {
			t.Errorf("%s %v: want %v, got %v", tt.name, tt.args, tt.want, err)
		}
	}
}

func TestComplete(t *testing.T) {
	c, _ := serve(t)
	tests := []struct {
		ref, arg, value string
		want            []string
	}{
		{`{"type":"ref/prompt","name":"greet"}`, "style", "f", []string{"formal", "friendly"}},
		{`{"type":"ref/prompt","name":"greet"}`, "style", "", []string{"casual", "formal", "friendly", "pirate"}},
		{`{"type":"ref/prompt","name":"greet"}`, "name", "AL", []string{"Alan", "Alice"}},
		{`{"type":"ref/prompt","name":"greet"}`, "unknown-arg", "", []string{}},
		{`{"type":"ref/prompt","name":"test_prompt_with_arguments"}`, "arg1", "par", []string{"paris", "park", "party"}},
		{`{"type":"ref/prompt","name":"test_prompt_with_arguments"}`, "arg1", "test", []string{"test", "testing"}},
		{`{"type":"ref/resource","uri":"everything://items/{id}"}`, "id", "1", []string{"1", "10", "11", "12", "100"}},
		{`{"type":"ref/resource","uri":"everything://items/{id}"}`, "id", "9", []string{}},
		{`{"type":"ref/resource","uri":"test://template/{id}/data"}`, "id", "12", []string{"123", "124"}},
		{`{"type":"ref/resource","uri":"test://template/{id}/data"}`, "other", "", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.ref+" "+tt.arg+"="+tt.value, func(t *testing.T) {
			resp, err := c.Complete(context.Background(), &providerv1.CompleteRequest{
				Ref: []byte(tt.ref), ArgumentName: tt.arg, ArgumentValue: tt.value,
			})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(resp.GetValues(), ",") != strings.Join(tt.want, ",") || int(resp.GetTotal()) != len(tt.want) || resp.GetHasMore() {
				t.Errorf("got %v (total %d, more %v), want %v", resp.GetValues(), resp.GetTotal(), resp.GetHasMore(), tt.want)
			}
		})
	}
}

func TestCompleteErrors(t *testing.T) {
	c, _ := serve(t)
	tests := []struct {
		ref  string
		want codes.Code
	}{
		{`{"type":"ref/prompt","name":"nope"}`, codes.NotFound},
		{`{"type":"ref/resource","uri":"everything://other/{x}"}`, codes.NotFound},
		{`{"type":"ref/prompt"}`, codes.InvalidArgument},
		{`{"type":"ref/tool","name":"echo"}`, codes.InvalidArgument},
		{`not json`, codes.InvalidArgument},
		{``, codes.InvalidArgument},
	}
	for _, tt := range tests {
		_, err := c.Complete(context.Background(), &providerv1.CompleteRequest{Ref: []byte(tt.ref), ArgumentName: "a"})
		if status.Code(err) != tt.want {
			t.Errorf("%s: want %v, got %v", tt.ref, tt.want, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		ok      bool
		wantKey string
	}{
		{"everything", true, ""},
		{"my-provider_2", true, ""},
		{"", false, "everything.name"},
		{"Everything", false, "everything.name"},
		{"-lead", false, "everything.name"},
		{"has space", false, "everything.name"},
		{strings.Repeat("a", 64), false, "everything.name"},
	}
	for _, tt := range tests {
		err := Config{Name: tt.name}.Validate()
		if (err == nil) != tt.ok || (err != nil && !strings.Contains(err.Error(), tt.wantKey)) {
			t.Errorf("Validate(%q) = %v", tt.name, err)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
	if _, err := New(Config{}, Deps{}); err == nil {
		t.Error("New accepted an invalid config")
	}
}

func TestDescribeReturnsACopy(t *testing.T) {
	c, p := serve(t)
	a, err := p.Describe(context.Background(), &providerv1.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	a.Catalogue.Tools[0].Name = "changed"
	b, err := c.Describe(context.Background(), &providerv1.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if b.GetCatalogue().GetTools()[0].GetName() == "changed" {
		t.Error("Describe shares its catalogue with callers")
	}
}
