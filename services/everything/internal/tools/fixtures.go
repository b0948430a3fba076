package tools

import (
	"context"

	mcpv1 "github.com/mcpmesh/mcpmesh/gen/mcpmesh/mcp/v1"

	"github.com/mcpmesh/mcpmesh/sdk/provider/content"
	"github.com/mcpmesh/mcpmesh/services/everything/internal/media"
	"github.com/mcpmesh/mcpmesh/services/everything/internal/resources"
)

// Texts the conformance suite documents for its fixtures.
const (
	conformanceSimpleText = "This is a simple text response for testing."
	conformanceErrorText  = "This tool intentionally returns an error for testing"
	conformanceEmbedURI   = "test://embedded-resource"
	conformanceEmbedText  = "This is an embedded resource content."
	conformanceMixedURI   = "test://mixed-content-resource"
	conformanceMixedJSON  = `{"test":"data","value":123}`
)

// fixtures are the fixed results, encoded once: the tools that return them do no work
// per call beyond wrapping the shared bytes (which nobody modifies).
type fixtures struct {
	simpleText          []byte
	image               []byte
	audio               []byte
	embedded            []byte
	conformanceEmbedded []byte
	mixed               []byte
	mixedAll            []byte
	links               []byte
	failText            string
}

func newFixtures(a media.Assets, linked []*mcpv1.Resource) (*fixtures, error) {
	img := content.Image(a.PNGBase64, "image/png")
	audio := content.Audio(a.WAVBase64, "audio/wav")
	static1 := content.Embedded(content.ResourceContents{URI: resources.Static1URI, MimeType: "text/plain", Text: resources.Static1Text})
	f := &fixtures{failText: "The fail tool always fails: this error is intentional."}
	var err error
	build := func(dst *[]byte, blocks ...any) {
		if err != nil {
			return
		}
		*dst, err = content.Blocks(blocks...)
	}
	build(&f.simpleText, content.Text(conformanceSimpleText))
	build(&f.image, img)
	build(&f.audio, audio)
	build(&f.embedded, static1)
	build(&f.conformanceEmbedded, content.Embedded(content.ResourceContents{URI: conformanceEmbedURI, MimeType: "text/plain", Text: conformanceEmbedText}))
	build(&f.mixed,
		content.Text("Multiple content types test:"),
		img,
		content.Embedded(content.ResourceContents{URI: conformanceMixedURI, MimeType: "application/json", Text: conformanceMixedJSON}))
	build(&f.mixedAll, content.Text("Mixed content: text, image, audio and an embedded resource."), img, audio, static1)
	links := []any{content.Text("Links to the provider's static resources:")}
	for _, r := range linked {
		links = append(links, content.Link(r.GetUri(), r.GetName(), r.GetDescription(), r.GetMimeType()))
	}
	build(&f.links, links...)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// fixed returns a handler that checks the (absent) arguments and returns content.
func fixed(c []byte) Handler {
	return func(_ context.Context, call *Call) (Outcome, error) {
		if err := decodeArgs(call.Arguments, &struct{}{}, false); err != nil {
			return invalidArgs(call, err)
		}
		return result(c), nil
	}
}

// fixedError returns a handler that always reports a tool error with text.
func fixedError(text string) Handler {
	return func(_ context.Context, _ *Call) (Outcome, error) { return errorResult(text) }
}

// contentText encodes one text block.
func contentText(s string) ([]byte, error) { return content.TextArray(s) }
