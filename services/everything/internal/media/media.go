// Package media generates the small binary samples the everything provider serves: a PNG
// image and a WAV sound, built once at start-up from code rather than stored as files.
package media

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
)

// Assets holds the generated samples, raw and base64-encoded (the form MCP content uses).
type Assets struct {
	PNG       []byte
	PNGBase64 string
	WAV       []byte
	WAVBase64 string
}

// New generates the assets.
func New() (Assets, error) {
	img, err := tinyPNG()
	if err != nil {
		return Assets{}, err
	}
	wav := tinyWAV()
	return Assets{
		PNG:       img,
		PNGBase64: base64.StdEncoding.EncodeToString(img),
		WAV:       wav,
		WAVBase64: base64.StdEncoding.EncodeToString(wav),
	}, nil
}

// tinyPNG draws an 8x8 gradient: small enough for every test, large enough to be a real
// picture (a 1x1 pixel hides row and filter bugs in decoders).
func tinyPNG() ([]byte, error) {
	const side = 8
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	for y := range side {
		for x := range side {
			img.Set(x, y, color.RGBA{R: 255, G: uint8(x * 32), B: uint8(y * 32), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// WAV format of the sample: 8 kHz mono 16-bit PCM, 10 ms of a 440 Hz tone.
const (
	wavSampleRate    = 8000
	wavChannels      = 1
	wavBitsPerSample = 16
	wavSamples       = 80
)

// tinyWAV writes a canonical 44-byte RIFF/WAVE header followed by PCM samples.
func tinyWAV() []byte {
	const blockAlign = wavChannels * wavBitsPerSample / 8
	const dataSize = wavSamples * blockAlign
	buf := make([]byte, 0, 44+dataSize)
	le := binary.LittleEndian
	buf = append(buf, "RIFF"...)
	buf = le.AppendUint32(buf, 36+dataSize)
	buf = append(buf, "WAVE"...)
	buf = append(buf, "fmt "...)
	buf = le.AppendUint32(buf, 16) // fmt chunk size
	buf = le.AppendUint16(buf, 1)  // PCM
	buf = le.AppendUint16(buf, wavChannels)
	buf = le.AppendUint32(buf, wavSampleRate)
	buf = le.AppendUint32(buf, wavSampleRate*blockAlign) // byte rate
	buf = le.AppendUint16(buf, blockAlign)
	buf = le.AppendUint16(buf, wavBitsPerSample)
	buf = append(buf, "data"...)
	buf = le.AppendUint32(buf, dataSize)
	for i := range wavSamples {
		v := math.Sin(2 * math.Pi * 440 * float64(i) / wavSampleRate)
		buf = le.AppendUint16(buf, uint16(int16(v*8000)))
	}
	return buf
}
