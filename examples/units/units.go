package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/mcpmesh/mcpmesh/sdk/provider"
)

// metres is the length of each unit in metres.
var metres = map[string]float64{
	"mm": 0.001, "cm": 0.01, "m": 1, "km": 1000,
	"in": 0.0254, "ft": 0.3048, "yd": 0.9144, "mi": 1609.344,
}

type lengthIn struct {
	Value float64 `json:"value" jsonschema:"the length to convert"`
	From  string  `json:"from" jsonschema:"its unit: mm, cm, m, km, in, ft, yd or mi"`
	To    string  `json:"to" jsonschema:"the unit to convert to, from the same list"`
}

type converted struct {
	Value float64 `json:"value" jsonschema:"the converted value"`
	Unit  string  `json:"unit" jsonschema:"its unit"`
}

// convertLength converts between units of length. An unknown unit is the model's
// mistake, so it is a tool error that lists the units it may use.
func convertLength(_ context.Context, in lengthIn) (converted, error) {
	from, okFrom := metres[in.From]
	to, okTo := metres[in.To]
	if !okFrom || !okTo {
		return converted{}, provider.Errorf("unknown unit: use one of %s", strings.Join(slices.Sorted(maps.Keys(metres)), ", "))
	}
	return converted{Value: in.Value * from / to, Unit: in.To}, nil
}

type temperatureIn struct {
	Value float64 `json:"value" jsonschema:"the temperature to convert"`
	From  string  `json:"from" jsonschema:"its scale: C, F or K"`
	To    string  `json:"to" jsonschema:"the scale to convert to: C, F or K"`
}

// convertTemperature converts between Celsius, Fahrenheit and Kelvin, through Kelvin.
func convertTemperature(_ context.Context, in temperatureIn) (converted, error) {
	toKelvin := map[string]func(float64) float64{
		"C": func(v float64) float64 { return v + 273.15 },
		"F": func(v float64) float64 { return (v-32)*5/9 + 273.15 },
		"K": func(v float64) float64 { return v },
	}
	fromKelvin := map[string]func(float64) float64{
		"C": func(k float64) float64 { return k - 273.15 },
		"F": func(k float64) float64 { return (k-273.15)*9/5 + 32 },
		"K": func(k float64) float64 { return k },
	}
	in1, okFrom := toKelvin[in.From]
	out, okTo := fromKelvin[in.To]
	if !okFrom || !okTo {
		return converted{}, provider.Errorf("unknown scale: use C, F or K")
	}
	k := in1(in.Value)
	if k < 0 {
		return converted{}, provider.Errorf("%g %s is below absolute zero", in.Value, in.From)
	}
	return converted{Value: out(k), Unit: in.To}, nil
}

// newProvider builds the units provider.
func newProvider(logger *slog.Logger) (*provider.Server, error) {
	readOnly := true
	hints := provider.WithAnnotations(provider.ToolAnnotations{ReadOnlyHint: &readOnly})
	srv, err := provider.New(provider.Options{
		Name:         "units",
		Version:      "1.0.0",
		Instructions: "Converts lengths and temperatures.",
		Logger:       logger,
	},
		provider.Tool("convert_length", "Converts a length between metric and imperial units.", convertLength, hints),
		provider.Tool("convert_temperature", "Converts a temperature between Celsius, Fahrenheit and Kelvin.", convertTemperature, hints),
	)
	if err != nil {
		return nil, fmt.Errorf("build the units provider: %w", err)
	}
	return srv, nil
}
