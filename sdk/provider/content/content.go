// Package content builds MCP content blocks (text, image, audio, embedded resources,
// resource links) and resource contents as raw JSON, from small typed structs.
package content

import (
	"encoding/json"
	"fmt"
)

// TextBlock is a {"type":"text"} content block.
type TextBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// MediaBlock is an image or audio content block (base64 data).
type MediaBlock struct {
	Type     string `json:"type"`
	Data     string `json:"data"`
	MimeType string `json:"mimeType"`
}

// ResourceContents is a TextResourceContents or BlobResourceContents (one of Text or
// Blob is set).
type ResourceContents struct {
	URI      string `json:"uri"`
	MimeType string `json:"mimeType,omitempty"`
	Text     string `json:"text,omitempty"`
	Blob     string `json:"blob,omitempty"`
}

// EmbeddedResourceBlock is a {"type":"resource"} content block.
type EmbeddedResourceBlock struct {
	Type     string           `json:"type"`
	Resource ResourceContents `json:"resource"`
}

// ResourceLinkBlock is a {"type":"resource_link"} content block.
type ResourceLinkBlock struct {
	Type        string `json:"type"`
	URI         string `json:"uri"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	MimeType    string `json:"mimeType,omitempty"`
}

// Text returns a text block.
func Text(s string) TextBlock { return TextBlock{Type: "text", Text: s} }

// Image returns an image block.
func Image(base64Data, mimeType string) MediaBlock {
	return MediaBlock{Type: "image", Data: base64Data, MimeType: mimeType}
}

// Audio returns an audio block.
func Audio(base64Data, mimeType string) MediaBlock {
	return MediaBlock{Type: "audio", Data: base64Data, MimeType: mimeType}
}

// Embedded returns an embedded resource block.
func Embedded(rc ResourceContents) EmbeddedResourceBlock {
	return EmbeddedResourceBlock{Type: "resource", Resource: rc}
}

// Link returns a resource link block.
func Link(uri, name, description, mimeType string) ResourceLinkBlock {
	return ResourceLinkBlock{Type: "resource_link", URI: uri, Name: name, Description: description, MimeType: mimeType}
}

// Blocks encodes content blocks as a JSON array.
func Blocks(blocks ...any) ([]byte, error) {
	b, err := json.Marshal(blocks)
	if err != nil {
		return nil, fmt.Errorf("encode content blocks: %w", err)
	}
	return b, nil
}

// TextArray encodes a single text block as a JSON array. It is the hot path of the echo
// tool, so it writes the array around one encoded string instead of marshalling a slice.
func TextArray(s string) ([]byte, error) {
	quoted, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode text block: %w", err)
	}
	const head, tail = `[{"type":"text","text":`, `}]`
	out := make([]byte, 0, len(head)+len(quoted)+len(tail))
	out = append(out, head...)
	out = append(out, quoted...)
	return append(out, tail...), nil
}
